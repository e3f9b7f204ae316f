"""Throttles of guessing: sign-in failures and one-time codes, counted in the same
store as the API's limits (:func:`~gbconnect.ratelimit.store.store_for`: shared by
every process on PostgreSQL).

A throttle counts hits of a key in a sliding window of buckets
(:mod:`gbconnect.ratelimit.windows`) with exact store calls (one statement each on
PostgreSQL: these are rare requests, where exactness matters more than a round trip).

For a page that checks one-time codes (the guest access pages)::

    decision = Throttle(store_for(engine)).hit(f"otp:{account}:{address}", 5, 900)
    if not decision.allowed:
        ...  # 429, Retry-After: decision.retry_after

Every hit counts, the refused ones too: a guesser who keeps trying keeps the door
shut, while the count of a patient customer drains as the window slides.
"""

from __future__ import annotations

import time

from gbconnect.ratelimit.limits import Count, Decision, Policy
from gbconnect.ratelimit.store import Store
from gbconnect.ratelimit.windows import bucket_width, fixed_start, sliding_buckets, sliding_retry


class Throttle:
    """Sliding-window counts over a :class:`~gbconnect.ratelimit.store.Store`."""

    def __init__(self, store: Store) -> None:
        self.store = store

    def add(self, key: str, window: int, at: float | None = None) -> int:
        """Count one hit of ``key`` now; the bucket's new count."""
        at = time.time() if at is None else at
        width = bucket_width(window)
        start = fixed_start(at, width)
        return self.store.add(key, start, start + width + window)

    def counts(self, key: str, window: int, at: float | None = None) -> dict[int, int]:
        at = time.time() if at is None else at
        return self.store.counts(key, sliding_buckets(at, window))

    def count(self, key: str, window: int, at: float | None = None) -> int:
        """Hits of ``key`` in the last ``window`` seconds."""
        return sum(self.counts(key, window, at).values())

    def clear(self, key: str) -> None:
        """Forget ``key``'s hits (a successful sign-in clears its pair)."""
        self.store.clear(key)

    def hit(self, key: str, limit: int, window: int) -> Decision:
        """Count a hit of ``key`` and say whether it is within ``limit`` hits per
        sliding ``window`` seconds; when not, ``retry_after`` says when to come back."""
        at = time.time()
        self.add(key, window, at)
        counts = self.counts(key, window, at)
        used = sum(counts.values())
        policy = Policy("throttle", "client", limit, window)
        if used <= limit:
            return Decision(True, (Count(policy, used, limit - used, window),))
        retry = sliding_retry(at, window, counts, limit)
        return Decision(False, (Count(policy, used, 0, retry),), retry, (policy.name,))
