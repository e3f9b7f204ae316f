"""The sample third party's own storage: one SQLite file (stdlib ``sqlite3``) in its
data directory. Never the Data Custodian's database: what it knows, it got over the
API (REQ.21 section 1) or by notification (FB_39).

Tables:

- ``customers``: one row per browser session that connected (the sample app has no
  accounts: a customer is a signed session cookie), the token response as
  :meth:`TokenSet.to_dict` JSON, and the subscription id read from its resourceURI;
- ``usage_points`` and ``readings``: the parsed feed, per subscription (the cache the
  usage page reads), a reading unique by its MeterReading and start;
- ``pending``: a 202's package URL and the session that asked, so that the
  notification naming it is fetched with that customer's token;
- ``notifications``: every BatchList received, what it named and what came of it;
- ``settings``: small values (the client token, the session key).

Each call opens its own connection (the notification worker runs in its own thread).
"""

from __future__ import annotations

import json
import sqlite3
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

SCHEMA = """
CREATE TABLE IF NOT EXISTS customers (
    session_id TEXT PRIMARY KEY,
    tokens TEXT NOT NULL,
    subscription TEXT,
    connected_at REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS usage_points (
    href TEXT PRIMARY KEY,
    subscription TEXT NOT NULL,
    title TEXT,
    service_kind INTEGER,
    local_time TEXT
);
CREATE TABLE IF NOT EXISTS readings (
    subscription TEXT NOT NULL,
    usage_point TEXT NOT NULL,
    meter_reading TEXT NOT NULL,
    start INTEGER NOT NULL,
    duration INTEGER NOT NULL,
    value REAL NOT NULL,
    unit TEXT NOT NULL,
    flow_direction INTEGER,
    PRIMARY KEY (meter_reading, start)
);
CREATE INDEX IF NOT EXISTS readings_subscription ON readings (subscription, usage_point);
CREATE TABLE IF NOT EXISTS pending (
    url TEXT PRIMARY KEY,
    session_id TEXT NOT NULL,
    asked_at REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS notifications (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    received_at REAL NOT NULL,
    resources TEXT NOT NULL,
    outcome TEXT NOT NULL,
    readings INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE IF NOT EXISTS settings (
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
"""


@dataclass(frozen=True)
class StoredReading:
    """A cached reading (the fields :mod:`~gbconnect.sample_thirdparty.insights` reads)."""

    usage_point: str
    meter_reading: str
    start: int
    duration: int
    value: float
    unit: str
    flow_direction: int | None


@dataclass(frozen=True)
class StoredUsagePoint:
    href: str
    subscription: str
    title: str | None
    service_kind: int | None
    local_time: dict[str, Any] | None


@dataclass(frozen=True)
class LoggedNotification:
    id: int
    received_at: float
    resources: list[str]
    outcome: str
    readings: int


