"""Where the rate limits count: one store per database, shared by every process that
serves it.

A store keeps counters per ``(key, start)``: a key (``rl:client:abc:3600``,
``login:ip:6.6.6.6``) and the start of a window or bucket
(:mod:`gbconnect.ratelimit.windows`). It answers two kinds of calls:

* **exact** ones (:meth:`Store.add`, :meth:`Store.counts`, :meth:`Store.clear`): a
  sign-in failure, a one-time code, the portal's usage page. On PostgreSQL each is one
  statement (``INSERT ... ON CONFLICT DO UPDATE ... RETURNING``): rare calls, where a
  round trip does not matter and exactness does;
* **fast** ones (:meth:`Store.take`): an API request. It must not cost a database
  round trip (the IntervalBlock entry answers thousands of requests a second from
  one process, benchmarks/ratelimit.py).

:class:`MemoryStore` counts in the process, exactly, under a lock. It is the store on
SQLite, which is served by one process by design (``gbconnect serve`` on a local
file), and the store of a bare :class:`~gbconnect.web.security.LoginThrottle`.

:class:`PostgresStore` shares the counts through the ``rate_counter`` table. Exact
calls go to the database. Fast calls decide from what the process knows, and a
background thread **merges** the process's new hits into the table every
:data:`MERGE_INTERVAL` seconds (50 ms: measured, a shorter interval costs the
IntervalBlock entry more than 10% of its throughput on PostgreSQL), all keys in one
statement::

    INSERT INTO rate_counter (key, start, count, expires)
    SELECT * FROM unnest(:keys, :starts, :deltas, :expires)
    ON CONFLICT (key, start) DO UPDATE SET count = rate_counter.count + excluded.count
    RETURNING key, start, count

The answer is the global count of each key (every process's merged hits); a process
decides the next hits from ``global + its hits not merged yet``. Keys it used in the
last second are merged with a delta of 0 too, so that what it knows of them is never
older than one merge.

**The over-admission bound.** Processes do not see each other's hits between two
merges. So that they cannot together overshoot by much, a process admits, between two
of its merges, at most ``share = max(1, ceil((limit - global) / SPREAD))`` hits of a
key (:data:`SPREAD` = 8), and only 1 of a key it has no fresh global count of (a key
new to it in this window, or one it has not merged for a second), unless the window
began less than two merge intervals ago: then every process is in its first merge
period of it, and its share is ``ceil(limit / SPREAD)`` as if the count were 0 (the
processes' clocks are assumed to agree within a merge interval, as NTP keeps them).
A short window (the per-second one) is read ahead: in the last quarter second of a
window, a merge also reads the next one's global count (0, or the hits of a process
already in it), so that a busy process starts each second with a fresh count and its
full share; the bound below is unchanged, the count read being a real one.
A hit beyond its share is not refused: it waits for the next merge (:data:`WAIT`) and
is decided again on the fresh count, so a client far from its limit is never told
429 wrongly, and one close to it waits a few tens of milliseconds at worst.

With ``N <= SPREAD`` processes, the hits admitted in one merge period on top of the
global count ``g`` they read are at most ``N * ceil((limit - g) / SPREAD) <=
(limit - g) + N``: a period overshoots what the count allowed by at most ``N``. The
processes merge at different moments, so a process's ``g`` may lack the others' hits
of their last period; once the remainder is below ``SPREAD`` those are at most one
hit each. **A window's total stays within ``limit + 2N``** (asserted with two real
server processes by tests/integration/ratelimit/test_two_processes.py). For PG&E's
1 request/s per vendor (a share of 1) that is a few extra requests in a second under
a burst on every process at once; for 2,000/hour, a handful. On one process (and on
SQLite's :class:`MemoryStore`) the limits are exact.

If the database cannot be reached, the process keeps counting on its own (its hits
are merged when the database answers again): the limits fail open per process rather
than refusing every third party.
"""

from __future__ import annotations

import logging
import math
import threading
import time
import weakref
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal, Protocol

