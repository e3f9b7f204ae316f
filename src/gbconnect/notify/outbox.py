"""The seam between what changes and what is notified (REQ.21 FB_39).

A service that changes what a third party may see calls :func:`publish` with the
session of its change. The event is held with that session's transaction: it is
released when the transaction commits and dropped when it rolls back (a savepoint's
rollback drops only what was published inside it), so a notification never tells of
a change that did not happen.

Each event is also written as a ``notify_event`` row just before the transaction
commits, in that transaction (the transactional outbox): the change and the record
that a third party must hear of it are committed together or not at all, so a crash
after the commit loses no notification. The job engine (:mod:`gbconnect.jobs`) turns
those rows into deliveries.

Released events also go to the sinks registered with :func:`subscribe` (the process's
listeners; :func:`recorded` collects them for a test).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from sqlalchemy import event as sa_event
from sqlalchemy import text
from sqlalchemy.orm import Session, SessionTransaction

from gbconnect.notify.events import Event, to_row
from gbconnect.notify.models import NotifyEvent

Sink = Callable[[Event], None]

_PENDING = "gbconnect.notify.pending"
#: The PostgreSQL channel notified by a commit that wrote events: worker processes
#: LISTEN on it and wake at once (the notification is sent only if the commit is).
CHANNEL = "gbconnect_jobs"
_log = logging.getLogger(__name__)
_sinks: list[Sink] = []
_lock = threading.Lock()


def publish(session: Session, event: Event) -> None:
    """Record ``event`` with the current transaction of ``session``."""
    held: list[tuple[SessionTransaction | None, Event]] = session.info.setdefault(_PENDING, [])
    held.append((session.get_nested_transaction(), event))


def pending(session: Session) -> tuple[Event, ...]:
    """The events published in ``session``'s open transaction, oldest first."""
    return tuple(e for _, e in session.info.get(_PENDING, ()))


def subscribe(sink: Sink) -> Callable[[], None]:
    """Call ``sink`` with every event of every committed transaction in this process;
    returns the function that unsubscribes it."""
    with _lock:
        _sinks.append(sink)

    def unsubscribe() -> None:
        with _lock:
            if sink in _sinks:
                _sinks.remove(sink)

    return unsubscribe


@contextmanager
def recorded() -> Iterator[list[Event]]:
    """The events committed (in any thread) while the block runs, in commit order."""
    events: list[Event] = []
    unsubscribe = subscribe(events.append)
    try:
        yield events
    finally:
        unsubscribe()


def _within(tx: SessionTransaction | None, ended: SessionTransaction) -> bool:
    while tx is not None:
        if tx is ended:
            return True
        tx = tx.parent
    return False


@sa_event.listens_for(Session, "before_commit")
def _write(session: Session) -> None:
    if session.in_nested_transaction():
        return  # a savepoint is released; its events are written with the outer commit
    held = session.info.get(_PENDING)
    if not held:
        return
    now = time.time()
    for _, e in held:
        kind, payload = to_row(e)
        session.add(NotifyEvent(kind=kind, payload=payload, created_at=now))
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_notify(:channel, '')"), {"channel": CHANNEL})


@sa_event.listens_for(Session, "after_commit")
def _release(session: Session) -> None:
    if session.in_nested_transaction():
        return  # a savepoint was released; its events wait for the outer commit
    held = session.info.pop(_PENDING, None)
    if not held:
        return
    with _lock:
        sinks = list(_sinks)
    for _, e in held:
        for sink in sinks:
            try:
                sink(e)
            except Exception:  # the change is committed; a listener cannot undo it
                _log.exception("notification listener failed on %r", e)


@sa_event.listens_for(Session, "after_soft_rollback")
def _drop_savepoint(session: Session, previous_transaction: SessionTransaction) -> None:
    held = session.info.get(_PENDING)
    if held and previous_transaction.nested:
        held[:] = [(tx, e) for tx, e in held if not _within(tx, previous_transaction)]


@sa_event.listens_for(Session, "after_transaction_end")
def _drop_uncommitted(session: Session, transaction: SessionTransaction) -> None:
    if transaction.parent is None and not transaction.nested:
        session.info.pop(_PENDING, None)  # rolled back or closed: it did not happen


__all__ = ["CHANNEL", "Event", "Sink", "pending", "publish", "recorded", "subscribe"]
