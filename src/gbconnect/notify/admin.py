"""What an operator sees and does with the notification jobs (REQ.21 FB_39, GBA PSH004).

GBA PSH004 asks the Data Custodian to detect a failed notification POST; this module
makes those failures visible and actionable: :func:`status` (how many jobs in each
state, how old the oldest waiting one is, what the last hour of attempts came to, and
which third parties fail), :func:`list_notifications` and :func:`attempts_of` (the
delivery log), :func:`resend` (a new job with the same URIs), :func:`replay` (dead jobs
queued again, same idempotency key), :func:`cancel_queued` (a third party put on hold
or revoked) and :func:`purge` (the delivery log's retention).

The rules of the worker that claims jobs are kept: a job is claimable when it is
``queued``, its ``next_attempt_at`` has passed and it holds no live lease, so a job
queued again here (``next_attempt_at = now``, lease cleared) is taken at the worker's
next poll. Every function works in the caller's session; the caller commits.

Applications are named by ``application_id`` only: this package sits below
``registration`` (docs/architecture.md), the command line resolves client ids.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import Update, delete, func, select, update
from sqlalchemy.orm import Session

from gbconnect.errors import InputError
from gbconnect.notify.models import (
    CANCELLED,
    DEAD,
    DELIVERED,
    QUEUED,
    STATES,
    Notification,
    NotificationAttempt,
)

#: The outcomes of an attempt (gbconnect.notify.delivery.Outcome).
OUTCOMES = ("delivered", "retry", "dead")
#: The window of :attr:`NotifyStatus.attempts_last_hour`, seconds.
HOUR = 3600.0
#: The ``reason`` of a job made by :func:`resend`.
RESEND = "resend"


class NotifyAdminError(InputError):
    """An operator's request about notifications cannot be done as asked."""


class UnknownNotification(NotifyAdminError):
    """No notification has that id."""

    status = 404
    error = "not_found"


class WrongState(NotifyAdminError):
    """The notification is not in a state that allows the action (replaying a
    delivered job, resending a queued one)."""

    status = 409
    error = "conflict"


@dataclass(frozen=True)
class ApplicationStatus:
    """One third party's jobs: how many wait, how many are dead, and the error of its
    latest failed attempt (``None`` when none is logged)."""

    application_id: int
    queued: int
    dead: int
    last_error: str | None
    last_error_at: float | None


@dataclass(frozen=True)
class NotifyStatus:
    """The notification jobs at ``now``.

    ``counts``: jobs per state (every state present); ``due``: queued jobs a worker
    may claim now; ``leased``: jobs a worker holds (being delivered);
    ``oldest_queued_age``: seconds since the oldest queued job was made (``None`` when
    none waits); ``attempts_last_hour``: attempts of the last hour per outcome (every
    outcome present); ``applications``: per third party that has jobs, by id.
    """

    counts: dict[str, int]
    due: int
    leased: int
    oldest_queued_age: float | None
    attempts_last_hour: dict[str, int]
    applications: list[ApplicationStatus]


def new_idempotency_key() -> str:
    """A fresh ``Idempotency-Key`` value: a random UUID (RFC 9562 version 4) in 32 hex
    digits, the form the worker gives the notifications it makes."""
    return uuid.uuid4().hex


def counts_by_state(session: Session) -> dict[str, int]:
    """How many jobs are in each state; every state is present, 0 when none."""
    counts = dict.fromkeys(STATES, 0)
    rows = session.execute(
        select(Notification.state, func.count()).group_by(Notification.state)
    ).all()
    for state, count in rows:
        counts[state] = int(count)
    return counts


def oldest_queued_age(session: Session, now: float) -> float | None:
    """Seconds since the oldest queued job was made; ``None`` when none is queued."""
    oldest = session.scalar(
        select(func.min(Notification.created_at)).where(Notification.state == QUEUED)
    )
    return None if oldest is None else max(0.0, now - float(oldest))


def attempts_since(session: Session, since: float) -> dict[str, int]:
    """Attempts made at or after ``since`` per outcome; every outcome present."""
    counts = dict.fromkeys(OUTCOMES, 0)
    rows = session.execute(
        select(NotificationAttempt.outcome, func.count())
        .where(NotificationAttempt.at >= since)
        .group_by(NotificationAttempt.outcome)
    ).all()
    for outcome, count in rows:
        counts[outcome] = int(count)
    return counts


