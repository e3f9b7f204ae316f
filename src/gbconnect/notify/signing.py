"""The signature on a notification POST, so that a third party can tell it came from
this Data Custodian and was not replayed.

ESPI (REQ.21 FB_39) defines no signature; like UtilityAPI's webhooks, gbconnect signs
with HMAC-SHA256 (RFC 2104, FIPS 180-4) under a secret shared with the third party.
Two headers go with the body: ``Gbconnect-Timestamp`` (Unix seconds) and
``Gbconnect-Signature: v1=<hex>``, the hex HMAC-SHA256 of ``b"<timestamp>." + body``.
While a secret is rotated the header carries several ``v1=`` values separated by
commas (one per secret); any one that matches is enough.

A receiver verifies in five lines of Python (``secret`` bytes, ``body`` the raw bytes)::

    import hashlib, hmac, time
    ts = headers["Gbconnect-Timestamp"]
    mac = hmac.new(secret, ts.encode() + b"." + body, hashlib.sha256).hexdigest().encode()
    vs = [v.strip().removeprefix("v1=") for v in headers["Gbconnect-Signature"].split(",")]
    ok = abs(time.time() - int(ts)) <= 300 and any(hmac.compare_digest(mac, v.encode()) for v in vs)
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Iterable, Mapping

TIMESTAMP_HEADER = "Gbconnect-Timestamp"
SIGNATURE_HEADER = "Gbconnect-Signature"
SCHEME = "v1"
DEFAULT_TOLERANCE = 300


def sign(secret: bytes, timestamp: int, body: bytes) -> str:
    """Hex HMAC-SHA256 (RFC 2104) of ``f"{timestamp}.".encode() + body``."""
    return hmac.new(secret, f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()


def signature_headers(secret: bytes | Iterable[bytes], body: bytes, now: int) -> dict[str, str]:
    """The two headers to send with ``body`` at Unix time ``now``. Given several
    secrets (during a rotation), one ``v1=`` value per secret, comma-separated."""
    secrets = [secret] if isinstance(secret, bytes) else list(secret)
    if not secrets:
        raise ValueError("at least one secret is needed to sign")
    value = ",".join(f"{SCHEME}={sign(s, now, body)}" for s in secrets)
    return {TIMESTAMP_HEADER: str(now), SIGNATURE_HEADER: value}


def _header(headers: Mapping[str, str], name: str) -> str | None:
    wanted = name.lower()
    for key, value in headers.items():
        if key.lower() == wanted:
            return value
    return None


def verify(
    secret: bytes,
    headers: Mapping[str, str],
    body: bytes,
    now: int,
    tolerance: int = DEFAULT_TOLERANCE,
) -> bool:
    """Whether ``headers`` (names case-insensitive, RFC 9110 section 5.1) sign ``body``
    under ``secret`` with a timestamp at most ``tolerance`` seconds from ``now``.
    Compared in constant time; any one of several ``v1=`` values may match."""
    stamp = _header(headers, TIMESTAMP_HEADER)
    value = _header(headers, SIGNATURE_HEADER)
    if stamp is None or value is None:
        return False
    stamp = stamp.strip()
    if not stamp.isascii() or not stamp.isdigit():
        return False
    timestamp = int(stamp)
    if abs(now - timestamp) > tolerance:
        return False
    expected = sign(secret, timestamp, body).encode()
    matched = False
    for part in value.split(","):
        scheme, _, sig = part.strip().partition("=")
        if scheme == SCHEME and hmac.compare_digest(expected, sig.strip().encode()):
            matched = True
    return matched
