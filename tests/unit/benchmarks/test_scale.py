"""``benchmarks/scale.py`` (issue: performance) imports cleanly and sizes its run as the
issue says; the run itself is a benchmark, never a test (no timed assertions)."""

from __future__ import annotations

from benchmarks import scale


def test_thirteen_months_of_days() -> None:
    # 10,000 usage points x 13 months x 96 readings: the "about 380 M readings".
    assert scale._days(13) == 396
    assert 10_000 * scale._days(13) * 96 == 380_160_000


def test_nightly_window_is_the_last_local_day() -> None:
    # Local midnight of the last day in America/Los_Angeles (PST in December) as UTC.
    assert scale._iso(scale.LAST_DAY) == "2025-12-31T08:00:00Z"