def status(session: Session, now: float) -> NotifyStatus:
    """The state of the notification jobs at ``now`` (GBA PSH004: failures seen)."""
    queued = Notification.state == QUEUED
    due = session.scalar(
        select(func.count()).where(
            queued,
            Notification.next_attempt_at <= now,
            (Notification.lease_until.is_(None)) | (Notification.lease_until < now),
        )
    )
    leased = session.scalar(select(func.count()).where(queued, Notification.lease_until >= now))
    return NotifyStatus(
        counts=counts_by_state(session),
        due=int(due or 0),
        leased=int(leased or 0),
        oldest_queued_age=oldest_queued_age(session, now),
        attempts_last_hour=attempts_since(session, now - HOUR),
        applications=_applications(session),
    )


def _applications(session: Session) -> list[ApplicationStatus]:
    per_app = session.execute(
        select(
            Notification.application_id,
            func.count().filter(Notification.state == QUEUED),
            func.count().filter(Notification.state == DEAD),
        )
        .group_by(Notification.application_id)
        .order_by(Notification.application_id)
    ).all()
    latest = (
        select(func.max(NotificationAttempt.id).label("attempt_id"))
        .join(Notification, Notification.id == NotificationAttempt.notification_id)
        .where(NotificationAttempt.error.is_not(None))
        .group_by(Notification.application_id)
        .subquery()
    )
    errors = {
        app_id: (error, at)
        for app_id, error, at in session.execute(
            select(Notification.application_id, NotificationAttempt.error, NotificationAttempt.at)
            .join(Notification, Notification.id == NotificationAttempt.notification_id)
            .join(latest, latest.c.attempt_id == NotificationAttempt.id)
        )
    }
    return [
        ApplicationStatus(
            application_id=app_id,
            queued=int(queued),
            dead=int(dead),
            last_error=errors.get(app_id, (None, None))[0],
            last_error_at=errors.get(app_id, (None, None))[1],
        )
        for app_id, queued, dead in per_app
    ]


def list_notifications(
    session: Session,
    *,
    state: str | None = None,
    application_id: int | None = None,
    limit: int = 50,
) -> list[Notification]:
    """The newest ``limit`` jobs, newest first, of a ``state`` and a third party when
    given. An unknown state is a :class:`NotifyAdminError`."""
    if state is not None and state not in STATES:
        raise NotifyAdminError(f"unknown state {state!r}; one of {', '.join(STATES)}")
    if limit < 1:
        raise NotifyAdminError("limit must be at least 1")
    query = select(Notification).order_by(Notification.id.desc()).limit(limit)
    if state is not None:
        query = query.where(Notification.state == state)
    if application_id is not None:
        query = query.where(Notification.application_id == application_id)
    return list(session.scalars(query))


def get(session: Session, notification_id: int) -> Notification:
    """The job ``notification_id``; :class:`UnknownNotification` when there is none."""
    found = session.get(Notification, notification_id)
    if found is None:
        raise UnknownNotification(f"no notification with id {notification_id}")
    return found


def attempts_of(session: Session, notification_id: int) -> list[NotificationAttempt]:
    """The delivery log of job ``notification_id``, oldest attempt first (GBA PSH004);
    :class:`UnknownNotification` when there is no such job."""
    get(session, notification_id)
    return list(
        session.scalars(
            select(NotificationAttempt)
            .where(NotificationAttempt.notification_id == notification_id)
            .order_by(NotificationAttempt.at, NotificationAttempt.id)
        )
    )


def resend(session: Session, notification_id: int, now: float) -> int:
    """Queue a new job telling the same third party of the same URIs, with a new
    idempotency key and reason ``resend``; the id of the new job.

    A queued job is still being tried and is not resent. A cancelled one (its third
    party was put on hold or revoked) may be, once the third party is back: were it
    still held, the worker cancels the new job too.
    """
    original = get(session, notification_id)
    if original.state not in (DELIVERED, DEAD, CANCELLED):
        raise WrongState(
            f"notification {notification_id} is {original.state}; "
            "only a delivered, dead or cancelled notification can be resent"
        )
    job = Notification(
        application_id=original.application_id,
        event_id=original.event_id,
        reason=RESEND,
        uris=list(original.uris),
        idempotency_key=new_idempotency_key(),
        state=QUEUED,
        attempts=0,
        created_at=now,
        next_attempt_at=now,
    )
    session.add(job)
    session.flush()
    return job.id


