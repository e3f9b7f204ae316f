"""The worker: expands events, delivers notifications, ends expired authorizations.

One :class:`Worker` is a loop in its own thread plus ``concurrency`` delivery threads.
The loop turns committed events into notifications (:mod:`gbconnect.jobs.expand`),
claims as many due notifications as it has free threads
(:mod:`gbconnect.jobs.queue`), and hands each to a thread that POSTs it and records the
result in its own short transaction. A receiver that hangs holds one thread for at
most its timeouts; every other third party's notifications go on through the others.
Once a minute it also ends the authorizations whose period is over (REQ.21 FB_3
``authorizedPeriod``; their third parties are notified); every poll it packages the
asynchronous batches asked for (:mod:`gbconnect.api.packaging`), hourly it purges the
expired ones and the delivery log past ``GBCONNECT_NOTIFY_LOG_DAYS``
(:mod:`gbconnect.notify.retention`) and fetches third parties' logos
(:mod:`gbconnect.registration.logos`), and daily it may send PG&E's data-ready notice
(:mod:`gbconnect.jobs.daily`).

Idle, the loop waits ``GBCONNECT_NOTIFY_POLL_INTERVAL`` seconds, or less: a commit in
the same process that published an event wakes it (``gbconnect serve`` with its
in-process worker), and on PostgreSQL so does a ``NOTIFY`` sent by any process's
commit (:data:`CHANNEL`).

``gbconnect worker`` runs one in its own process (several at once on PostgreSQL);
``gbconnect serve`` runs one inside when ``GBCONNECT_NOTIFY_IN_PROCESS`` says so (the
default on SQLite, so that ``make demo`` notifies).
"""

from __future__ import annotations

import logging
import os
import queue
import socket
import threading
import time
import uuid
from collections.abc import Callable

import httpx
from sqlalchemy.orm import Session, sessionmaker

from gbconnect.api.packaging import purge_expired_packages, run_pending_packages
from gbconnect.config import Settings
from gbconnect.db import session_scope
from gbconnect.jobs.daily import DailyNotices
from gbconnect.jobs.expand import expand_pending
from gbconnect.jobs.periodic import Every, Hook
from gbconnect.jobs.queue import Job, claim, record, send
from gbconnect.notify.delivery import Attempt, notify_client
from gbconnect.notify.outbox import CHANNEL, subscribe
from gbconnect.notify.retention import purge_delivery_log
from gbconnect.oauth.revocation import expire_authorizations
from gbconnect.registration.logos import refresh_logos

_log = logging.getLogger(__name__)

#: Seconds between two passes that end expired authorizations.
EXPIRY_EVERY = 60.0


def _packages(factory: sessionmaker[Session], settings: Settings, _now: float) -> int:
    """Package the asynchronous batches asked for (a 202; GBA 2024); each one ready
    publishes its BatchReady notification."""
    return run_pending_packages(factory, settings)


def _purge(factory: sessionmaker[Session], settings: Settings, now: float) -> int:
    return purge_expired_packages(factory, settings, now)


