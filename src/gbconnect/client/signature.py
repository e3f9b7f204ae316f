"""gbconnect's signature on a notification POST (REQ.21 FB_39 defines none; like
UtilityAPI's webhooks, gbconnect signs with HMAC-SHA256, RFC 2104, under a secret
shared with the third party).

Two headers go with the body: ``Gbconnect-Timestamp`` (Unix seconds) and
``Gbconnect-Signature: v1=<hex>``, the hex HMAC-SHA256 of ``b"<timestamp>." + body``.
While a secret is rotated the header carries several ``v1=`` values separated by
commas (one per secret); any one that matches is enough. The server signs with
:func:`sign` (``gbconnect.notify.signing``) and checks with :func:`verify_signature`:
the logic exists once, here.
"""

from __future__ import annotations

import hashlib
import hmac
import time
from collections.abc import Mapping, Sequence

TIMESTAMP_HEADER = "Gbconnect-Timestamp"
SIGNATURE_HEADER = "Gbconnect-Signature"
SCHEME = "v1"
DEFAULT_TOLERANCE = 300


def sign(secret: bytes, timestamp: int, body: bytes) -> str:
    """Hex HMAC-SHA256 (RFC 2104) of ``f"{timestamp}.".encode() + body``."""
    return hmac.new(secret, f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()


def header(headers: Mapping[str, str], name: str) -> str | None:
    """A header by name, case-insensitively (RFC 9110 section 5.1)."""
    value = headers.get(name)
    if value is not None:
        return value
    wanted = name.lower()
    for key, found in headers.items():
        if key.lower() == wanted:
            return found
    return None


def _secrets(secret: bytes | str | Sequence[bytes | str]) -> list[bytes]:
    if isinstance(secret, (bytes, str)):
        secret = [secret]
    return [s.encode() if isinstance(s, str) else bytes(s) for s in secret]


def verify_signature(
    secret: bytes | str | Sequence[bytes | str],
    headers: Mapping[str, str],
    body: bytes,
    *,
    now: float | None = None,
    tolerance: int = DEFAULT_TOLERANCE,
) -> bool:
    """Whether ``headers`` sign ``body`` under ``secret`` (or any of several secrets,
    during a rotation) with a timestamp at most ``tolerance`` seconds from ``now``
    (default: the clock). Compared in constant time; any one of several ``v1=`` values
    may match. A missing or malformed header is ``False``, never an exception."""
    stamp = header(headers, TIMESTAMP_HEADER)
    value = header(headers, SIGNATURE_HEADER)
    if stamp is None or value is None:
        return False
    stamp = stamp.strip()
    if not stamp.isascii() or not stamp.isdigit() or len(stamp) > 12:
        return False
    timestamp = int(stamp)
    current = time.time() if now is None else now
    if abs(current - timestamp) > tolerance:
        return False
    offered: list[bytes] = []
    for part in value.split(","):
        scheme, _, given = part.strip().partition("=")
        if scheme == SCHEME:
            offered.append(given.strip().encode("ascii", "replace"))
    matched = False
    for key in _secrets(secret):
        expected = sign(key, timestamp, body).encode()
        for candidate in offered:
            if hmac.compare_digest(expected, candidate):
                matched = True
    return matched
