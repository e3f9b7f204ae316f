"""The retry schedule of a failed notification (GBA PSH004; UtilityAPI's 72 hours):
exponential, jittered, capped at an hour, over at the end of the window."""

from __future__ import annotations

import random

from gbconnect.jobs.retry import FIRST_DELAY, MAX_DELAY, delay, next_attempt


def test_each_wait_doubles_up_to_an_hour_with_jitter() -> None:
    rng = random.Random(1)
    for attempts in range(1, 30):
        full = min(MAX_DELAY, FIRST_DELAY * 2 ** (attempts - 1))
        for _ in range(50):
            assert full / 2 <= delay(attempts, rng) <= full


def test_jitter_spreads_the_retries_of_many_notifications() -> None:
    rng = random.Random(2)
    waits = {round(delay(3, rng), 3) for _ in range(100)}
    assert len(waits) > 90


def test_the_last_attempt_is_at_the_end_of_the_window_then_none() -> None:
    window = 72 * 3600.0
    at = next_attempt(0.0, 50, window - 10, window, random.Random(3))
    assert at == window
    assert next_attempt(0.0, 51, window, window, random.Random(3)) is None


def test_72_hours_is_about_80_attempts() -> None:
    rng = random.Random(4)
    t, attempts = 0.0, 0
    while True:
        attempts += 1
        nxt = next_attempt(0.0, attempts, t, 72 * 3600.0, rng)
        if nxt is None:
            break
        t = nxt
    assert 70 <= attempts <= 150


def test_a_shorter_first_retry_scales_the_whole_schedule() -> None:
    """GBCONNECT_NOTIFY_FIRST_RETRY (tests, a conformance run's PSH004): 2 s, then 4 s."""
    rng = random.Random(5)
    assert 1.0 <= delay(1, rng, first=2.0) <= 2.0
    assert 2.0 <= delay(2, rng, first=2.0) <= 4.0
    at = next_attempt(0.0, 1, 100.0, 3600.0, rng, first=2.0)
    assert at is not None and 101.0 <= at <= 102.0
