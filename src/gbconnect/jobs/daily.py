"""PG&E's daily "data ready" notice (STANDARD.md section 3: PG&E notifies "daily when
new data is ready", opt-in).

With ``GBCONNECT_NOTIFY_DAILY_HOUR`` set, once a day from that local hour every third
party with active authorizations is sent a ``BatchList`` naming its Bulk URL (when
registered for Bulk, FB_35) or the ``Batch/Subscription`` of each authorization. Each
worker process runs the pass at most once a day; the notices' idempotency keys are
derived from the third party and the day, so several workers (or a restart) never
send a day's notice twice: the second insert is ignored.
"""

from __future__ import annotations

import hashlib
from collections import defaultdict
from datetime import date, datetime
from typing import cast

from sqlalchemy import Table, or_, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session, sessionmaker

from gbconnect.config import Settings
from gbconnect.db import session_scope
from gbconnect.jobs.expand import MAX_URIS, data_uris
from gbconnect.notify.models import QUEUED, Notification
from gbconnect.oauth import models as om

REASON = "DailyDataReady"


def idempotency_key(application_id: int, day: date, part: int) -> str:
    """The key of a third party's notice of ``day`` (part ``part`` of several)."""
    text = f"daily:{application_id}:{day.isoformat()}:{part}"
    return hashlib.sha256(text.encode()).hexdigest()[:32]


def queue_daily_notices(session: Session, settings: Settings, now: float, day: date) -> int:
    """Queue ``day``'s notices (those not queued yet); returns how many were new."""
    auth = om.Authorization
    ended = auth.authorized_start + auth.authorized_duration
    subscriptions: dict[int, set[int]] = defaultdict(set)
    rows = session.execute(
        select(om.Subscription.application_id, om.Subscription.id)
        .join(auth, auth.id == om.Subscription.authorization_id)
        .where(
            auth.status == om.ACTIVE,
            or_(auth.authorized_duration.is_(None), ended > int(now)),
        )
    )
    for app_id, sub_id in rows:
        subscriptions[app_id].add(sub_id)
    values = []
    for app_id, uris in data_uris(session, settings, subscriptions).items():
        for part, start in enumerate(range(0, len(uris), MAX_URIS)):
            values.append(
                {
                    "application_id": app_id,
                    "reason": REASON,
                    "uris": uris[start : start + MAX_URIS],
                    "idempotency_key": idempotency_key(app_id, day, part),
                    "state": QUEUED,
                    "attempts": 0,
                    "created_at": now,
                    "next_attempt_at": now,
                }
            )
    if not values:
        return 0
    table = cast(Table, Notification.__table__)
    dialect = session.get_bind().dialect.name
    insert = (postgresql.insert if dialect == "postgresql" else sqlite.insert)(table)
    result = session.execute(
        insert.on_conflict_do_nothing(index_elements=["idempotency_key"]), values
    )
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


class DailyNotices:
    """A worker hook: queues the day's notices once the configured hour has come."""

    def __init__(self) -> None:
        self.done: date | None = None

    def __call__(self, factory: sessionmaker[Session], settings: Settings, now: float) -> int:
        hour = settings.notify_daily_hour
        if hour is None:
            return 0
        local = datetime.fromtimestamp(now, settings.zone)
        if local.hour < hour or self.done == local.date():
            return 0
        with session_scope(factory) as session:
            queued = queue_daily_notices(session, settings, now, local.date())
        self.done = local.date()
        return queued


__all__ = ["REASON", "DailyNotices", "idempotency_key", "queue_daily_notices"]
