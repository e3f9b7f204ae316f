"""The notification tables: the outbox, the delivery jobs and their attempts.

Three tables, the same on SQLite and PostgreSQL (migration 0004):

- ``notify_event``: one row per :mod:`gbconnect.notify.events` value, written by
  :func:`gbconnect.notify.outbox.publish` in the transaction of the change that caused
  it (a crash between commit and delivery loses nothing: the row is committed with
  the change or not at all). ``expanded_at`` is set when the event was turned into
  notifications.
- ``notification``: one POST of a ``BatchList`` (REQ.21 FB_39) to one third party,
  with its idempotency key, its state (``queued``, ``delivered``, ``dead``,
  ``cancelled``), the number of attempts and when the next may start. A worker leases
  a row (``lease_until``) while it delivers it, so a job is delivered by one worker at
  a time and a killed worker's job is taken up again when its lease ends.
- ``notification_attempt``: the delivery log (GBA PSH004: a failed POST is detected
  and recorded): time, HTTP status, latency and error of every attempt.

Times are epoch seconds with fractions (a notification's age is measured in
milliseconds).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import JSON, BigInteger, Float, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from gbconnect.db import Base

QUEUED, DELIVERED, DEAD, CANCELLED = "queued", "delivered", "dead", "cancelled"
STATES = (QUEUED, DELIVERED, DEAD, CANCELLED)


class NotifyEvent(Base):
    """An event recorded with the transaction that caused it (the transactional outbox)."""

    __tablename__ = "notify_event"
    __table_args__ = (Index("ix_notify_event_pending", "expanded_at", "id"),)

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    kind: Mapped[str] = mapped_column(String(40))
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_at: Mapped[float] = mapped_column(Float)
    expanded_at: Mapped[float | None] = mapped_column(Float)


class Notification(Base):
    """One BatchList to POST to one third party's notify URI, until delivered or dead."""

    __tablename__ = "notification"
    __table_args__ = (
        Index("ix_notification_due", "state", "next_attempt_at"),
        Index("ix_notification_application", "application_id", "id"),
    )

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    application_id: Mapped[int] = mapped_column(
        ForeignKey("application_information.id", ondelete="CASCADE")
    )
    event_id: Mapped[int | None] = mapped_column(
        ForeignKey("notify_event.id", ondelete="SET NULL"), index=True
    )
    #: What the notification tells of: an event kind, "resend" or "replay".
    reason: Mapped[str] = mapped_column(String(40))
    #: The resource URIs of the BatchList (its body is built from them).
    uris: Mapped[list[str]] = mapped_column(JSON)
    #: Sent as the ``Idempotency-Key`` header: the same on every retry of this job.
    idempotency_key: Mapped[str] = mapped_column(String(64), unique=True)
    state: Mapped[str] = mapped_column(String(16), default=QUEUED)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[float] = mapped_column(Float)
    next_attempt_at: Mapped[float] = mapped_column(Float)
    #: Set while a worker delivers it; another worker takes it only once this passed.
    lease_until: Mapped[float | None] = mapped_column(Float)
    lease_owner: Mapped[str | None] = mapped_column(String(64))
    finished_at: Mapped[float | None] = mapped_column(Float)
    last_status: Mapped[int | None] = mapped_column(Integer)
    last_error: Mapped[str | None] = mapped_column(String(500))


class NotificationAttempt(Base):
    """One POST of a notification and what came of it (the delivery log)."""

    __tablename__ = "notification_attempt"
    __table_args__ = (Index("ix_notification_attempt_at", "at"),)

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    notification_id: Mapped[int] = mapped_column(
        ForeignKey("notification.id", ondelete="CASCADE"), index=True
    )
    at: Mapped[float] = mapped_column(Float)
    #: delivered, retry or dead (gbconnect.notify.delivery.Outcome).
    outcome: Mapped[str] = mapped_column(String(16))
    status: Mapped[int | None] = mapped_column(Integer)
    latency_ms: Mapped[int] = mapped_column(Integer)
    error: Mapped[str | None] = mapped_column(String(500))


__all__ = [
    "CANCELLED",
    "DEAD",
    "DELIVERED",
    "QUEUED",
    "STATES",
    "Notification",
    "NotificationAttempt",
    "NotifyEvent",
]
