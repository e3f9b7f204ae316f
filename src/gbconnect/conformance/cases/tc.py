"""TC001-011: security and privacy (REQ.21 FB_13; STANDARD.md section 6): HTTPS only,
TLS 1.2 or newer (ESPI 4.0 asks for 1.3), weak ciphers refused, a certificate of at
least 2048-bit RSA (or 256-bit EC) signed with SHA-2, and tokens, codes and ids of at
least 48 bits that carry no personal data.

On plain http the TLS cases fail with the evidence (a certification run is on
https); ``--allow-http`` makes them not applicable (a test deployment)."""

from __future__ import annotations

import contextlib
import itertools
import math
import re
import socket
import ssl
import warnings
from urllib.parse import urlsplit

from gbconnect.conformance.cases import case
from gbconnect.conformance.context import Context
from gbconnect.conformance.outcome import NotApplicable

#: The FB_13 floor.
MIN_BITS = 48
#: Suites a Data Custodian must refuse (RC4, 3DES, NULL, EXPORT), as OpenSSL names them.
WEAK_SUITES = ("RC4-SHA", "RC4-MD5", "DES-CBC3-SHA", "NULL-SHA", "NULL-MD5", "EXP-RC4-MD5")


def entropy_bits(value: str) -> float:
    """An estimate of the bits of an opaque value: its length times log2 of the
    smallest usual alphabet it fits (digits, hex, lower alphanumerics,
    alphanumerics, base64url, printable)."""
    if not value:
        return 0.0
    for alphabet, size in (
        (r"[0-9]", 10),
        (r"[0-9a-f]", 16),
        (r"[0-9A-F]", 16),
        (r"[0-9a-z]", 36),
        (r"[0-9A-Za-z]", 62),
        (r"[0-9A-Za-z_\-]", 64),
        (r"[0-9A-Za-z+/=]", 64),
    ):
        if re.fullmatch(f"{alphabet}+", value):
            return len(value) * math.log2(size)
    return len(value) * math.log2(94)


def personal_data(value: str, words: list[str]) -> str | None:
    """The personal datum ``value`` contains (a username, an email's local part),
    case-insensitively, or None. Words under 3 characters are not judged."""
    lowered = value.lower()
    for word in words:
        for part in {word, word.split("@")[0]}:
            if len(part) >= 3 and part.lower() in lowered:
                return part
    return None


def _judge(ctx: Context, what: str, values: dict[str, str]) -> str:
    words = [w for w in (ctx.options.customer_username,) if w]
    seen = []
    for name, value in values.items():
        bits = entropy_bits(value)
        if bits < MIN_BITS:
            raise ctx.fail(f"{name} {value!r} has about {bits:.0f} bits, under {MIN_BITS}")
        found = personal_data(value, words)
        if found:
            raise ctx.fail(f"{name} contains personal data ({found!r})")
        seen.append(f"{name}: ~{bits:.0f} bits")
    if not seen:
        raise NotApplicable(f"no {what} to judge")
    return "; ".join(seen) + ("; no username in any" if words else "")


def _https(ctx: Context) -> tuple[str, int]:
    parts = urlsplit(ctx.base)
    if parts.scheme != "https":
        if ctx.options.allow_http:
            raise NotApplicable("plain http given with --allow-http (a test deployment)")
        # The evidence: the Data Custodian answers in the clear.
        r = ctx.send("GET", f"{ctx.base}/.well-known/oauth-authorization-server")
        raise ctx.fail(f"the Data Custodian is not on https: {ctx.base} answers {r.status_code}")
    return str(parts.hostname), parts.port or 443


def _handshake(host: str, port: int, context: ssl.SSLContext) -> ssl.SSLSocket:
    raw = socket.create_connection((host, port), timeout=10)
    try:
        return context.wrap_socket(raw, server_hostname=host)
    except BaseException:
        raw.close()
        raise


def _verifying(ctx: Context) -> ssl.SSLContext:
    context = ssl.create_default_context(cafile=ctx.options.ca_file)
    if ctx.options.client_cert:
        context.load_cert_chain(ctx.options.client_cert, ctx.options.client_key)
    return context


def _lenient(ctx: Context) -> ssl.SSLContext:
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    if ctx.options.client_cert:
        context.load_cert_chain(ctx.options.client_cert, ctx.options.client_key)
    return context


@case("TC001", "HTTPS only: every endpoint is https")
def tc001(ctx: Context) -> str:
    _https(ctx)
    e = ctx.endpoints
    plain = [u for u in (e.authorization, e.token, e.resource_base) if not u.startswith("https:")]
    if plain:
        raise ctx.fail(f"endpoints on plain http: {', '.join(plain)}")
    return "authorization, token and resource endpoints on https"


