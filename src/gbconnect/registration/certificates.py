"""Client certificates of third-party applications (mutual TLS).

PG&E's Share My Data: every API call except browser redirects uses mutual TLS with a
CA-issued client certificate, RSA of at least 2048 bits, signed with SHA-2
(STANDARD.md section 7). A third party registers its certificate (an upload), or has
the utility's own certificate authority sign its certificate request
(:func:`issue_from_csr`). The API then knows a certificate by its RFC 8705 section
3.1 thumbprint, ``x5t#S256`` (:func:`thumbprint`), and accepts a client or customer
access token only with a current, unrevoked certificate of the token's application
(:mod:`gbconnect.oauth.mtls`).

Each refusal is a :class:`CertificateError` with one sentence; each change is
recorded in the audit log (``certificate.added``, ``certificate.issued``,
``certificate.revoked``).
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from cryptography import x509
from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID
from sqlalchemy import select
from sqlalchemy.orm import Session, object_session

from gbconnect.audit import Actor, record
from gbconnect.config import Settings
from gbconnect.registration import models as rm
from gbconnect.registration.errors import RegistrationError
from gbconnect.registration.thumbprints import thumbprint
from gbconnect.resource import now

#: Smallest RSA modulus accepted (PG&E: at least 2048), and smallest EC curve.
MIN_RSA_BITS = 2048
MIN_EC_BITS = 256
#: Largest PEM text read (a certificate or request is a few KB).
MAX_PEM_BYTES = 64 * 1024
#: Signature hashes refused (PG&E: SHA-2 only).
WEAK_HASHES = ("sha1", "md5")


class CertificateError(RegistrationError):
    """A certificate or certificate request that cannot be accepted (400, one
    sentence saying why)."""


def _text(pem: str | bytes) -> bytes:
    data = pem.encode("utf-8", "replace") if isinstance(pem, str) else pem
    if len(data) > MAX_PEM_BYTES:
        raise CertificateError(f"the file is larger than {MAX_PEM_BYTES // 1024} KB")
    return data


def load_certificate(pem: str | bytes) -> x509.Certificate:
    """The first certificate of a PEM text; :class:`CertificateError` when there is
    none."""
    data = _text(pem)
    try:
        return x509.load_pem_x509_certificate(data)
    except (ValueError, TypeError, UnsupportedAlgorithm):
        raise CertificateError("the file is not a PEM-encoded X.509 certificate") from None


def _check_key(key: object, what: str) -> None:
    if isinstance(key, rsa.RSAPublicKey):
        if key.key_size < MIN_RSA_BITS:
            raise CertificateError(
                f"the {what}'s RSA key has {key.key_size} bits; at least {MIN_RSA_BITS} "
                "are required"
            )
    elif isinstance(key, ec.EllipticCurvePublicKey):
        if key.curve.key_size < MIN_EC_BITS:
            raise CertificateError(
                f"the {what}'s elliptic curve key has {key.curve.key_size} bits; at least "
                f"{MIN_EC_BITS} are required"
            )
    else:
        raise CertificateError(f"the {what}'s key must be RSA (2048 bits or more) or ECDSA")


def _check_hash(algorithm: hashes.HashAlgorithm | None, what: str) -> None:
    if algorithm is None or algorithm.name in WEAK_HASHES:
        name = "no hash" if algorithm is None else algorithm.name.upper().replace("SHA", "SHA-")
        raise CertificateError(f"the {what} is signed with {name}; SHA-2 is required")


def check_certificate(cert: x509.Certificate, at: int | None = None) -> None:
    """Refuse a certificate that cannot authenticate a client: a weak key or
    signature hash, outside its validity period, a CA certificate, or one whose
    extended key usage leaves out clientAuth (RFC 5280 section 4.2.1.12)."""
    at = now() if at is None else at
    try:
        key = cert.public_key()
    except (ValueError, UnsupportedAlgorithm):
        raise CertificateError("the certificate's public key cannot be read") from None
    _check_key(key, "certificate")
    try:
        algorithm = cert.signature_hash_algorithm
    except UnsupportedAlgorithm:
        raise CertificateError("the certificate's signature algorithm is not supported") from None
    _check_hash(algorithm, "certificate")
    if int(cert.not_valid_after_utc.timestamp()) <= at:
        raise CertificateError(
            f"the certificate expired on {cert.not_valid_after_utc:%Y-%m-%d %H:%M} UTC"
        )
    try:
        extensions = cert.extensions
    except ValueError:
        raise CertificateError("the certificate's extensions cannot be read") from None
    try:
        basic: x509.BasicConstraints | None = extensions.get_extension_for_class(
            x509.BasicConstraints
        ).value
    except x509.ExtensionNotFound:
        basic = None
    if basic is not None and basic.ca:
        raise CertificateError("this is a certificate authority's certificate, not a client's")
    try:
        usage: x509.ExtendedKeyUsage | None = extensions.get_extension_for_class(
            x509.ExtendedKeyUsage
        ).value
    except x509.ExtensionNotFound:
        usage = None
    if usage is not None and ExtendedKeyUsageOID.CLIENT_AUTH not in usage:
        raise CertificateError(
            "the certificate's extended key usage does not include TLS client "
            "authentication (clientAuth)"
        )


def _der(cert: x509.Certificate) -> bytes:
    return cert.public_bytes(serialization.Encoding.DER)


def find(
    session: Session, app: rm.ApplicationInformation, print_: str
) -> rm.ApplicationCertificate | None:
    """The certificate of ``app`` with thumbprint ``print_`` (None for another
    application's: the same answer as for none)."""
    return session.scalars(
        select(rm.ApplicationCertificate).where(
            rm.ApplicationCertificate.application_id == app.id,
            rm.ApplicationCertificate.thumbprint == print_.strip(),
        )
    ).one_or_none()


def certificates_of(
    session: Session, app: rm.ApplicationInformation
) -> list[rm.ApplicationCertificate]:
    """The certificates registered to ``app``, oldest first (revoked ones included)."""
    return list(
        session.scalars(
            select(rm.ApplicationCertificate)
            .where(rm.ApplicationCertificate.application_id == app.id)
            .order_by(rm.ApplicationCertificate.id)
        )
    )


def _register(
    session: Session,
    app: rm.ApplicationInformation,
    cert: x509.Certificate,
    actor: Actor,
    source: str,
) -> rm.ApplicationCertificate:
    check_certificate(cert)
    der = _der(cert)
    print_ = thumbprint(der)
    taken = session.scalars(
        select(rm.ApplicationCertificate.application_id).where(
            rm.ApplicationCertificate.thumbprint == print_
        )
    ).first()
    if taken is not None:
        raise CertificateError("this certificate is already registered")
    row = rm.ApplicationCertificate(
        application_id=app.id,
        thumbprint=print_,
        subject=cert.subject.rfc4514_string()[:1024],
        issuer=cert.issuer.rfc4514_string()[:1024],
        serial=format(cert.serial_number, "x")[:64],
        not_before=int(cert.not_valid_before_utc.timestamp()),
        not_after=int(cert.not_valid_after_utc.timestamp()),
        added_at=now(),
        revoked_at=None,
        source=source,
        pem=cert.public_bytes(serialization.Encoding.PEM).decode("ascii"),
    )
    session.add(row)
    session.flush()
    record(
        session,
        "certificate.issued" if source == "issued" else "certificate.added",
        actor,
        ("application", app.id),
        {
            "client_id": app.client_id,
            "thumbprint": print_,
            "subject": row.subject,
            "issuer": row.issuer,
            "not_after": row.not_after,
        },
    )
    return row


def add_certificate(
    session: Session, app: rm.ApplicationInformation, pem: str | bytes, actor: Actor
) -> rm.ApplicationCertificate:
    """Register the PEM certificate ``pem`` to ``app`` (audited ``certificate.added``);
    :class:`CertificateError` with the reason when it cannot serve (see
    :func:`check_certificate`) or is registered already."""
    return _register(session, app, load_certificate(pem), actor, "uploaded")


def revoke_certificate(
    session: Session, app: rm.ApplicationInformation, print_: str, actor: Actor
) -> rm.ApplicationCertificate | None:
    """Revoke ``app``'s certificate with thumbprint ``print_`` at once (audited
    ``certificate.revoked``): tokens bound to it stop working at their next call.
    None when ``app`` has no such certificate; revoking twice changes nothing."""
    row = find(session, app, print_)
    if row is None:
        return None
    if row.revoked_at is None:
        row.revoked_at = now()
        session.flush()
        record(
            session,
            "certificate.revoked",
            actor,
            ("application", app.id),
            {"client_id": app.client_id, "thumbprint": row.thumbprint},
        )
    return row


# -- the utility's own certificate authority ------------------------------------------


@dataclass(frozen=True)
class Authority:
    """The utility's CA: its certificate and private key."""

    cert: x509.Certificate
    key: rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey


def load_authority(settings: Settings) -> Authority:
    """The CA named by GBCONNECT_CA_CERT and GBCONNECT_CA_KEY."""
    if settings.ca_cert is None or settings.ca_key is None:
        raise CertificateError(
            "the utility's certificate authority is not configured "
            "(GBCONNECT_CA_CERT and GBCONNECT_CA_KEY)"
        )
    try:
        cert = x509.load_pem_x509_certificate(settings.ca_cert.read_bytes())
        key = serialization.load_pem_private_key(settings.ca_key.read_bytes(), password=None)
    except OSError as exc:
        raise CertificateError(f"the CA files cannot be read: {exc.strerror}") from None
    except (ValueError, TypeError, UnsupportedAlgorithm):
        raise CertificateError(
            "the CA files are not a PEM certificate and unencrypted key"
        ) from None
    if not isinstance(key, (rsa.RSAPrivateKey, ec.EllipticCurvePrivateKey)):
        raise CertificateError("the CA key must be RSA or ECDSA")
    return Authority(cert, key)


def make_authority(name: str, days: int = 3650) -> tuple[bytes, bytes]:
    """A new self-signed CA (RSA 3072, SHA-256) as (certificate PEM, key PEM), for
    ``gbconnect ca init``."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=3072)
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    start = datetime.now(UTC) - timedelta(minutes=5)
    public = key.public_key()
    cert = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(public)
        .serial_number(x509.random_serial_number())
        .not_valid_before(start)
        .not_valid_after(start + timedelta(days=days))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=False,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=True,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(public), critical=False)
        .sign(key, hashes.SHA256())
    )
    key_pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    return cert.public_bytes(serialization.Encoding.PEM), key_pem


def write_authority(folder: Path, name: str, days: int = 3650) -> tuple[Path, Path]:
    """Write a new CA into ``folder`` as ``ca.pem`` and ``ca-key.pem`` (the key
    readable by its owner only); refuses to overwrite."""
    cert_path, key_path = folder / "ca.pem", folder / "ca-key.pem"
    for path in (cert_path, key_path):
        if path.exists():
            raise CertificateError(f"{path} exists already; it is not overwritten")
    cert_pem, key_pem = make_authority(name, days)
    folder.mkdir(parents=True, exist_ok=True)
    key_path.touch(mode=0o600)
    key_path.write_bytes(key_pem)
    cert_path.write_bytes(cert_pem)
    return cert_path, key_path


def load_request(csr_pem: str | bytes) -> x509.CertificateSigningRequest:
    """A PKCS#10 certificate request whose signature holds, with a strong key and
    hash; :class:`CertificateError` otherwise."""
    data = _text(csr_pem)
    try:
        csr = x509.load_pem_x509_csr(data)
    except (ValueError, TypeError, UnsupportedAlgorithm):
        raise CertificateError(
            "the file is not a PEM-encoded certificate request (PKCS#10)"
        ) from None
    try:
        valid = csr.is_signature_valid
        key = csr.public_key()
        algorithm = csr.signature_hash_algorithm
    except (ValueError, UnsupportedAlgorithm, InvalidSignature):
        valid = False
    if not valid:
        raise CertificateError("the certificate request's signature does not verify")
    _check_key(key, "certificate request")
    _check_hash(algorithm, "certificate request")
    return csr


def issue_from_csr(
    settings: Settings, app: rm.ApplicationInformation, csr_pem: str | bytes, actor: Actor
) -> rm.ApplicationCertificate:
    """Sign the certificate request ``csr_pem`` with the utility's CA (a client
    certificate: clientAuth, not a CA, SHA-256, GBCONNECT_CA_CERT_DAYS days) and
    register it to ``app`` (audited ``certificate.issued``). ``app`` must belong to a
    session; the subject is the request's, the issuer the CA's."""
    session = object_session(app)
    if session is None:
        raise ValueError("the application is not in a session")
    csr = load_request(csr_pem)
    authority = load_authority(settings)
    public = csr.public_key()
    start = datetime.now(UTC) - timedelta(minutes=5)
    end = min(
        start + timedelta(days=settings.ca_cert_days),
        authority.cert.not_valid_after_utc,
    )
    if end <= datetime.now(UTC):
        raise CertificateError("the utility's CA certificate has expired")
    subject = csr.subject
    if not list(subject):
        subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, app.client_id)])
    builder = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(authority.cert.subject)
        .public_key(public)
        .serial_number(int.from_bytes(secrets.token_bytes(16), "big") >> 1)
        .not_valid_before(start)
        .not_valid_after(end)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=False,
                key_encipherment=isinstance(public, rsa.RSAPublicKey),
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=False,
                crl_sign=False,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.CLIENT_AUTH]), critical=False)
        .add_extension(
            x509.SubjectKeyIdentifier.from_public_key(public),
            critical=False,
        )
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(authority.key.public_key()),
            critical=False,
        )
    )
    cert = builder.sign(authority.key, hashes.SHA256())
    return _register(session, app, cert, actor, "issued")


__all__ = [
    "CertificateError",
    "add_certificate",
    "certificates_of",
    "check_certificate",
    "issue_from_csr",
    "load_certificate",
    "revoke_certificate",
    "thumbprint",
    "write_authority",
]
