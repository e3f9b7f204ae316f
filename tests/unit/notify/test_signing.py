"""Notification signatures: HMAC-SHA256 (RFC 2104) over ``b"<timestamp>." + body``,
checked within a tolerance and across a secret rotation."""

from __future__ import annotations

import hashlib
import hmac
import time

from gbconnect.notify import signing
from gbconnect.notify.signing import sign, signature_headers, verify

SECRET = b"whsec-test-0123456789"
BODY = b'<?xml version="1.0" encoding="UTF-8"?>\n<BatchList xmlns="http://naesb.org/espi"/>\n'
NOW = 1_764_489_600


def test_sign_matches_an_independent_hmac_sha256() -> None:
    expected = hmac.new(SECRET, b"1764489600." + BODY, hashlib.sha256).hexdigest()
    assert sign(SECRET, NOW, BODY) == expected
    assert len(expected) == 64


def test_sign_prefixes_the_decimal_timestamp_and_a_dot() -> None:
    key, ts, body = b"key", 0, b"The quick brown fox jumps over the lazy dog"
    assert sign(key, ts, body) == hmac.new(key, b"0." + body, hashlib.sha256).hexdigest()


def test_headers_carry_timestamp_and_v1_signature() -> None:
    headers = signature_headers(SECRET, BODY, NOW)
    assert headers == {
        "Gbconnect-Timestamp": str(NOW),
        "Gbconnect-Signature": f"v1={sign(SECRET, NOW, BODY)}",
    }


def test_signed_headers_verify() -> None:
    headers = signature_headers(SECRET, BODY, NOW)
    assert verify(SECRET, headers, BODY, NOW + 299)
    assert verify(SECRET, headers, BODY, NOW - 299)


def test_header_names_are_case_insensitive() -> None:
    headers = {k.lower(): v for k, v in signature_headers(SECRET, BODY, NOW).items()}
    assert verify(SECRET, headers, BODY, NOW)


def test_changed_body_fails() -> None:
    headers = signature_headers(SECRET, BODY, NOW)
    assert not verify(SECRET, headers, BODY + b" ", NOW)


def test_old_timestamp_fails() -> None:
    headers = signature_headers(SECRET, BODY, NOW)
    assert not verify(SECRET, headers, BODY, NOW + 301)
    assert not verify(SECRET, headers, BODY, NOW + 60, tolerance=30)


def test_timestamp_from_the_future_fails() -> None:
    headers = signature_headers(SECRET, BODY, NOW + 3600)
    assert not verify(SECRET, headers, BODY, NOW)


def test_replayed_signature_with_a_new_timestamp_fails() -> None:
    headers = signature_headers(SECRET, BODY, NOW)
    headers["Gbconnect-Timestamp"] = str(NOW + 10)
    assert not verify(SECRET, headers, BODY, NOW + 10)


def test_wrong_secret_fails() -> None:
    headers = signature_headers(SECRET, BODY, NOW)
    assert not verify(b"another-secret", headers, BODY, NOW)


def test_missing_or_malformed_headers_fail() -> None:
    good = signature_headers(SECRET, BODY, NOW)
    assert not verify(SECRET, {}, BODY, NOW)
    assert not verify(SECRET, {"Gbconnect-Timestamp": str(NOW)}, BODY, NOW)
    assert not verify(SECRET, {**good, "Gbconnect-Timestamp": "-5"}, BODY, NOW)
    assert not verify(SECRET, {**good, "Gbconnect-Timestamp": "１２"}, BODY, NOW)
    assert not verify(SECRET, {**good, "Gbconnect-Signature": "v0=" + "0" * 64}, BODY, NOW)
    assert not verify(SECRET, {**good, "Gbconnect-Signature": "v1=é"}, BODY, NOW)


def test_rotation_two_signatures_either_secret_verifies() -> None:
    old, new = b"old-secret", b"new-secret"
    headers = signature_headers([old, new], BODY, NOW)
    value = headers["Gbconnect-Signature"]
    assert value == f"v1={sign(old, NOW, BODY)},v1={sign(new, NOW, BODY)}"
    assert verify(old, headers, BODY, NOW)
    assert verify(new, headers, BODY, NOW)
    assert not verify(b"third-secret", headers, BODY, NOW)


def test_rotation_header_with_spaces_verifies() -> None:
    value = f"v1={sign(b'a', NOW, BODY)}, v1={sign(b'b', NOW, BODY)}"
    headers = {"Gbconnect-Timestamp": str(NOW), "Gbconnect-Signature": value}
    assert verify(b"b", headers, BODY, NOW)


def test_receiver_snippet_in_the_docstring_verifies() -> None:
    doc = signing.__doc__ or ""
    lines = doc.split("::", 1)[1].strip("\n").splitlines()
    code = "\n".join(line[4:] for line in lines if line.startswith("    "))
    assert len(code.splitlines()) == 5
    scope: dict[str, object] = {
        "secret": SECRET,
        "body": BODY,
        "headers": signature_headers(SECRET, BODY, int(time.time())),
    }
    exec(code, scope)
    assert scope["ok"] is True


def test_receiver_snippet_refuses_a_changed_body_and_a_non_ascii_signature() -> None:
    doc = signing.__doc__ or ""
    lines = doc.split("::", 1)[1].strip("\n").splitlines()
    code = "\n".join(line[4:] for line in lines if line.startswith("    "))
    headers = signature_headers(SECRET, BODY, int(time.time()))
    scope: dict[str, object] = {"secret": SECRET, "body": BODY + b"x", "headers": headers}
    exec(code, scope)
    assert scope["ok"] is False
    scope = {"secret": SECRET, "body": BODY, "headers": {**headers, "Gbconnect-Signature": "v1=é"}}
    exec(code, scope)
    assert scope["ok"] is False