@case("TC002", "TLS 1.2 or newer: a TLS 1.1 handshake fails")
def tc002(ctx: Context) -> str:
    host, port = _https(ctx)
    context = _lenient(ctx)
    try:
        with warnings.catch_warnings():
            # Offering the old protocols on purpose is the point of this case.
            warnings.simplefilter("ignore", DeprecationWarning)
            context.minimum_version = ssl.TLSVersion.TLSv1
            context.maximum_version = ssl.TLSVersion.TLSv1_1
        context.set_ciphers("DEFAULT:@SECLEVEL=0")
    except (ValueError, ssl.SSLError) as exc:
        raise NotApplicable(f"this OpenSSL cannot offer TLS 1.1: {exc}") from None
    try:
        with _handshake(host, port, context) as s:
            version = s.version()
    except ssl.SSLError as exc:
        if "NO_PROTOCOLS_AVAILABLE" in str(exc).upper():
            raise NotApplicable(f"this OpenSSL cannot offer TLS 1.1: {exc}") from None
        with _handshake(host, port, _verifying(ctx)) as s:
            modern = s.version()
        return f"TLS 1.1 refused ({exc.reason}); default handshake {modern}"
    raise ctx.fail(f"a handshake of at most TLS 1.1 succeeded ({version})")


@case("TC003", "TLS 1.3 is offered (ESPI 4.0)")
def tc003(ctx: Context) -> str:
    host, port = _https(ctx)
    with _handshake(host, port, _verifying(ctx)) as s:
        version = s.version()
    if version != "TLSv1.3":
        raise ctx.fail(f"the handshake settled on {version}, not TLSv1.3")
    return "TLSv1.3"


@case("TC004", "Weak cipher suites (RC4, 3DES, NULL, EXPORT) are refused")
def tc004(ctx: Context) -> str:
    host, port = _https(ctx)
    tried, missing = [], []
    for suite in WEAK_SUITES:
        context = _lenient(ctx)
        context.maximum_version = ssl.TLSVersion.TLSv1_2
        try:
            context.set_ciphers(f"{suite}:@SECLEVEL=0")
        except ssl.SSLError:
            missing.append(suite)
            continue
        try:
            with _handshake(host, port, context) as s:
                cipher = s.cipher()
        except (ssl.SSLError, ConnectionError):
            tried.append(suite)
            continue
        raise ctx.fail(f"the weak suite {suite} was accepted ({cipher})")
    if not tried:
        raise NotApplicable(f"this OpenSSL cannot offer them ({', '.join(missing)})")
    return f"refused: {', '.join(tried)}" + (
        f"; not offerable here: {', '.join(missing)}" if missing else ""
    )


def _certificate(ctx: Context) -> bytes:
    host, port = _https(ctx)
    with _handshake(host, port, _lenient(ctx)) as s:
        der = s.getpeercert(binary_form=True)
    if not der:
        raise ctx.fail("the server showed no certificate")
    return der


@case("TC005", "The server certificate has RSA >= 2048 or EC >= 256 bits")
def tc005(ctx: Context) -> str:
    from cryptography import x509
    from cryptography.hazmat.primitives.asymmetric import ec, rsa

    key = x509.load_der_x509_certificate(_certificate(ctx)).public_key()
    if isinstance(key, rsa.RSAPublicKey):
        if key.key_size < 2048:
            raise ctx.fail(f"RSA key of {key.key_size} bits")
        return f"RSA {key.key_size} bits"
    if isinstance(key, ec.EllipticCurvePublicKey):
        if key.curve.key_size < 256:
            raise ctx.fail(f"EC key of {key.curve.key_size} bits")
        return f"EC {key.curve.name}"
    return f"{type(key).__name__}"


@case("TC006", "The server certificate is signed with SHA-2")
def tc006(ctx: Context) -> str:
    from cryptography import x509

    cert = x509.load_der_x509_certificate(_certificate(ctx))
    name = cert.signature_hash_algorithm.name if cert.signature_hash_algorithm else "none"
    if name in ("md5", "sha1", "none"):
        raise ctx.fail(f"signed with {name}")
    return f"signed with {name}"


@case("TC007", "Access tokens: >= 48 bits, no personal data")
def tc007(ctx: Context) -> str:
    values = {"client access token": ctx.client_tokens().access_token}
    with contextlib.suppress(NotApplicable):
        values["customer access token"] = ctx.customer_tokens().access_token
    return _judge(ctx, "access token", values)


@case("TC008", "Refresh tokens: >= 48 bits, no personal data")
def tc008(ctx: Context) -> str:
    refresh = ctx.customer_tokens().refresh_token
    return _judge(ctx, "refresh token", {"refresh token": refresh} if refresh else {})


@case("TC009", "Client ids: >= 48 bits, no personal data")
def tc009(ctx: Context) -> str:
    return _judge(ctx, "client id", {"client_id": ctx.options.client_id})


def _ids(url: str | None) -> list[str]:
    if not url:
        return []
    parts = [p for p in urlsplit(url).path.split("/") if p]
    return [
        p
        for before, p in itertools.pairwise(parts)
        if before[:1].isupper() and any(ch.isdigit() for ch in p)
    ]


@case("TC010", "Resource ids: >= 48 bits, no personal data")
def tc010(ctx: Context) -> str:
    values: dict[str, str] = {}
    client = ctx.client_tokens()
    urls = [client.resource_uri, client.authorization_uri]
    try:
        tokens = ctx.customer_tokens()
        urls += [tokens.resource_uri, tokens.authorization_uri]
    except NotApplicable:
        pass
    urls += list(ctx.crawled)[:50]
    for url in urls:
        for part in _ids(url):
            values.setdefault(f"id {part}", part)
    return _judge(ctx, "resource id", values)


@case("TC011", "Authorization codes: >= 48 bits, no personal data")
def tc011(ctx: Context) -> str:
    return _judge(ctx, "authorization code", {"authorization code": ctx.grant().code})
