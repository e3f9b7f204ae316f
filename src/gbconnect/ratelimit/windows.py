"""The window arithmetic of the rate limits: pure functions of a time and a window.

Two ways of counting, both stored as one counter per ``(key, window start)``:

* **fixed windows** (the API's limits: PG&E publishes "1 request/s per vendor,
  2,000/hour and 20,000/day per client id", STANDARD.md section 7): a window of
  ``w`` seconds starts at every multiple of ``w`` since the epoch (whole seconds,
  clock hours, UTC days). A hit counts in the window it falls in; the window's count
  is compared with the limit; the quota comes back whole when the window ends, which
  is what ``Retry-After`` (RFC 9110 section 10.2.3) and the ``t`` parameter of the
  ``RateLimit`` field (draft-ietf-httpapi-ratelimit-headers section 4.1.2) say.
  At a window's edge a client may spend a window's quota twice within a few
  seconds; that is the known cost of fixed windows, accepted for their exact
  arithmetic (one counter per window, a reset everybody can compute).
* **sliding windows of buckets** (the sign-in and one-time-code throttles, which
  counted failures in a sliding log before, gbconnect.web.security.LoginThrottle):
  the window is cut into :data:`BUCKETS` buckets; the count is the sum of the buckets
  that overlap the last ``w`` seconds. A hit is forgotten between ``w`` and
  ``w + w/BUCKETS`` seconds after it happened (never sooner: a throttle errs on the
  careful side).
"""

from __future__ import annotations

import math

#: Buckets of a sliding window.
BUCKETS = 10


def fixed_start(at: float, window: int) -> int:
    """The start (epoch seconds) of the fixed window of ``window`` seconds holding ``at``."""
    if window <= 0:
        raise ValueError("a window lasts at least one second")
    return int(at // window) * window


def fixed_reset(at: float, window: int) -> int:
    """Whole seconds from ``at`` until the fixed window holding it ends (at least 1)."""
    return max(1, math.ceil(fixed_start(at, window) + window - at))


def bucket_width(window: int) -> int:
    """The width of one bucket of a sliding window (at least one second)."""
    return max(1, math.ceil(window / BUCKETS))


def sliding_buckets(at: float, window: int) -> list[int]:
    """The starts of the buckets that overlap the ``window`` seconds up to ``at``,
    oldest first."""
    width = bucket_width(window)
    newest = fixed_start(at, width)
    oldest = fixed_start(at - window, width)
    return list(range(oldest, newest + 1, width))


def sliding_count(at: float, window: int, counts: dict[int, int]) -> int:
    """The hits counted in the sliding window up to ``at``, ``counts`` mapping bucket
    starts to their counts."""
    return sum(counts.get(start, 0) for start in sliding_buckets(at, window))


def sliding_retry(at: float, window: int, counts: dict[int, int], limit: int) -> int:
    """Whole seconds from ``at`` until the sliding count drops below ``limit`` (at
    least 1): the oldest buckets leave the window one by one."""
    width = bucket_width(window)
    buckets = sliding_buckets(at, window)
    total = sum(counts.get(b, 0) for b in buckets)
    for start in buckets:
        if total < limit:
            break
        total -= counts.get(start, 0)
        # This bucket stops overlapping the window once ``at - window`` passes its end.
        leaves = start + width + window
        if total < limit:
            return max(1, math.ceil(leaves - at))
    return 1 if total < limit else max(1, math.ceil(buckets[-1] + width + window - at))
