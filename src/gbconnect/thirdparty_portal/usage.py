"""An application's API usage against the published limits (STANDARD.md section 7:
PG&E's 1 request/s per vendor, 2,000/hour and 20,000/day per client id).

The limiter that counts requests is another part of issue 12; until it is wired in,
nothing is measured and the portal says so.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.orm import Session

from gbconnect.registration import models as rm


@dataclass(frozen=True)
class Usage:
    """Requests counted in each window and the window's limit (None: no limit)."""

    window: str
    used: int
    limit: int | None


def api_usage(session: Session, app: rm.ApplicationInformation) -> list[Usage] | None:
    """The application's usage per window; None while nothing is measured."""
    return None


__all__ = ["Usage", "api_usage"]
