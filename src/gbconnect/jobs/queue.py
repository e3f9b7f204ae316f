"""The notification queue: claim a due notification, POST it, record what happened.

The ``notification`` table is the queue on SQLite and PostgreSQL alike. A worker
claims due rows by leasing them (``lease_until``, ``lease_owner``) in one UPDATE, with
``FOR UPDATE SKIP LOCKED`` on PostgreSQL so that concurrent workers take different
rows without waiting; a lease outlives the longest possible attempt, so a row is
delivered by one worker at a time, and a worker killed mid-delivery leaves a row that
another takes up when its lease ends (at-least-once delivery; the ``Idempotency-Key``
header, the same on every attempt, lets the receiver drop the duplicate).

Each attempt is logged in ``notification_attempt`` (GBA PSH004: a failed POST is
detected and recorded), then the row is delivered, dead (a 4xx other than 408/429,
a refused URI, or the retry window over) or scheduled again
(:mod:`gbconnect.jobs.retry`).
"""

from __future__ import annotations

import random
import time
from dataclasses import dataclass

import httpx
from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session

from gbconnect import __version__
from gbconnect.config import Settings
from gbconnect.espi.batchlist import batch_list
from gbconnect.jobs.expand import cancel_queued, listening
from gbconnect.jobs.retry import next_attempt
from gbconnect.notify.delivery import Attempt, NotifyUriError, check_notify_uri, deliver
from gbconnect.notify.models import (
    DEAD,
    DELIVERED,
    QUEUED,
    Notification,
    NotificationAttempt,
)
from gbconnect.notify.signing import signature_headers
from gbconnect.registration import models as rm
from gbconnect.registration.signing_keys import signing_keys

#: The header naming a notification, the same on each of its attempts.
IDEMPOTENCY_HEADER = "Idempotency-Key"


@dataclass(frozen=True)
class Job:
    """A claimed notification: everything needed to POST it without the database."""

    id: int
    application_id: int
    notify_uri: str
    uris: list[str]
    idempotency_key: str
    attempts: int
    created_at: float
    keys: list[bytes]


def lease_seconds(settings: Settings) -> float:
    """How long a claim lasts: longer than any attempt (connect, send, read)."""
    return settings.notify_connect_timeout + 2 * settings.notify_read_timeout + 5


def claim(session: Session, settings: Settings, owner: str, now: float, limit: int) -> list[Job]:
    """Lease up to ``limit`` due notifications to ``owner`` (the caller commits).

    A notification whose third party is no longer notified (on hold, revoked, no
    notify URI) is cancelled instead of returned."""
    free = or_(Notification.lease_until.is_(None), Notification.lease_until < now)
    due = (
        select(Notification.id)
        .where(Notification.state == QUEUED, Notification.next_attempt_at <= now, free)
        .order_by(Notification.next_attempt_at, Notification.id)
        .limit(limit)
    )
    if session.get_bind().dialect.name == "postgresql":
        due = due.with_for_update(skip_locked=True)
    rows = session.execute(
        update(Notification)
        .where(Notification.id.in_(due.scalar_subquery()), Notification.state == QUEUED, free)
        .values(lease_until=now + lease_seconds(settings), lease_owner=owner)
        .returning(
            Notification.id,
            Notification.application_id,
            Notification.uris,
            Notification.idempotency_key,
            Notification.attempts,
            Notification.created_at,
        )
        .execution_options(synchronize_session=False)
    ).all()
    jobs: list[Job] = []
    for nid, app_id, uris, key, attempts, created in sorted(rows):
        app = session.get(rm.ApplicationInformation, app_id)
        if app is None or not listening(app) or app.notify_uri is None:
            why = "no notify URI" if app is not None and not app.notify_uri else None
            status = rm.STATUS_NAMES.get(app.data_custodian_status, "?") if app else "gone"
            cancel_queued(session, app_id, why or f"third party {status}", now)
            continue
        keys = signing_keys(app, now)
        jobs.append(Job(nid, app_id, app.notify_uri, list(uris), key, attempts, created, keys))
    return jobs


def send(job: Job, settings: Settings, client: httpx.Client | None = None) -> Attempt:
    """POST the job's BatchList once, signed, with its idempotency key (never raises
    for the receiver's fault; a URI now resolving to a private address is refused)."""
    try:
        url = check_notify_uri(job.notify_uri, settings.notify_private_allowed)
    except NotifyUriError as exc:
        return Attempt("dead", None, 0, f"notify URI refused: {exc}")
    body = batch_list(job.uris)
    headers = signature_headers(job.keys, body, int(time.time()))
    headers[IDEMPOTENCY_HEADER] = job.idempotency_key
    headers["User-Agent"] = f"gbconnect/{__version__} (notification)"
    return deliver(
        url,
        body,
        headers,
        connect_timeout=settings.notify_connect_timeout,
        read_timeout=settings.notify_read_timeout,
        client=client,
    )


def record(
    session: Session,
    settings: Settings,
    job: Job,
    attempt: Attempt,
    now: float,
    rng: random.Random | None = None,
) -> str:
    """Log ``attempt`` and move the notification on; returns its new state. A row
    cancelled meanwhile stays cancelled (the attempt is still logged)."""
    session.add(
        NotificationAttempt(
            notification_id=job.id,
            at=now,
            outcome=attempt.outcome,
            status=attempt.status,
            latency_ms=attempt.latency_ms,
            error=attempt.error[:500] if attempt.error else None,
        )
    )
    attempts = job.attempts + 1
    values: dict[str, object] = {
        "attempts": attempts,
        "last_status": attempt.status,
        "last_error": attempt.error[:500] if attempt.error else None,
        "lease_until": None,
        "lease_owner": None,
    }
    if attempt.outcome == "delivered":
        state = DELIVERED
        values.update(state=DELIVERED, finished_at=now)
    elif attempt.outcome == "dead":
        state = DEAD
        values.update(state=DEAD, finished_at=now)
        if attempt.status is not None:
            values["last_error"] = f"HTTP {attempt.status}: refused by the receiver, not retried"
    else:
        retry = settings.notify_retry_hours * 3600
        at = next_attempt(job.created_at, attempts, now, retry, rng)
        if at is None:
            state = DEAD
            values.update(
                state=DEAD,
                finished_at=now,
                last_error=(
                    f"gave up after {attempts} attempt(s) in "
                    f"{settings.notify_retry_hours:g} h: {attempt.error}"
                )[:500],
            )
        else:
            state = QUEUED
            values.update(next_attempt_at=at)
    session.execute(
        update(Notification)
        .where(Notification.id == job.id, Notification.state == QUEUED)
        .values(**values)
        .execution_options(synchronize_session=False)
    )
    return state


__all__ = ["IDEMPOTENCY_HEADER", "Job", "claim", "lease_seconds", "record", "send"]
