"""Client certificates made with ``cryptography`` for the refusals trustme does not
make (a short RSA key, a SHA-1 signature, a server-only or CA certificate) and
certificate requests (PKCS#10) for the utility's CA."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

_KEYS: dict[int, rsa.RSAPrivateKey] = {}


def rsa_key(bits: int = 2048) -> rsa.RSAPrivateKey:
    """An RSA key of ``bits`` (made once per size and process: keys are slow)."""
    if bits not in _KEYS:
        _KEYS[bits] = rsa.generate_private_key(public_exponent=65537, key_size=bits)
    return _KEYS[bits]


def make_cert(
    name: str = "client.example",
    *,
    bits: int = 2048,
    digest: hashes.HashAlgorithm | None = None,
    days: float = 30,
    start_days: float = -1,
    usages: list[x509.ObjectIdentifier] | None = None,
    ca: bool = False,
) -> bytes:
    """A self-signed certificate (PEM) with the given key size, signature hash,
    validity (days from now), extended key usages (None: clientAuth; []: none) and CA
    flag."""
    key = rsa_key(bits)
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    now = datetime.now(UTC)
    builder = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now + timedelta(days=start_days))
        .not_valid_after(now + timedelta(days=days))
        .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
    )
    usages = [ExtendedKeyUsageOID.CLIENT_AUTH] if usages is None else usages
    if usages:
        builder = builder.add_extension(x509.ExtendedKeyUsage(usages), critical=False)
    cert = builder.sign(key, digest or hashes.SHA256())
    return cert.public_bytes(serialization.Encoding.PEM)


#: sha256WithRSAEncryption and sha1WithRSAEncryption (RFC 4055, RFC 3279), DER-encoded.
_SHA256_RSA = bytes.fromhex("06092a864886f70d01010b")
_SHA1_RSA = bytes.fromhex("06092a864886f70d010105")


def sha1_cert() -> bytes:
    """A certificate that says it is signed with SHA-1 (cryptography no longer signs
    with SHA-1: the algorithm identifiers of a SHA-256 certificate are rewritten, which
    leaves its signature wrong, as a refusal before any signature check needs)."""
    cert = x509.load_pem_x509_certificate(make_cert())
    der = cert.public_bytes(serialization.Encoding.DER).replace(_SHA256_RSA, _SHA1_RSA)
    return x509.load_der_x509_certificate(der).public_bytes(serialization.Encoding.PEM)


def make_csr(name: str = "client.example", bits: int = 2048) -> tuple[bytes, bytes]:
    """A certificate request and its key, both PEM."""
    key = rsa_key(bits)
    csr = (
        x509.CertificateSigningRequestBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)]))
        .sign(key, hashes.SHA256())
    )
    key_pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    return csr.public_bytes(serialization.Encoding.PEM), key_pem
