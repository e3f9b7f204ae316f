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
from collections.abc import Sequence
from dataclasses import dataclass
from typing import cast

import httpx
from sqlalchemy import Table, bindparam, or_, select, update
from sqlalchemy.orm import Session

from gbconnect import __version__
from gbconnect.config import Settings
from gbconnect.espi.batchlist import batch_list
from gbconnect.jobs.expand import listening, load_applications
from gbconnect.jobs.retry import next_attempt
from gbconnect.notify.admin import cancel_queued
from gbconnect.notify.delivery import Attempt, NotifyUriError, deliver, resolve_notify_uri
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
    apps = load_applications(session, (row[1] for row in rows))
    for nid, app_id, uris, key, attempts, created in sorted(rows):
        app = apps.get(app_id)
        if app is None or not listening(app) or app.notify_uri is None:
            why = "no notify URI" if app is not None and not app.notify_uri else None
            status = rm.STATUS_NAMES.get(app.data_custodian_status, "?") if app else "gone"
            cancel_queued(session, app_id, why or f"third party {status}", now)
            continue
        keys = signing_keys(app, now)
        jobs.append(Job(nid, app_id, app.notify_uri, list(uris), key, attempts, created, keys))
    return jobs


def send(job: Job, settings: Settings, client: httpx.Client | None = None) -> Attempt:
    """POST the job's BatchList once, signed, with its idempotency key, to the address
    its URI resolves to now (never raises for the receiver's fault; a URI now resolving
    to a private address is refused, one that does not resolve is tried again)."""
    try:
        target = resolve_notify_uri(job.notify_uri, settings.notify_private_allowed)
    except NotifyUriError as exc:
        if "does not resolve" in str(exc):  # DNS may answer later
            return Attempt("retry", None, 0, str(exc))
        return Attempt("dead", None, 0, f"notify URI refused: {exc}")
    body = batch_list(job.uris)
    headers = signature_headers(job.keys, body, int(time.time()))
    headers[IDEMPOTENCY_HEADER] = job.idempotency_key
    headers["User-Agent"] = f"gbconnect/{__version__} (notification)"
    headers["Host"] = target.host
    return deliver(
        target.url,
        body,
        headers,
        connect_timeout=settings.notify_connect_timeout,
        read_timeout=settings.notify_read_timeout,
        client=client,
        sni=target.sni,
    )


def record(
    session: Session,
    settings: Settings,
    results: Sequence[tuple[Job, Attempt, float]],
    rng: random.Random | None = None,
) -> list[str]:
    """Log each attempt and move its notification on, in the caller's transaction;
    returns the new states. A row cancelled meanwhile stays cancelled (its attempt is
    still logged).

    A delivery to a third party whose earlier notifications failed means its receiver
    is back: those are made due at once rather than at their backoff's end.
    """
    if not results:
        return []
    log: list[dict[str, object]] = []
    moves: list[dict[str, object]] = []
    states: list[str] = []
    recovered: set[int] = set()
    for job, attempt, now in results:
        error = attempt.error[:500] if attempt.error else None
        log.append(
            {
                "notification_id": job.id,
                "at": now,
                "outcome": attempt.outcome,
                "status": attempt.status,
                "latency_ms": attempt.latency_ms,
                "error": error,
            }
        )
        attempts = job.attempts + 1
        state, finished, due = QUEUED, None, now
        if attempt.outcome == "delivered":
            state, finished = DELIVERED, now
            recovered.add(job.application_id)
        elif attempt.outcome == "dead":
            state, finished = DEAD, now
            if attempt.status is not None:
                error = f"HTTP {attempt.status}: refused by the receiver, not retried"
        else:
            retry = settings.notify_retry_hours * 3600
            at = next_attempt(
                job.created_at, attempts, now, retry, rng, settings.notify_first_retry
            )
            if at is None:
                state, finished = DEAD, now
                error = (
                    f"gave up after {attempts} attempt(s) in "
                    f"{settings.notify_retry_hours:g} h: {attempt.error}"
                )[:500]
            else:
                due = at
        states.append(state)
        moves.append(
            {
                "b_id": job.id,
                "state": state,
                "attempts": attempts,
                "last_status": attempt.status,
                "last_error": error,
                "finished_at": finished,
                "next_attempt_at": due,
            }
        )
    table = cast(Table, Notification.__table__)
    conn = session.connection()
    conn.execute(cast(Table, NotificationAttempt.__table__).insert(), log)
    conn.execute(
        table.update()
        .where(table.c.id == bindparam("b_id"), table.c.state == QUEUED)
        .values(
            state=bindparam("state"),
            attempts=bindparam("attempts"),
            last_status=bindparam("last_status"),
            last_error=bindparam("last_error"),
            finished_at=bindparam("finished_at"),
            next_attempt_at=bindparam("next_attempt_at"),
            lease_until=None,
            lease_owner=None,
        ),
        moves,
    )
    if recovered:
        now = max(t for _, _, t in results)
        conn.execute(
            table.update()
            .where(
                table.c.state == QUEUED,
                table.c.application_id.in_(sorted(recovered)),
                table.c.attempts > 0,
                table.c.next_attempt_at > now,
                or_(table.c.lease_until.is_(None), table.c.lease_until < now),
            )
            .values(next_attempt_at=now)
        )
    return states


__all__ = ["IDEMPOTENCY_HEADER", "Job", "claim", "lease_seconds", "record", "send"]