class Worker:
    """Delivers notifications until stopped (see the module docstring)."""

    def __init__(
        self,
        settings: Settings,
        factory: sessionmaker[Session],
        concurrency: int | None = None,
        hooks: tuple[Hook, ...] = (),
    ) -> None:
        self.settings = settings
        self.factory = factory
        self.concurrency = concurrency or settings.notify_concurrency
        #: Periodic work run by the loop (the daily notices, and e.g. packaging
        #: asynchronous batches): each returns how much it did.
        self.hooks: tuple[Hook, ...] = (
            DailyNotices(),
            _packages,
            Every(3600, _purge),
            Every(3600, purge_delivery_log),
            Every(3600, refresh_logos),
            *hooks,
        )
        self.name = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
        self._wake = threading.Event()
        self._stop = threading.Event()
        #: Claimed notifications waiting for a delivery thread, and finished attempts
        #: waiting to be recorded (the loop records them together, in one transaction).
        self._todo: queue.SimpleQueue[Job | None] = queue.SimpleQueue()
        self._done: queue.SimpleQueue[tuple[Job, Attempt, float]] = queue.SimpleQueue()
        self._outstanding = 0  # claimed and not yet recorded
        self._events = True  # an event may wait to be expanded
        self._threads: list[threading.Thread] = []
        self._thread: threading.Thread | None = None
        self._client: httpx.Client | None = None
        self._unsubscribe: Callable[[], None] | None = None
        self._next_expiry = 0.0
        self._next_poll = 0.0

    # -- life cycle --

    def start(self) -> None:
        """Run the loop and the delivery threads in the background (returns at once)."""
        if self._thread is not None:
            return
        self._stop.clear()
        self._client = notify_client()
        self._unsubscribe = subscribe(lambda _event: self._event_committed())
        self._threads = [
            threading.Thread(target=self._deliveries, name=f"gbconnect-notify-{i}", daemon=True)
            for i in range(self.concurrency)
        ]
        for t in self._threads:
            t.start()
        if self.factory.kw["bind"].dialect.name == "postgresql":
            threading.Thread(target=self._listen, name="gbconnect-listen", daemon=True).start()
        self._thread = threading.Thread(target=self._loop, name="gbconnect-worker", daemon=True)
        self._thread.start()
        _log.info("notification worker %s started (%d threads)", self.name, self.concurrency)

    def stop(self, timeout: float = 30.0) -> None:
        """Stop claiming; deliver and record what was claimed (up to ``timeout``)."""
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout)
        for _ in self._threads:
            self._todo.put(None)
        for t in self._threads:
            t.join(timeout)
        self._flush()
        if self._client is not None:
            self._client.close()
        if self._unsubscribe is not None:
            self._unsubscribe()
        self._thread = self._client = self._unsubscribe = None
        self._threads = []
        _log.info("notification worker %s stopped", self.name)

    def wake(self) -> None:
        """Look for work now rather than at the end of the poll interval."""
        self._events = True
        self._wake.set()

    def _event_committed(self) -> None:
        self._events = True
        self._wake.set()

    # -- one pass, in the caller's thread --

    def run_once(self, now: float | None = None) -> int:
        """One pass in the calling thread: expand, run the hooks, claim and deliver
        what is due at ``now``, and record it. Returns the work done (events, hook
        items and notifications). For tests and ``gbconnect worker --once``."""
        now = time.time() if now is None else now
        done = self._expand(now) + self._periodic(now)
        with session_scope(self.factory) as session:
            jobs = claim(session, self.settings, self.name, now, self.concurrency)
        results = []
        with notify_client() as client:
            for job in jobs:
                results.append((job, send(job, self.settings, client), time.time()))
        with session_scope(self.factory) as session:
            record(session, self.settings, results)
        return done + len(jobs)

    def _expand(self, now: float) -> int:
        with session_scope(self.factory) as session:
            return expand_pending(session, self.settings, now)

    def _periodic(self, now: float) -> int:
        done = 0
        if now >= self._next_expiry:
            self._next_expiry = now + EXPIRY_EVERY
            with session_scope(self.factory) as session:
                done += expire_authorizations(session, int(now))
        for hook in self.hooks:
            done += hook(self.factory, self.settings, now)
        return done

    # -- the loop --

    def _loop(self) -> None:
        while not self._stop.is_set():
            try:
                busy = self._pass()
            except Exception:
                _log.exception("notification worker pass failed; trying again")
                busy = False
                self._stop.wait(1.0)
            if self._outstanding:
                # Deliveries in flight: come back soon to record them together.
                self._wake.wait(0.02)
            elif not busy:
                self._wake.wait(self.settings.notify_poll_interval)
            self._wake.clear()
        try:
            self._flush()
        except Exception:
            _log.exception("recording the last attempts failed; their claims will expire")

    def _pass(self) -> bool:
        now = time.time()
        self._flush()
        done = 0
        if now >= self._next_poll:
            self._next_poll = now + self.settings.notify_poll_interval
            self._events = True
            done += self._periodic(now)
        if self._events:
            self._events = False
            expanded = self._expand(now)
            if expanded:
                self._events = True  # there may be more
            done += expanded
        room = 2 * self.concurrency - self._outstanding
        if room >= self.concurrency:
            with session_scope(self.factory) as session:
                jobs = claim(session, self.settings, self.name, now, room)
            self._outstanding += len(jobs)
            for job in jobs:
                self._todo.put(job)
            done += len(jobs)
        return done > 0

    def _flush(self) -> None:
        """Record the finished attempts, all in one transaction."""
        results = []
        while True:
            try:
                results.append(self._done.get_nowait())
            except queue.Empty:
                break
        if not results:
            return
        try:
            with session_scope(self.factory) as session:
                states = record(session, self.settings, results)
        except Exception:
            for r in results:  # not lost: recorded at the next pass
                self._done.put(r)
            raise
        self._outstanding -= len(results)
        for (job, attempt, _), state in zip(results, states, strict=True):
            _log.info(
                "notification %s to application %s: %s (%s, %d ms) -> %s",
                job.id,
                job.application_id,
                attempt.outcome,
                attempt.status or attempt.error,
                attempt.latency_ms,
                state,
            )

    def _deliveries(self) -> None:
        while True:
            job = self._todo.get()
            if job is None:
                return
            try:
                attempt = send(job, self.settings, self._client)
            except Exception as exc:  # a bug, not the receiver: retried like a failure
                _log.exception("notification %s: delivery failed", job.id)
                attempt = Attempt("retry", None, 0, f"internal error: {type(exc).__name__}")
            self._done.put((job, attempt, time.time()))
            self._wake.set()

    def _listen(self) -> None:
        """Wake on PostgreSQL NOTIFY (a commit with events in any process)."""
        import psycopg

        url = self.settings.database_url.replace("postgresql+psycopg://", "postgresql://")
        while not self._stop.is_set():
            try:
                with psycopg.connect(url, autocommit=True) as conn:
                    conn.execute(f"LISTEN {CHANNEL}")
                    while not self._stop.is_set():
                        for _ in conn.notifies(timeout=1.0, stop_after=1):
                            self._event_committed()
            except Exception as exc:
                _log.warning("LISTEN %s: %s; polling until it reconnects", CHANNEL, exc)
                self._stop.wait(5.0)


__all__ = ["CHANNEL", "Hook", "Worker"]
