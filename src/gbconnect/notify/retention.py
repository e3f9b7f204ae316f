"""The delivery log's retention, applied by the worker (GBA PSH004's log kept
``GBCONNECT_NOTIFY_LOG_DAYS`` days, REQ.21 FB_39).

:func:`purge_delivery_log` is a hook of the notification worker
(``gbconnect.jobs.worker`` runs it hourly, :class:`gbconnect.jobs.periodic.Every`): it runs
:func:`gbconnect.notify.admin.purge` at ``now - notify_log_days``, in a transaction of
its own. ``gbconnect notify purge`` does the same by hand.
"""

from __future__ import annotations

from sqlalchemy.orm import Session, sessionmaker

from gbconnect.config import Settings
from gbconnect.db import session_scope
from gbconnect.notify.admin import purge

DAY = 86400.0


def purge_delivery_log(factory: sessionmaker[Session], settings: Settings, now: float) -> int:
    """How many notifications older than ``GBCONNECT_NOTIFY_LOG_DAYS`` were deleted."""
    with session_scope(factory) as session:
        return purge(session, now - settings.notify_log_days * DAY)


__all__ = ["purge_delivery_log"]
