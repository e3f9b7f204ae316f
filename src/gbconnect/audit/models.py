"""The ``audit_event`` table (:mod:`gbconnect.audit`)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import JSON, BigInteger, Float, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from gbconnect.db import Base


class AuditEvent(Base):
    """One thing done, by whom, from where, to what; ``hash`` chains it to the event
    before it (``seq - 1``)."""

    __tablename__ = "audit_event"
    __table_args__ = (
        Index("ix_audit_event_at", "at"),
        Index("ix_audit_event_action", "action"),
        Index("ix_audit_event_target", "target_kind", "target_id"),
    )

    #: 1, 2, 3, ... with no gap: a missing number is a deleted event.
    seq: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    #: When (epoch seconds, microseconds kept).
    at: Mapped[float] = mapped_column(Float)
    #: customer, third party, staff, operator (the command line) or system.
    actor_kind: Mapped[str] = mapped_column(String(16))
    #: Who, in words that stay meaningful when the account is gone: "customer 42
    #: (alice)", a client id, a staff email, an operating-system user.
    actor: Mapped[str | None] = mapped_column(String(256))
    #: From where: the client's address (gbconnect.web.security.client_address).
    address: Mapped[str | None] = mapped_column(String(64))
    #: What, as a dotted name: sign_in.ok, consent.granted, application.approved ...
    action: Mapped[str] = mapped_column(String(64))
    #: To what: a kind (authorization, application, customer, ...) and its id.
    target_kind: Mapped[str | None] = mapped_column(String(32))
    target_id: Mapped[str | None] = mapped_column(String(64))
    #: Anything else worth keeping (a reason, the scope granted, the old status).
    details: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))


class AuditHead(Base):
    """The end of the chain: the last ``seq`` and its hash, one row (id 1). Appending
    updates it first, which serializes appenders (a row lock on PostgreSQL, the write
    lock on SQLite) until their transactions end; the chain itself is checked from the
    events, never from here."""

    __tablename__ = "audit_head"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    seq: Mapped[int] = mapped_column(BigInteger)
    hash: Mapped[str] = mapped_column(String(64))


__all__ = ["AuditEvent", "AuditHead"]