from sqlalchemy import Engine, bindparam, delete, event, select, text
from sqlalchemy.dialects import postgresql
from sqlalchemy.types import BigInteger, String

from gbconnect.ratelimit.models import RateCounter

_log = logging.getLogger(__name__)

#: Seconds between two merges of a process's hits into the shared counters.
MERGE_INTERVAL = 0.05
#: The number of API processes a process shares a limit's remainder with between
#: two merges (see the module's over-admission bound).
SPREAD = 8
#: A process's count of a key older than this (seconds) is not trusted.
STALE = 1.0
#: Windows of at most this many seconds have their next window read ahead, this many
#: seconds before it begins (:meth:`PostgresStore._look_ahead`).
LOOK_AHEAD_WINDOWS = 60
LOOK_AHEAD = 0.25

Outcome = Literal["admit", "refuse", "wait"]
ADMIT: Outcome = "admit"
REFUSE: Outcome = "refuse"
WAIT: Outcome = "wait"


class Store(Protocol):
    """Counters per (key, start), shared by every process of one database."""

    def add(self, key: str, start: int, expires: int, amount: int = 1) -> int:
        """Count ``amount`` hits now; the new count."""
        ...

    def counts(self, key: str, starts: Iterable[int]) -> dict[int, int]:
        """The counts of ``key`` at ``starts`` (missing ones are 0)."""
        ...

    def clear(self, key: str) -> None:
        """Forget every count of ``key``."""
        ...

    def take(self, key: str, start: int, expires: int, limit: int) -> tuple[Outcome, int]:
        """Count one hit if the count stays within ``limit``: the outcome and the count
        as the process knows it (the hit included when admitted). Never a round trip."""
        ...

    def refund(self, key: str, start: int) -> None:
        """Take back a hit :meth:`take` admitted (another limit refused the request)."""
        ...


class MemoryStore:
    """Counters in this process, exact (one lock). Expired counters are swept as the
    store grows."""

    def __init__(self) -> None:
        self._counts: dict[tuple[str, int], list[int]] = {}
        self._lock = threading.Lock()
        self._next_sweep = 0.0

    def _sweep(self, now: float) -> None:
        if now < self._next_sweep and len(self._counts) < 100_000:
            return
        self._next_sweep = now + 60
        for k, (_, expires) in list(self._counts.items()):
            if expires < now:
                del self._counts[k]

    def add(self, key: str, start: int, expires: int, amount: int = 1) -> int:
        with self._lock:
            self._sweep(time.time())
            entry = self._counts.setdefault((key, start), [0, expires])
            entry[0] += amount
            return entry[0]

    def counts(self, key: str, starts: Iterable[int]) -> dict[int, int]:
        with self._lock:
            return {s: self._counts.get((key, s), [0])[0] for s in starts}

    def clear(self, key: str) -> None:
        with self._lock:
            for k in [k for k in self._counts if k[0] == key]:
                del self._counts[k]

    def take(self, key: str, start: int, expires: int, limit: int) -> tuple[Outcome, int]:
        with self._lock:
            self._sweep(time.time())
            entry = self._counts.setdefault((key, start), [0, expires])
            if entry[0] + 1 > limit:
                return REFUSE, entry[0]
            entry[0] += 1
            return ADMIT, entry[0]

    def refund(self, key: str, start: int) -> None:
        with self._lock:
            entry = self._counts.get((key, start))
            if entry is not None and entry[0] > 0:
                entry[0] -= 1


@dataclass
class _Known:
    """What a process knows of one counter."""

    expires: int
    merged: int = 0  # the global count at the last merge (this process's hits included)
    sending: int = 0  # hits of this process in the merge under way
    pending: int = 0  # hits of this process since
    fresh_at: float = -1.0  # when ``merged`` was read (monotonic); -1: never
    used_at: float = 0.0

    def seen(self) -> int:
        return self.merged + self.sending + self.pending


