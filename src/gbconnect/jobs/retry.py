"""When a failed notification is tried again (GBA PSH004; STANDARD.md section 3).

Exponential backoff with jitter: the n-th retry waits about ``30 s x 2^(n-1)``, capped
at one hour, each wait drawn between half and all of it ("equal jitter") so that the
retries of many notifications to a receiver that came back do not arrive in step.
UtilityAPI retries for 72 hours; so do we by default (``GBCONNECT_NOTIFY_RETRY_HOURS``):
past that a notification is dead-lettered, visible and replayable
(``gbconnect notify status|replay``). At the cap, 72 hours is about 80 attempts.
"""

from __future__ import annotations

import random

FIRST_DELAY = 30.0
MAX_DELAY = 3600.0


def delay(attempts: int, rng: random.Random | None = None, first: float = FIRST_DELAY) -> float:
    """Seconds to wait after the ``attempts``-th failed attempt (1 for the first);
    ``first`` is GBCONNECT_NOTIFY_FIRST_RETRY."""
    full = min(MAX_DELAY, first * 2.0 ** max(0, min(attempts - 1, 20)))
    return full / 2 + (rng or random).uniform(0, full / 2)


def next_attempt(
    created_at: float,
    attempts: int,
    now: float,
    retry_seconds: float,
    rng: random.Random | None = None,
    first: float = FIRST_DELAY,
) -> float | None:
    """When to try again after ``attempts`` failures, or None when the retry window
    that started at ``created_at`` is over (the notification is dead). The last try
    is at the end of the window."""
    end = created_at + retry_seconds
    if now >= end:
        return None
    return min(now + delay(attempts, rng, first), end)


__all__ = ["FIRST_DELAY", "MAX_DELAY", "delay", "next_attempt"]
