"""Retry-After (RFC 9110 section 10.2.3) and the backoff of the SDK."""

from __future__ import annotations

import ssl
from pathlib import Path

import pytest
import trustme

from gbconnect.client.http import backoff, make_http, retry_after, tls_context


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


def test_tls_context_loads_a_ca_file_a_ca_directory_and_a_client_certificate(
    tmp_path: Path,
) -> None:
    ca = trustme.CA()
    leaf = ca.issue_cert("me.example")
    ca_file = tmp_path / "ca.pem"
    ca.cert_pem.write_to_path(str(ca_file))
    both = tmp_path / "me.pem"
    leaf.private_key_and_cert_chain_pem.write_to_path(str(both))
    key = tmp_path / "key.pem"
    leaf.private_key_pem.write_to_path(str(key))
    chain = tmp_path / "chain.pem"
    chain.write_bytes(b"".join(p.bytes() for p in leaf.cert_chain_pems))
    ctx = tls_context(str(both), str(ca_file))
    assert ctx.verify_mode == ssl.CERT_REQUIRED and ctx.get_ca_certs()
    tls_context((str(chain), str(key)), str(ca_file))
    assert tls_context(None, str(tmp_path)).verify_mode == ssl.CERT_REQUIRED
    assert tls_context(None, False).verify_mode == ssl.CERT_NONE
    given = ssl.create_default_context()
    assert tls_context(None, given) is given
    with pytest.raises(ssl.SSLError):
        tls_context(str(ca_file))  # a certificate without its key


def test_make_http_emits_no_deprecation_warning(recwarn: pytest.WarningsRecorder) -> None:
    with make_http(verify=True) as client:
        assert client.headers["user-agent"].startswith("gbconnect-client/")
    assert not recwarn.list
