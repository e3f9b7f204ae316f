"""The worker: expands events, delivers notifications, ends expired authorizations.

One :class:`Worker` is a loop in its own thread plus ``concurrency`` delivery threads.
The loop turns committed events into notifications (:mod:`gbconnect.jobs.expand`),
claims as many due notifications as it has free threads
(:mod:`gbconnect.jobs.queue`), and hands each to a thread that POSTs it and records the
result in its own short transaction. A receiver that hangs holds one thread for at
most its timeouts; every other third party's notifications go on through the others.
Once a minute it also ends the authorizations whose period is over (REQ.21 FB_3
``authorizedPeriod``; their third parties are notified).

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
import socket
import threading
import time
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

import httpx
from sqlalchemy.orm import Session, sessionmaker

from gbconnect.config import Settings
from gbconnect.db import session_scope
from gbconnect.jobs.expand import expand_pending
from gbconnect.jobs.queue import Job, claim, record, send
from gbconnect.notify.delivery import notify_client
from gbconnect.notify.outbox import CHANNEL, subscribe
from gbconnect.oauth.revocation import expire_authorizations

_log = logging.getLogger(__name__)

#: Seconds between two passes that end expired authorizations.
EXPIRY_EVERY = 60.0

Hook = Callable[[sessionmaker[Session], Settings, float], int]


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
        #: Extra periodic work run by the loop (e.g. packaging asynchronous batches):
        #: each returns how much it did.
        self.hooks = hooks
        self.name = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._slots = threading.Semaphore(self.concurrency)
        self._inflight = 0
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self._listener: threading.Thread | None = None
        self._pool: ThreadPoolExecutor | None = None
        self._client: httpx.Client | None = None
        self._unsubscribe: Callable[[], None] | None = None
        self._next_expiry = 0.0

    # -- life cycle --

    def start(self) -> None:
        """Run the loop in a background thread (returns at once)."""
        if self._thread is not None:
            return
        self._stop.clear()
        self._pool = ThreadPoolExecutor(self.concurrency, thread_name_prefix="gbconnect-notify")
        self._client = notify_client()
        self._unsubscribe = subscribe(lambda _event: self._wake.set())
        if self.factory.kw["bind"].dialect.name == "postgresql":
            self._listener = threading.Thread(
                target=self._listen, name="gbconnect-notify-listen", daemon=True
            )
            self._listener.start()
        self._thread = threading.Thread(target=self._loop, name="gbconnect-worker", daemon=True)
        self._thread.start()
        _log.info("notification worker %s started (%d threads)", self.name, self.concurrency)

    def stop(self, timeout: float = 30.0) -> None:
        """Stop claiming, let the deliveries in flight finish (up to ``timeout``)."""
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout)
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
        if self._client is not None:
            self._client.close()
        if self._unsubscribe is not None:
            self._unsubscribe()
        self._thread = self._pool = self._client = self._unsubscribe = None
        _log.info("notification worker %s stopped", self.name)

    def wake(self) -> None:
        """Look for work now rather than at the end of the poll interval."""
        self._wake.set()

    @property
    def idle(self) -> bool:
        """No delivery in flight."""
        with self._lock:
            return self._inflight == 0

    # -- one pass --

    def run_once(self, now: float | None = None) -> int:
        """One pass of the loop in the calling thread: expand, run the hooks, claim
        and deliver what is due, waiting for those deliveries. Returns the work done
        (events, hook items and notifications). For tests and ``worker --once``."""
        now = time.time() if now is None else now
        done = self._expand_and_hooks(now)
        with session_scope(self.factory) as session:
            jobs = claim(session, self.settings, self.name, now, self.concurrency)
        with notify_client() as client:
            for job in jobs:
                self._deliver(job, client)
        return done + len(jobs)

    def _expand_and_hooks(self, now: float) -> int:
        done = 0
        with session_scope(self.factory) as session:
            done += expand_pending(session, self.settings, now)
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
            if not busy:
                self._wake.wait(self.settings.notify_poll_interval)
                self._wake.clear()

    def _pass(self) -> bool:
        now = time.time()
        done = self._expand_and_hooks(now)
        free = 0
        while self._slots.acquire(blocking=False):
            free += 1
        if not free:
            return done > 0
        try:
            with session_scope(self.factory) as session:
                jobs = claim(session, self.settings, self.name, now, free)
        except Exception:
            self._release(free)
            raise
        self._release(free - len(jobs))
        assert self._pool is not None
        for job in jobs:
            with self._lock:
                self._inflight += 1
            self._pool.submit(self._run, job)
        # New notifications may have been made: look again at once. Otherwise wait
        # for a free thread, a commit or the poll interval.
        return done > 0

    def _release(self, n: int) -> None:
        for _ in range(n):
            self._slots.release()

    def _run(self, job: Job) -> None:
        try:
            self._deliver(job, self._client)
        except Exception:
            _log.exception("notification %s: delivery failed", job.id)
        finally:
            with self._lock:
                self._inflight -= 1
            self._slots.release()
            self._wake.set()

    def _deliver(self, job: Job, client: httpx.Client | None) -> None:
        attempt = send(job, self.settings, client)
        with session_scope(self.factory) as session:
            state = record(session, self.settings, job, attempt, time.time())
        _log.info(
            "notification %s to application %s: %s (%s, %d ms) -> %s",
            job.id,
            job.application_id,
            attempt.outcome,
            attempt.status or attempt.error,
            attempt.latency_ms,
            state,
        )

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
                            self._wake.set()
            except Exception as exc:
                _log.warning("LISTEN %s: %s; polling until it reconnects", CHANNEL, exc)
                self._stop.wait(5.0)


__all__ = ["CHANNEL", "Hook", "Worker"]
