"""Rate limits and throttles (issue 12, part 8; STANDARD.md section 7).

- :mod:`~gbconnect.ratelimit.windows`: the window arithmetic (fixed windows, sliding
  windows of buckets);
- :mod:`~gbconnect.ratelimit.store`: where the counts live, one store per database:
  the process's memory on SQLite, the shared ``rate_counter`` table on PostgreSQL
  (hits merged in batches, with the over-admission bound it explains);
- :mod:`~gbconnect.ratelimit.limits`: the API's limits per vendor and client id,
  429 with ``Retry-After`` and the ``RateLimit-Policy``/``RateLimit`` fields, and
  :func:`usage` for the third-party portal;
- :mod:`~gbconnect.ratelimit.throttle`: sign-in and one-time-code throttles on the
  same store.

The ``limits`` package (in DESIGN's stack) was considered: its window arithmetic is
what :mod:`~gbconnect.ratelimit.windows` does in 80 lines, and it has no PostgreSQL
storage nor a way to batch hits, which is what the hot path needs.
"""

from gbconnect.ratelimit.limits import (
    ApiLimiter,
    Count,
    Decision,
    Policy,
    RateLimited,
    limiter_for,
    policies,
    usage,
    vendor_key,
)
from gbconnect.ratelimit.store import MemoryStore, PostgresStore, Store, store_for
from gbconnect.ratelimit.throttle import Throttle

__all__ = [
    "ApiLimiter",
    "Count",
    "Decision",
    "MemoryStore",
    "Policy",
    "PostgresStore",
    "RateLimited",
    "Store",
    "Throttle",
    "limiter_for",
    "policies",
    "store_for",
    "usage",
    "vendor_key",
]