class Store:
    """The SQLite file at ``path`` (created with its tables if new)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        with self._connect() as db:
            db.execute("PRAGMA journal_mode=WAL")
            db.executescript(SCHEMA)

    @contextmanager
    def _connect(self) -> Iterator[sqlite3.Connection]:
        db = sqlite3.connect(self.path, timeout=30)
        try:
            with db:  # one transaction: committed, or rolled back on error
                yield db
        finally:
            db.close()

    # settings -------------------------------------------------------------------
    def get_setting(self, key: str) -> str | None:
        with self._connect() as db:
            row = db.execute("SELECT value FROM settings WHERE key = ?", (key,)).fetchone()
        return None if row is None else str(row[0])

    def set_setting(self, key: str, value: str) -> None:
        with self._connect() as db:
            db.execute(
                "INSERT INTO settings (key, value) VALUES (?, ?) "
                "ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                (key, value),
            )

    # customers ------------------------------------------------------------------
    def save_tokens(
        self, session_id: str, tokens: dict[str, Any], subscription: str | None
    ) -> None:
        with self._connect() as db:
            db.execute(
                "INSERT INTO customers (session_id, tokens, subscription, connected_at) "
                "VALUES (?, ?, ?, ?) ON CONFLICT (session_id) DO UPDATE SET "
                "tokens = excluded.tokens, subscription = excluded.subscription",
                (session_id, json.dumps(tokens), subscription, time.time()),
            )

    def tokens(self, session_id: str) -> dict[str, Any] | None:
        with self._connect() as db:
            row = db.execute(
                "SELECT tokens FROM customers WHERE session_id = ?", (session_id,)
            ).fetchone()
        return None if row is None else dict(json.loads(row[0]))

    def subscription_of(self, session_id: str) -> str | None:
        with self._connect() as db:
            row = db.execute(
                "SELECT subscription FROM customers WHERE session_id = ?", (session_id,)
            ).fetchone()
        return None if row is None or row[0] is None else str(row[0])

    def session_for_subscription(self, subscription: str) -> str | None:
        """The most recently connected session holding ``subscription``."""
        with self._connect() as db:
            row = db.execute(
                "SELECT session_id FROM customers WHERE subscription = ? "
                "ORDER BY connected_at DESC LIMIT 1",
                (subscription,),
            ).fetchone()
        return None if row is None else str(row[0])

    def forget(self, session_id: str) -> None:
        """Drop the customer's tokens and, when no other session holds their
        subscription, its cached data."""
        with self._connect() as db:
            row = db.execute(
                "SELECT subscription FROM customers WHERE session_id = ?", (session_id,)
            ).fetchone()
            db.execute("DELETE FROM customers WHERE session_id = ?", (session_id,))
            db.execute("DELETE FROM pending WHERE session_id = ?", (session_id,))
            if row is not None and row[0] is not None:
                others = db.execute(
                    "SELECT 1 FROM customers WHERE subscription = ?", (row[0],)
                ).fetchone()
                if others is None:
                    db.execute("DELETE FROM readings WHERE subscription = ?", (row[0],))
                    db.execute("DELETE FROM usage_points WHERE subscription = ?", (row[0],))

    # pending packages -----------------------------------------------------------
    def remember_pending(self, url: str, session_id: str) -> None:
        with self._connect() as db:
            db.execute(
                "INSERT INTO pending (url, session_id, asked_at) VALUES (?, ?, ?) "
                "ON CONFLICT (url) DO UPDATE SET session_id = excluded.session_id",
                (url, session_id, time.time()),
            )

    def pending_session(self, url: str) -> str | None:
        with self._connect() as db:
            row = db.execute("SELECT session_id FROM pending WHERE url = ?", (url,)).fetchone()
        return None if row is None else str(row[0])

    def is_pending(self, session_id: str) -> bool:
        with self._connect() as db:
            row = db.execute("SELECT 1 FROM pending WHERE session_id = ?", (session_id,)).fetchone()
        return row is not None

    def done_pending(self, url: str) -> None:
        with self._connect() as db:
            db.execute("DELETE FROM pending WHERE url = ?", (url,))

    # usage data -----------------------------------------------------------------
    def save_usage_point(self, point: StoredUsagePoint) -> None:
        with self._connect() as db:
            db.execute(
                "INSERT INTO usage_points (href, subscription, title, service_kind, local_time) "
                "VALUES (?, ?, ?, ?, ?) ON CONFLICT (href) DO UPDATE SET "
                "subscription = excluded.subscription, title = excluded.title, "
                "service_kind = excluded.service_kind, "
                "local_time = COALESCE(excluded.local_time, usage_points.local_time)",
                (
                    point.href,
                    point.subscription,
                    point.title,
                    point.service_kind,
                    None if point.local_time is None else json.dumps(point.local_time),
                ),
            )

    def save_readings(self, subscription: str, readings: Iterable[StoredReading]) -> int:
        """Insert or replace readings (a reading is unique by MeterReading and start);
        returns how many were written."""
        rows = [
            (
                subscription,
                r.usage_point,
                r.meter_reading,
                r.start,
                r.duration,
                r.value,
                r.unit,
                r.flow_direction,
            )
            for r in readings
        ]
        with self._connect() as db:
            db.executemany("INSERT OR REPLACE INTO readings VALUES (?, ?, ?, ?, ?, ?, ?, ?)", rows)
        return len(rows)

    def usage_points(self, subscription: str) -> list[StoredUsagePoint]:
        with self._connect() as db:
            rows = db.execute(
                "SELECT href, subscription, title, service_kind, local_time FROM usage_points "
                "WHERE subscription = ? ORDER BY href",
                (subscription,),
            ).fetchall()
        return [
            StoredUsagePoint(h, s, t, k, None if lt is None else dict(json.loads(lt)))
            for h, s, t, k, lt in rows
        ]

    def readings(
        self, subscription: str, usage_point: str, last_days: int | None = None
    ) -> list[StoredReading]:
        """The usage point's readings by start; with ``last_days``, only those of the
        last so many days of its data (the page stays quick on years of data)."""
        since = -(2**62)
        with self._connect() as db:
            if last_days is not None:
                (latest,) = db.execute(
                    "SELECT MAX(start) FROM readings WHERE subscription = ? AND usage_point = ?",
                    (subscription, usage_point),
                ).fetchone()
                if latest is not None:
                    since = int(latest) - last_days * 86400
            rows = db.execute(
                "SELECT usage_point, meter_reading, start, duration, value, unit, flow_direction "
                "FROM readings WHERE subscription = ? AND usage_point = ? AND start > ? "
                "ORDER BY start",
                (subscription, usage_point, since),
            ).fetchall()
        return [StoredReading(*row) for row in rows]

    def reading_count(self, subscription: str) -> int:
        with self._connect() as db:
            row = db.execute(
                "SELECT COUNT(*) FROM readings WHERE subscription = ?", (subscription,)
            ).fetchone()
        return int(row[0])

    # notifications --------------------------------------------------------------
    def log_notification(self, resources: list[str], outcome: str) -> int:
        with self._connect() as db:
            cur = db.execute(
                "INSERT INTO notifications (received_at, resources, outcome) VALUES (?, ?, ?)",
                (time.time(), json.dumps(resources), outcome),
            )
        return int(cur.lastrowid or 0)

    def finish_notification(self, notification_id: int, outcome: str, readings: int) -> None:
        with self._connect() as db:
            db.execute(
                "UPDATE notifications SET outcome = ?, readings = ? WHERE id = ?",
                (outcome, readings, notification_id),
            )

    def notifications(self, limit: int = 50) -> list[LoggedNotification]:
        with self._connect() as db:
            rows = db.execute(
                "SELECT id, received_at, resources, outcome, readings FROM notifications "
                "ORDER BY id DESC LIMIT ?",
                (limit,),
            ).fetchall()
        return [LoggedNotification(i, at, list(json.loads(res)), o, n) for i, at, res, o, n in rows]


__all__ = ["LoggedNotification", "Store", "StoredReading", "StoredUsagePoint"]
