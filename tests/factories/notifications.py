"""Notification jobs and their attempts in any state, written directly with the models
(REQ.21 FB_39; the worker that would make them is not needed to test what is seen)."""

from __future__ import annotations

import itertools

from sqlalchemy.orm import Session

from gbconnect.config import Settings
from gbconnect.notify.models import QUEUED, Notification, NotificationAttempt
from tests.factories.parties import make_third_party

URI = "https://dc.example/DataCustodian/espi/1_1/resource/Batch/Subscription/%d"
_keys = itertools.count(1)


def make_application(session: Session, settings: Settings, name: str) -> tuple[int, str]:
    """An approved third party: its ApplicationInformation id and client id."""
    app = make_third_party(session, settings, name=name).application
    return app.id, app.client_id


def make_job(
    session: Session,
    application_id: int,
    *,
    state: str = QUEUED,
    created_at: float = 1_000_000.0,
    uris: list[str] | None = None,
    reason: str = "NewData",
    **fields: object,
) -> Notification:
    """A notification job of ``application_id`` in ``state`` (flushed: its id is set)."""
    values: dict[str, object] = {
        "attempts": 0,
        "next_attempt_at": created_at,
        "finished_at": None if state == QUEUED else created_at + 1,
    }
    values.update(fields)
    job = Notification(
        application_id=application_id,
        reason=reason,
        uris=uris or [URI % next(_keys)],
        idempotency_key=f"test-key-{next(_keys)}",
        state=state,
        created_at=created_at,
        **values,
    )
    session.add(job)
    session.flush()
    return job


def make_attempt(
    session: Session,
    job: Notification,
    at: float,
    outcome: str,
    status: int | None = None,
    error: str | None = None,
    latency_ms: int = 12,
) -> NotificationAttempt:
    """One logged attempt of ``job``."""
    attempt = NotificationAttempt(
        notification_id=job.id,
        at=at,
        outcome=outcome,
        status=status,
        latency_ms=latency_ms,
        error=error,
    )
    session.add(attempt)
    session.flush()
    return attempt