def replay(
    session: Session,
    *,
    application_id: int | None = None,
    ids: Sequence[int] | None = None,
    now: float,
) -> int:
    """Queue dead jobs again: attempts 0, due ``now``, lease cleared, the same reason
    and the same idempotency key (a receiver that got one after all drops the
    duplicate); how many were queued. ``created_at`` becomes ``now``: the worker
    counts the retry window (``GBCONNECT_NOTIFY_RETRY_HOURS``) from it, so a replayed
    job is retried for a whole window again, not dead after its first failure.

    With ``ids``, exactly those jobs, each of which must exist, be dead and (with
    ``application_id``) belong to that third party, else nothing is changed; without,
    every dead job of ``application_id``, or every dead job when it is ``None``.
    """
    query = update(Notification).where(Notification.state == DEAD)
    if ids is not None:
        wanted = sorted(set(ids))
        if not wanted:
            return 0
        found = {
            n.id: n
            for n in session.scalars(select(Notification).where(Notification.id.in_(wanted)))
        }
        for notification_id in wanted:
            job = found.get(notification_id)
            if job is None:
                raise UnknownNotification(f"no notification with id {notification_id}")
            if application_id is not None and job.application_id != application_id:
                raise WrongState(f"notification {notification_id} belongs to another third party")
            if job.state != DEAD:
                raise WrongState(
                    f"notification {notification_id} is {job.state}; "
                    "only a dead notification can be replayed"
                )
        query = query.where(Notification.id.in_(wanted))
    if application_id is not None:
        query = query.where(Notification.application_id == application_id)
    return _update(
        session,
        query,
        state=QUEUED,
        attempts=0,
        created_at=now,
        next_attempt_at=now,
        lease_until=None,
        lease_owner=None,
        finished_at=None,
    )


def cancel_queued(session: Session, application_id: int, reason: str, now: float) -> int:
    """Cancel every queued job of a third party (put on hold or revoked: it is told
    nothing more), ``last_error`` saying ``reason``; how many were cancelled.

    A job a worker holds is cancelled too and its lease cleared: the worker's own
    update of that job must then find it no longer queued under its lease.
    """
    return _update(
        session,
        update(Notification).where(
            Notification.application_id == application_id, Notification.state == QUEUED
        ),
        state=CANCELLED,
        last_error=reason[:500],
        finished_at=now,
        lease_until=None,
        lease_owner=None,
    )


def _update(session: Session, query: Update, **values: object) -> int:
    """Run ``query`` setting ``values``; how many rows it changed. The session's copies
    of jobs forget those columns, read again on next use (``expire_on_commit`` is off
    in gbconnect's sessions, so nothing else would refresh them)."""
    result = session.execute(query.values(**values).execution_options(synchronize_session=False))
    for obj in list(session.identity_map.values()):
        if isinstance(obj, Notification):
            session.expire(obj, list(values))
    return int(result.rowcount)  # type: ignore[attr-defined]


def purge(session: Session, older_than: float) -> int:
    """Apply the delivery log's retention at the cutoff ``older_than`` (epoch
    seconds): delete every attempt made before it and every delivered or cancelled job
    finished before it (with its attempts); how many jobs were deleted.

    Queued and dead jobs are kept whatever their age: a dead job waits for an
    operator (:func:`replay` or :func:`resend`).
    """
    finished = select(Notification.id).where(
        Notification.state.in_((DELIVERED, CANCELLED)),
        Notification.finished_at < older_than,
    )
    session.execute(
        delete(NotificationAttempt)
        .where(
            (NotificationAttempt.at < older_than)
            | NotificationAttempt.notification_id.in_(finished)
        )
        .execution_options(synchronize_session="fetch")
    )
    result = session.execute(
        delete(Notification)
        .where(
            Notification.state.in_((DELIVERED, CANCELLED)),
            Notification.finished_at < older_than,
        )
        .execution_options(synchronize_session="fetch")
    )
    return int(result.rowcount)  # type: ignore[attr-defined]


__all__ = [
    "HOUR",
    "OUTCOMES",
    "RESEND",
    "ApplicationStatus",
    "NotifyAdminError",
    "NotifyStatus",
    "UnknownNotification",
    "WrongState",
    "attempts_of",
    "attempts_since",
    "cancel_queued",
    "counts_by_state",
    "get",
    "list_notifications",
    "new_idempotency_key",
    "oldest_queued_age",
    "purge",
    "replay",
    "resend",
    "status",
]
