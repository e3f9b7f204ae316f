"""Which content coding a response gets (gbconnect.web.compression; RFC 9110 section
12.5.3)."""

from __future__ import annotations

import pytest

from gbconnect.web.compression import accepted, choose


@pytest.mark.parametrize(
    ("header", "coding"),
    [
        ("", None),
        ("identity", None),
        ("gzip", "gzip"),
        ("gzip, deflate, br", "gzip"),
        ("gzip, deflate, br, zstd", "zstd"),
        ("zstd;q=0, gzip", "gzip"),
        ("ZSTD;Q=0.5", "zstd"),
        ("gzip;q=0", None),
        ("*", "zstd"),
        ("*;q=0, gzip", "gzip"),
        ("x-gzip", "gzip"),
        ("gzip;q=abc", None),
        (" , ;q=1,", None),
    ],
)
def test_the_coding_follows_accept_encoding(header: str, coding: str | None) -> None:
    assert choose(header) == coding


def test_zstd_is_not_offered_without_the_library() -> None:
    assert choose("zstd, gzip", zstd_available=False) == "gzip"
    assert choose("zstd", zstd_available=False) is None


def test_weights_are_read() -> None:
    assert accepted("gzip;q=0.8, zstd") == {"gzip": 0.8, "zstd": 1.0}
