"""verify_signature: gbconnect's notification signature (HMAC-SHA256, RFC 2104) as
the server signs it (``gbconnect.notify.signing``), rotation, staleness, tampering and
malformed headers, never an exception."""

from __future__ import annotations

import time

import pytest

from gbconnect.client import FeedError, parse_batch_list, verify_signature
from gbconnect.notify.signing import signature_headers

BODY = b'<BatchList xmlns="http://naesb.org/espi"><resources>https://x/y</resources></BatchList>'
NOW = 1_750_000_000


def test_the_servers_signature_verifies_with_bytes_or_str_secrets() -> None:
    headers = signature_headers(b"secret", BODY, NOW)
    assert verify_signature(b"secret", headers, BODY, now=NOW)
    assert verify_signature("secret", headers, BODY, now=NOW + 300)
    lower = {k.lower(): v for k, v in headers.items()}
    assert verify_signature("secret", lower, BODY, now=NOW)


def test_rotation_either_side() -> None:
    both = signature_headers([b"new", b"old"], BODY, NOW)
    assert verify_signature(b"old", both, BODY, now=NOW)
    assert verify_signature([b"other", "new"], signature_headers(b"new", BODY, NOW), BODY, now=NOW)
    assert not verify_signature([b"a", b"b"], both, BODY, now=NOW)


def test_default_clock() -> None:
    assert verify_signature(b"k", signature_headers(b"k", BODY, int(time.time())), BODY)


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"Gbconnect-Timestamp": str(NOW)},
        {"Gbconnect-Signature": "v1=00"},
        {"Gbconnect-Timestamp": "-5", "Gbconnect-Signature": "v1=00"},
        {"Gbconnect-Timestamp": "1e9", "Gbconnect-Signature": "v1=00"},
        {"Gbconnect-Timestamp": "９９", "Gbconnect-Signature": "v1=00"},
        {"Gbconnect-Timestamp": "9" * 40, "Gbconnect-Signature": "v1=00"},
        {"Gbconnect-Timestamp": str(NOW), "Gbconnect-Signature": "v2=abc, garbage,é"},
    ],
)
def test_malformed_headers_are_false(headers: dict[str, str]) -> None:
    assert verify_signature(b"secret", headers, BODY, now=NOW) is False


def test_stale_tampered_or_wrong_secret_are_false() -> None:
    headers = signature_headers(b"secret", BODY, NOW)
    assert not verify_signature(b"secret", headers, BODY, now=NOW + 301)
    assert not verify_signature(b"secret", headers, BODY, now=NOW - 301)
    assert not verify_signature(b"secret", headers, BODY + b" ", now=NOW)
    assert not verify_signature(b"Secret", headers, BODY, now=NOW)
    assert verify_signature(b"secret", headers, BODY, now=NOW + 1000, tolerance=2000)


def test_parse_batch_list() -> None:
    assert parse_batch_list(BODY) == ["https://x/y"]
    prefixed = (
        b'<?xml version="1.0"?><!-- c --><e:BatchList xmlns:e="http://naesb.org/espi">'
        b"<e:resources> https://a/1 </e:resources><e:resources>http://b/2</e:resources>"
        b"</e:BatchList>"
    )
    assert parse_batch_list(prefixed) == ["https://a/1", "http://b/2"]


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b"", "empty"),
        (b"x" * (1024 * 1024 + 1), "at most"),
        (b"<BatchList/>", "not an ESPI <BatchList>"),
        (b'<BatchList xmlns="http://naesb.org/espi"/>', "names no resource URI"),
        (b'<BatchList xmlns="http://naesb.org/espi"><other/></BatchList>', "only <resources>"),
        (
            b'<BatchList xmlns="http://naesb.org/espi"><resources><a/></resources></BatchList>',
            "holds an element",
        ),
        (
            b'<BatchList xmlns="http://naesb.org/espi"><resources>/rel</resources></BatchList>',
            "absolute",
        ),
        (
            b'<BatchList xmlns="http://naesb.org/espi"><resources>https://a b</resources>'
            b"</BatchList>",
            "whitespace",
        ),
        (b"<BatchList", "well-formed"),
    ],
)
def test_parse_batch_list_refusals(body: bytes, message: str) -> None:
    with pytest.raises(FeedError, match=message):
        parse_batch_list(body)
