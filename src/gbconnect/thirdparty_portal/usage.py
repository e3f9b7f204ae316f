"""An application's API usage against the published limits (STANDARD.md section 7:
PG&E's 1 request/s per vendor, 2,000/hour and 20,000/day per client id).

Read from the rate limiter's counts (:func:`gbconnect.ratelimit.limits.usage`), in
the serving process (on SQLite the counts live there). None when the limits are off:
nothing is counted then, and the portal says so.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.orm import Session

from gbconnect.config import Settings
from gbconnect.ratelimit import limits
from gbconnect.registration import models as rm


@dataclass(frozen=True)
class Usage:
    """Requests counted in each window and the window's limit (None: no limit)."""

    window: str
    used: int
    limit: int | None


#: How the portal names each limit's window.
WINDOWS = {
    "vendor-second": "this second, all your company's applications",
    "client-hour": "this hour",
    "client-day": "today (UTC)",
}


def api_usage(
    session: Session, app: rm.ApplicationInformation, settings: Settings
) -> list[Usage] | None:
    """The application's usage per window; None when the limits are off."""
    if not settings.rate_limits_on:
        return None
    counts = limits.usage(session, app.client_id, settings, app.company_id)
    rows = counts["limits"]
    assert isinstance(rows, list)
    return [
        Usage(WINDOWS.get(str(r["name"]), str(r["name"])), int(r["used"]), int(r["limit"]))
        for r in rows
    ]


__all__ = ["Usage", "api_usage"]
