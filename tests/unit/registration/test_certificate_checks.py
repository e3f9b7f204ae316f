"""What a client certificate must be to be registered (PG&E: CA-issued, RSA of at
least 2048 bits, SHA-2; RFC 5280 extended key usage), and its RFC 8705 thumbprint."""

from __future__ import annotations

import base64
import hashlib

import pytest
from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding
from cryptography.x509.oid import ExtendedKeyUsageOID
from tests.factories.certificates import make_cert, make_csr, sha1_cert

from gbconnect.registration.certificates import (
    CertificateError,
    check_certificate,
    load_certificate,
    load_request,
    thumbprint,
)


def _refused(pem: bytes) -> str:
    with pytest.raises(CertificateError) as caught:
        check_certificate(load_certificate(pem))
    return str(caught.value)


def test_a_good_client_certificate_passes() -> None:
    check_certificate(load_certificate(make_cert()))
    check_certificate(load_certificate(make_cert(usages=[])))  # no EKU: any use


def test_rsa_under_2048_bits_refused() -> None:
    assert "1024 bits; at least 2048" in _refused(make_cert(bits=1024))


def test_sha1_signature_refused() -> None:
    assert "SHA-1; SHA-2 is required" in _refused(sha1_cert())


def test_expired_refused() -> None:
    assert "expired on" in _refused(make_cert(days=-1, start_days=-30))


def test_server_only_certificate_refused() -> None:
    message = _refused(make_cert(usages=[ExtendedKeyUsageOID.SERVER_AUTH]))
    assert "clientAuth" in message


def test_ca_certificate_refused() -> None:
    assert "certificate authority" in _refused(make_cert(ca=True))


@pytest.mark.parametrize(
    "garbage",
    [
        b"",
        b"hello",
        b"-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n",
        b"\xff" * 99,
    ],
)
def test_garbage_refused_with_a_sentence(garbage: bytes) -> None:
    with pytest.raises(CertificateError, match=r"not a PEM-encoded X\.509 certificate"):
        load_certificate(garbage)


def test_oversized_file_refused() -> None:
    with pytest.raises(CertificateError, match="larger than 64 KB"):
        load_certificate(b"x" * (65 * 1024))


def test_thumbprint_is_rfc8705_x5t_s256() -> None:
    cert = load_certificate(make_cert())
    der = cert.public_bytes(Encoding.DER)
    expected = base64.urlsafe_b64encode(hashlib.sha256(der).digest()).rstrip(b"=").decode()
    assert thumbprint(der) == expected and len(expected) == 43 and "=" not in expected


def test_certificate_request_checks() -> None:
    csr, _ = make_csr()
    assert isinstance(load_request(csr), x509.CertificateSigningRequest)
    weak, _ = make_csr(bits=1024)
    with pytest.raises(CertificateError, match="1024 bits"):
        load_request(weak)
    with pytest.raises(CertificateError, match="not a PEM-encoded certificate request"):
        load_request(b"nonsense")
    # A request whose signed content was changed: its signature no longer holds.
    body = csr.decode().splitlines()
    raw = bytearray(base64.b64decode("".join(body[1:-1])))
    raw[40] ^= 0x01
    encoded = base64.encodebytes(bytes(raw)).decode()
    tampered = f"{body[0]}\n{encoded}{body[-1]}\n".encode()
    with pytest.raises(CertificateError):
        load_request(tampered)
