"""Writing an audit event (:func:`record`), in the caller's transaction."""

from __future__ import annotations

import getpass
import time
from dataclasses import dataclass
from typing import Any

from sqlalchemy import update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from gbconnect.audit.chain import GENESIS, digest
from gbconnect.audit.models import AuditEvent, AuditHead

CUSTOMER, THIRD_PARTY, STAFF, OPERATOR, SYSTEM = (
    "customer",
    "third party",
    "staff",
    "operator",
    "system",
)
KINDS = (CUSTOMER, THIRD_PARTY, STAFF, OPERATOR, SYSTEM)


@dataclass(frozen=True)
class Actor:
    """Who acts, and from where (for a page or API call, the client's address as
    :func:`gbconnect.web.security.client_address` reads it)."""

    kind: str
    name: str | None = None
    address: str | None = None

    @classmethod
    def operator(cls) -> Actor:
        """The person at the command line (their operating-system user)."""
        try:
            who = getpass.getuser()
        except (KeyError, OSError):
            who = None
        return cls(OPERATOR, who, "command line")


SYSTEM_ACTOR = Actor(SYSTEM, "gbconnect")


def _ensure_head(session: Session) -> None:
    """The head row, made when missing (the migration makes it; an emptied table does
    not keep it)."""
    values = {"id": 1, "seq": 0, "hash": GENESIS}
    if session.get_bind().dialect.name == "postgresql":
        session.execute(pg_insert(AuditHead).values(values).on_conflict_do_nothing())
    else:
        session.execute(sqlite_insert(AuditHead).values(values).on_conflict_do_nothing())


def record(
    session: Session,
    action: str,
    actor: Actor | None = None,
    target: tuple[str, object] | None = None,
    details: dict[str, Any] | None = None,
    at: float | None = None,
) -> AuditEvent:
    """Append one event to the chain, in ``session``'s transaction (it is kept exactly
    when the transaction commits). Appending locks the chain's head until the
    transaction ends: record late in a transaction, not before slow work."""
    actor = actor or SYSTEM_ACTOR
    if actor.kind not in KINDS:
        raise ValueError(f"unknown actor kind {actor.kind!r}")
    _ensure_head(session)
    seq, prev = session.execute(
        update(AuditHead)
        .where(AuditHead.id == 1)
        .values(seq=AuditHead.seq + 1)
        .returning(AuditHead.seq, AuditHead.hash)
    ).one()
    event = AuditEvent(
        seq=seq,
        at=time.time() if at is None else at,
        actor_kind=actor.kind,
        actor=(actor.name or None) and str(actor.name)[:256],
        address=(actor.address or None) and str(actor.address)[:64],
        action=action[:64],
        target_kind=None if target is None else str(target[0])[:32],
        target_id=None if target is None else str(target[1])[:64],
        details=details or None,
        prev_hash=prev,
    )
    event.hash = digest(prev, event)
    session.add(event)
    session.execute(update(AuditHead).where(AuditHead.id == 1).values(hash=event.hash))
    session.flush()
    return event


__all__ = ["CUSTOMER", "KINDS", "OPERATOR", "STAFF", "SYSTEM", "THIRD_PARTY", "Actor", "record"]
