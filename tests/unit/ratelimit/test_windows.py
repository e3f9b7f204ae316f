"""The window arithmetic of the rate limits (gbconnect.ratelimit.windows): fixed
windows for the API's limits, sliding windows of buckets for the throttles."""

from __future__ import annotations

import pytest

from gbconnect.ratelimit.windows import (
    BUCKETS,
    bucket_width,
    fixed_reset,
    fixed_start,
    sliding_buckets,
    sliding_count,
    sliding_retry,
)

HOUR = 3600
T = 1_704_096_000  # 2024-01-01T08:00:00Z, a whole hour and day boundary


def test_fixed_windows_start_at_multiples_of_their_length() -> None:
    assert fixed_start(T, HOUR) == T
    assert fixed_start(T + 3599.9, HOUR) == T
    assert fixed_start(T + 3600, HOUR) == T + HOUR
    assert fixed_start(T + 0.5, 1) == T
    assert fixed_start(T + 7 * HOUR, 86400) == T - 8 * HOUR  # UTC days


def test_reset_counts_whole_seconds_to_the_windows_end() -> None:
    assert fixed_reset(T, HOUR) == HOUR
    assert fixed_reset(T + 3599.2, HOUR) == 1
    assert fixed_reset(T + 0.999, 1) == 1
    assert fixed_reset(T + 1800.5, HOUR) == 1800  # 1799.5 rounded up


def test_a_window_lasts_at_least_a_second() -> None:
    with pytest.raises(ValueError):
        fixed_start(T, 0)


def test_sliding_window_buckets_cover_the_window() -> None:
    width = bucket_width(900)
    assert width == 90 and bucket_width(5) == 1
    buckets = sliding_buckets(T + 45, 900)
    assert buckets[0] <= T + 45 - 900 < buckets[0] + width
    assert buckets[-1] == T
    assert len(buckets) == BUCKETS + 1


def test_sliding_count_forgets_hits_between_window_and_a_bucket_more() -> None:
    counts = {T: 3, T + 90: 2}
    assert sliding_count(T + 100, 900, counts) == 5
    assert sliding_count(T + 900, 900, counts) == 5  # still within the window
    assert sliding_count(T + 990, 900, counts) == 2  # the first bucket has left
    assert sliding_count(T + 1080, 900, counts) == 0


def test_sliding_retry_says_when_the_count_drops_below_the_limit() -> None:
    counts = {T: 3, T + 90: 2}
    # Limit 5: at T + 100 the count is 5; it drops to 2 when the bucket T leaves.
    assert sliding_retry(T + 100, 900, counts, 5) == 990 - 100
    # Limit 2: both buckets must leave.
    assert sliding_retry(T + 100, 900, counts, 2) == 1080 - 100
    assert sliding_retry(T + 100, 900, counts, 6) == 1
