"""Work the worker's loop does now and then: :class:`Every` runs a hook at most once
per period (the first call runs it)."""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy.orm import Session, sessionmaker

from gbconnect.config import Settings

Hook = Callable[[sessionmaker[Session], Settings, float], int]
"""A periodic piece of work: called with the session factory, the settings and the
time; returns how much it did."""


class Every:
    """``hook`` at most once per ``seconds``; a hook that fails is tried again at its
    next period, not at every pass."""

    def __init__(self, seconds: float, hook: Hook) -> None:
        self.seconds, self.hook, self._next = seconds, hook, 0.0

    def __call__(self, factory: sessionmaker[Session], settings: Settings, now: float) -> int:
        """What ``hook`` did now; 0 when it is not yet time."""
        if now < self._next:
            return 0
        self._next = now + self.seconds
        return self.hook(factory, settings, now)


__all__ = ["Every", "Hook"]
