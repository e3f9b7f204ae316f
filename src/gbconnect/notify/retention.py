"""The delivery log's retention, applied by the worker (GBA PSH004's log kept
``GBCONNECT_NOTIFY_LOG_DAYS`` days, REQ.21 FB_39).

:class:`RetentionHook` is a hook of the notification worker (``gbconnect.jobs.worker``
``hooks``: called with the session factory, the settings and the time on each pass of
its loop): at most once per ``every`` seconds it runs
:func:`gbconnect.notify.admin.purge` at ``now - notify_log_days``, in a transaction of
its own. ``gbconnect notify purge`` does the same by hand.
"""

from __future__ import annotations

from sqlalchemy.orm import Session, sessionmaker

from gbconnect.config import Settings
from gbconnect.db import session_scope
from gbconnect.jobs.periodic import Every
from gbconnect.notify.admin import purge

DAY = 86400.0


def purge_delivery_log(factory: sessionmaker[Session], settings: Settings, now: float) -> int:
    """How many notifications older than ``GBCONNECT_NOTIFY_LOG_DAYS`` were deleted."""
    with session_scope(factory) as session:
        return purge(session, now - settings.notify_log_days * DAY)


def RetentionHook(every: float = 3600.0) -> Every:
    """:func:`purge_delivery_log` at most once per ``every`` seconds (an hour)."""
    return Every(every, purge_delivery_log)


__all__ = ["RetentionHook", "purge_delivery_log"]
