"""The audit log: who did what, when, from where (sign-ins, consents, revocations,
approvals, credential and certificate changes, administrative actions).

Append-only in the database (:mod:`gbconnect.audit.models`: triggers refuse UPDATE
and DELETE on both SQLite and PostgreSQL, and no code path issues them) and chained:
each event carries the SHA-256 of the one before and of itself
(:mod:`gbconnect.audit.chain`), so a row changed or removed behind the application's
back is found by ``gbconnect audit verify``. Recording is :func:`record`, in the
caller's transaction: the event exists exactly when what it tells of was committed.
"""

from __future__ import annotations

from gbconnect.audit.record import Actor, record

__all__ = ["Actor", "record"]
