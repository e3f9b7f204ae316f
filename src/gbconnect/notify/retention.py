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
from gbconnect.notify.admin import purge

DAY = 86400.0


class RetentionHook:
    """Purge the delivery log at most once per ``every`` seconds (an hour by default)."""

    def __init__(self, every: float = 3600.0) -> None:
        self.every = every
        self._next = 0.0

    def __call__(self, factory: sessionmaker[Session], settings: Settings, now: float) -> int:
        """How many notifications were deleted now (0 when it is not yet time)."""
        if now < self._next:
            return 0
        self._next = now + self.every  # a failing purge is tried again next period
        with session_scope(factory) as session:
            return purge(session, now - settings.notify_log_days * DAY)


__all__ = ["RetentionHook"]
