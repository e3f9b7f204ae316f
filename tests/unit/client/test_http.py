"""Retry-After (RFC 9110 section 10.2.3) and the backoff of the SDK."""

from __future__ import annotations

from gbconnect.client.http import backoff, retry_after


def test_retry_after_reads_seconds_and_http_dates() -> None:
    assert retry_after("7") == 7.0
    assert retry_after(" 0 ") == 0.0
    assert retry_after("Wed, 21 Oct 2015 07:28:00 GMT", now=1445412470.0) == 10.0
    assert retry_after("Wed, 21 Oct 2015 07:28:00 GMT", now=1445412490.0) == 0.0


def test_retry_after_ignores_what_it_cannot_read() -> None:
    for value in (None, "", "soon", "-5", "1.5e9x", "Wed, 99 Foo 2015"):
        assert retry_after(value) is None


def test_backoff_honours_the_hint_within_the_cap() -> None:
    assert backoff(0, 60.0, 3.0) == 3.0
    assert backoff(0, 60.0, 3600.0) == 60.0


def test_backoff_grows_with_full_jitter_and_stays_capped() -> None:
    for attempt in range(12):
        for _ in range(50):
            wait = backoff(attempt, 8.0)
            assert 0.1 <= wait <= max(0.1, min(8.0, 2**attempt))
