"""The notification jobs on ``/metrics`` (REQ.21 FB_39; GBA PSH004: a failed POST is
detected, here where monitoring sees it).

The values are read from the database at scrape time by a custom collector, so they
are true whichever process (server or ``gbconnect worker``) made the jobs and the
attempts, and however many workers run:

- ``gbconnect_notifications{state}``: jobs in each state (queued, delivered, dead,
  cancelled);
- ``gbconnect_notification_oldest_queued_age_seconds``: how long the oldest queued job
  has waited (0 when none waits), the number to alert on when delivery stalls;
- ``gbconnect_notification_attempts{outcome}``: attempts of the last hour by outcome
  (delivered, retry, dead).

A database error at scrape time leaves out the family it concerns and is logged;
``/metrics`` still answers with everything else. On PostgreSQL each scrape's queries
are bounded by a statement timeout, as a scrape runs on the server's event loop.
"""

from __future__ import annotations

import contextlib
import logging
import threading
import time
from collections.abc import Callable, Iterator

from prometheus_client.core import REGISTRY, CollectorRegistry, GaugeMetricFamily, Metric
from sqlalchemy import text
from sqlalchemy.orm import Session, sessionmaker

from gbconnect.notify import admin

_log = logging.getLogger(__name__)

#: Milliseconds a scrape's query may take on PostgreSQL before it is given up.
STATEMENT_TIMEOUT_MS = 2000

STATES = "gbconnect_notifications"
OLDEST = "gbconnect_notification_oldest_queued_age_seconds"
ATTEMPTS = "gbconnect_notification_attempts"


def _families() -> dict[str, GaugeMetricFamily]:
    return {
        STATES: GaugeMetricFamily(
            STATES, "Notification jobs (REQ.21 FB_39) in each state.", labels=["state"]
        ),
        OLDEST: GaugeMetricFamily(
            OLDEST, "Seconds the oldest queued notification job has waited (0 when none)."
        ),
        ATTEMPTS: GaugeMetricFamily(
            ATTEMPTS,
            "Notification delivery attempts of the last hour, by outcome.",
            labels=["outcome"],
        ),
    }


def _states(session: Session, family: GaugeMetricFamily, now: float) -> None:
    for state, count in admin.counts_by_state(session).items():
        family.add_metric([state], count)


def _oldest(session: Session, family: GaugeMetricFamily, now: float) -> None:
    family.add_metric([], admin.oldest_queued_age(session, now) or 0.0)


def _attempts(session: Session, family: GaugeMetricFamily, now: float) -> None:
    for outcome, count in admin.attempts_since(session, now - admin.HOUR).items():
        family.add_metric([outcome], count)


_READERS: dict[str, Callable[[Session, GaugeMetricFamily, float], None]] = {
    STATES: _states,
    OLDEST: _oldest,
    ATTEMPTS: _attempts,
}


class NotificationCollector:
    """A prometheus-client collector of the notification jobs, read through ``factory``
    at each scrape; ``clock`` gives the time (epoch seconds)."""

    def __init__(
        self, factory: sessionmaker[Session], clock: Callable[[], float] = time.time
    ) -> None:
        self.factory = factory
        self.clock = clock

    def describe(self) -> Iterator[Metric]:
        """The families without values: registering reads nothing from the database."""
        yield from _families().values()

    def collect(self) -> list[Metric]:
        """The families with their values; one the database could not give is left out."""
        families = _families()
        found: list[Metric] = []
        now = self.clock()
        try:
            session = self.factory()
        except Exception:
            _log.exception("notification metrics: no database session")
            return found
        with session:
            try:
                if session.get_bind().dialect.name == "postgresql":
                    session.execute(text(f"SET LOCAL statement_timeout = {STATEMENT_TIMEOUT_MS}"))
            except Exception:
                _log.exception("notification metrics: the database cannot be reached")
                return found
            for name, read in _READERS.items():
                try:
                    with session.begin_nested():
                        read(session, families[name], now)
                except Exception:
                    _log.exception("notification metrics: %s left out of this scrape", name)
                else:
                    found.append(families[name])
        return found


_current: dict[int, NotificationCollector] = {}
_lock = threading.Lock()


def register_metrics(
    factory: sessionmaker[Session],
    registry: CollectorRegistry = REGISTRY,
    clock: Callable[[], float] = time.time,
) -> Callable[[], None]:
    """Put the notification families on ``registry`` (the process's default, served on
    ``/metrics``); returns the function that takes them off again.

    One set per registry: registering again (a second application built in the same
    process, as tests do) replaces the earlier collector instead of failing on
    duplicate names, and the earlier one's unregister function then does nothing."""
    collector = NotificationCollector(factory, clock)
    with _lock:
        earlier = _current.pop(id(registry), None)
        if earlier is not None:
            with contextlib.suppress(KeyError):
                registry.unregister(earlier)
        registry.register(collector)
        _current[id(registry)] = collector

    def unregister() -> None:
        with _lock:
            if _current.get(id(registry)) is collector:
                del _current[id(registry)]
                registry.unregister(collector)

    return unregister


__all__ = ["ATTEMPTS", "OLDEST", "STATES", "NotificationCollector", "register_metrics"]