_UPSERT = text(
    "INSERT INTO rate_counter (key, start, count, expires) "
    "SELECT * FROM unnest(:keys, :starts, :deltas, :expires) "
    "ON CONFLICT (key, start) DO UPDATE SET count = rate_counter.count + excluded.count, "
    "expires = greatest(rate_counter.expires, excluded.expires) "
    "RETURNING key, start, count"
).bindparams(
    bindparam("keys", type_=postgresql.ARRAY(String)),
    bindparam("starts", type_=postgresql.ARRAY(BigInteger)),
    bindparam("deltas", type_=postgresql.ARRAY(BigInteger)),
    bindparam("expires", type_=postgresql.ARRAY(BigInteger)),
)


class PostgresStore:
    """Counters in the ``rate_counter`` table, fast hits merged in batches (see the
    module's docstring for the bound this keeps)."""

    def __init__(self, engine: Engine, interval: float = MERGE_INTERVAL) -> None:
        self._engine = weakref.ref(engine)
        self.interval = interval
        self._known: dict[tuple[str, int], _Known] = {}
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self._stop = threading.Event()
        self._next_purge = 0.0
        # A disposed engine (a server stopping, a test ending) ends the merging: its
        # connections are closed, none is opened again behind its owner's back.
        event.listen(engine, "engine_disposed", self._disposed)

    def _db(self) -> Engine:
        engine = self._engine()
        if engine is None:
            raise RuntimeError("the store's engine is gone")
        return engine

    # -- exact calls --------------------------------------------------------------------

    def _upsert(self, rows: list[tuple[str, int, int, int]]) -> list[tuple[str, int, int]]:
        # One order for every process: two merges lock their rows in the same order
        # and cannot deadlock.
        rows = sorted(rows)
        keys, starts, deltas, expires = (list(c) for c in zip(*rows, strict=True))
        engine = self._db()
        pool = engine.pool
        try:
            with engine.begin() as conn:
                result = conn.execute(
                    _UPSERT,
                    {"keys": keys, "starts": starts, "deltas": deltas, "expires": expires},
                )
                return [(r[0], int(r[1]), int(r[2])) for r in result]
        finally:
            if engine.pool is not pool:  # disposed meanwhile: close what went back to it
                pool.dispose()

    def add(self, key: str, start: int, expires: int, amount: int = 1) -> int:
        return self._upsert([(key, start, amount, expires)])[0][2]

    def counts(self, key: str, starts: Iterable[int]) -> dict[int, int]:
        wanted = list(starts)
        found = {s: 0 for s in wanted}
        with self._db().connect() as conn:
            rows = conn.execute(
                select(RateCounter.start, RateCounter.count).where(
                    RateCounter.key == key, RateCounter.start.in_(wanted)
                )
            )
            for start, count in rows:
                found[int(start)] = int(count)
        with self._lock:  # this process's hits not merged yet
            for s in wanted:
                known = self._known.get((key, s))
                if known is not None:
                    found[s] = max(found[s], found[s] + known.sending + known.pending)
        return found

    def clear(self, key: str) -> None:
        with self._db().begin() as conn:
            conn.execute(delete(RateCounter).where(RateCounter.key == key))
        with self._lock:
            for k in [k for k in self._known if k[0] == key]:
                del self._known[k]

    # -- fast calls ---------------------------------------------------------------------

    def take(self, key: str, start: int, expires: int, limit: int) -> tuple[Outcome, int]:
        now = time.monotonic()
        with self._lock:
            self._ensure_thread()
            known = self._known.get((key, start))
            if known is None:
                known = self._known[(key, start)] = _Known(expires)
            known.used_at = now
            seen = known.seen()
            if seen + 1 > limit:
                return REFUSE, seen
            unmerged = known.sending + known.pending
            if known.fresh_at >= 0 and now - known.fresh_at <= STALE:
                share = max(1, math.ceil((limit - known.merged) / SPREAD))
            elif time.time() - start < 2 * self.interval:
                # A window that has just begun: every process is in its first merge
                # period of it, and the global count is what their first shares make.
                share = max(1, math.ceil(limit / SPREAD))
            else:
                share = 1
            if unmerged >= share:
                return WAIT, seen
            known.pending += 1
            return ADMIT, seen + 1

    def refund(self, key: str, start: int) -> None:
        with self._lock:
            known = self._known.get((key, start))
            if known is not None and known.pending > 0:
                known.pending -= 1

    # -- merging ------------------------------------------------------------------------

    def _ensure_thread(self) -> None:
        if self._thread is None:
            self._stop.clear()
            self._thread = threading.Thread(
                target=self._run, name="gbconnect-ratelimit-merge", daemon=True
            )
            self._thread.start()

    def _run(self) -> None:
        """Merge every interval while keys are in use; end when none is (the next
        :meth:`take` starts another thread), so that an idle store holds nothing."""
        failing = False
        while not self._stop.wait(self.interval):
            if self._engine() is None:
                return
            try:
                busy = self.merge()
                failing = False
            except Exception as exc:  # keep counting locally; merge again later
                busy = True
                if not failing:
                    _log.warning("rate limit counters could not be merged: %s", exc)
                failing = True
            if not busy:
                with self._lock:
                    if not any(k.pending for k in self._known.values()):
                        self._thread = None
                        return

    def _disposed(self, engine: Engine) -> None:
        self._stop.set()
        thread = self._thread
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout=5)
        with self._lock:
            self._thread = None
            self._known.clear()

    def close(self) -> None:
        """Stop the merging thread after a last merge."""
        self._stop.set()
        thread = self._thread
        if thread is not None:
            thread.join(timeout=5)
        self._thread = None
        try:
            self.merge()
        except Exception:
            _log.warning("rate limit counters could not be merged", exc_info=True)

    def _look_ahead(self, wall: float, now: float) -> None:
        """Read the next window of a short limit (a second) before it begins: a key
        this process used is merged ahead with a delta of 0, so that when the window
        starts the process already holds a fresh global count of it and decides on its
        full share, instead of one hit until its first merge (the lock is held)."""
        for (key, start), known in list(self._known.items()):
            length = known.expires - start
            if not 0 < length <= LOOK_AHEAD_WINDOWS or known.expires - wall > LOOK_AHEAD:
                continue
            if now - known.used_at > STALE or (key, known.expires) in self._known:
                continue
            ahead = _Known(known.expires + length)
            ahead.used_at = now
            self._known[(key, known.expires)] = ahead

    def merge(self) -> bool:
        """Send this process's new hits, and read back the global counts of the keys it
        used lately (one statement); whether there were any."""
        now = time.monotonic()
        wall = time.time()
        with self._lock:
            for k, known in list(self._known.items()):
                if known.expires < wall and not known.pending and not known.sending:
                    del self._known[k]
            self._look_ahead(wall, now)
            batch = [
                (k, known)
                for k, known in self._known.items()
                if known.pending or now - known.used_at <= STALE
            ]
            for _, known in batch:
                known.sending, known.pending = known.pending, 0
        if batch:
            try:
                rows = self._upsert([(k[0], k[1], kn.sending, kn.expires) for k, kn in batch])
            except Exception:
                with self._lock:  # not sent: count them again next time
                    for _, known in batch:
                        known.pending += known.sending
                        known.sending = 0
                raise
            got = {(key, start): count for key, start, count in rows}
            with self._lock:
                for k, known in batch:
                    known.merged = got.get(k, known.merged + known.sending)
                    known.sending = 0
                    known.fresh_at = now
        if batch and wall >= self._next_purge:
            self._next_purge = wall + 60
            with self._db().begin() as conn:
                conn.execute(delete(RateCounter).where(RateCounter.expires < int(wall) - 60))
        return bool(batch)


_STORES: weakref.WeakKeyDictionary[Engine, Store] = weakref.WeakKeyDictionary()
_STORES_LOCK = threading.Lock()


def store_for(engine: Engine) -> Store:
    """The process's store for ``engine``'s database (one per engine): the shared
    table on PostgreSQL, this process's memory on SQLite."""
    with _STORES_LOCK:
        store = _STORES.get(engine)
        if store is None:
            postgres = engine.dialect.name == "postgresql"
            store = PostgresStore(engine) if postgres else MemoryStore()
            _STORES[engine] = store
        return store
