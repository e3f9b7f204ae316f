"""The signature on a notification POST, so that a third party can tell it came from
this Data Custodian and was not replayed.

ESPI (REQ.21 FB_39) defines no signature; like UtilityAPI's webhooks, gbconnect signs
with HMAC-SHA256 (RFC 2104, FIPS 180-4) under a secret shared with the third party.
Two headers go with the body: ``Gbconnect-Timestamp`` (Unix seconds) and
``Gbconnect-Signature: v1=<hex>``, the hex HMAC-SHA256 of ``b"<timestamp>." + body``.
While a secret is rotated the header carries several ``v1=`` values separated by
commas (one per secret); any one that matches is enough.

The HMAC and its check live in the SDK (:mod:`gbconnect.client.signature`), which a
third party installs; this module signs with them. A receiver without the SDK
verifies in five lines of Python (``secret`` bytes, ``body`` the raw bytes)::

    import hashlib, hmac, time
    ts = headers["Gbconnect-Timestamp"]
    mac = hmac.new(secret, ts.encode() + b"." + body, hashlib.sha256).hexdigest().encode()
    vs = [v.strip().removeprefix("v1=") for v in headers["Gbconnect-Signature"].split(",")]
    ok = abs(time.time() - int(ts)) <= 300 and any(hmac.compare_digest(mac, v.encode()) for v in vs)
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from gbconnect.client.signature import (
    DEFAULT_TOLERANCE,
    SCHEME,
    SIGNATURE_HEADER,
    TIMESTAMP_HEADER,
    sign,
    verify_signature,
)

__all__ = [
    "DEFAULT_TOLERANCE",
    "SCHEME",
    "SIGNATURE_HEADER",
    "TIMESTAMP_HEADER",
    "sign",
    "signature_headers",
    "verify",
]


def signature_headers(secret: bytes | Iterable[bytes], body: bytes, now: int) -> dict[str, str]:
    """The two headers to send with ``body`` at Unix time ``now``. Given several
    secrets (during a rotation), one ``v1=`` value per secret, comma-separated."""
    secrets = [secret] if isinstance(secret, bytes) else list(secret)
    if not secrets:
        raise ValueError("at least one secret is needed to sign")
    value = ",".join(f"{SCHEME}={sign(s, now, body)}" for s in secrets)
    return {TIMESTAMP_HEADER: str(now), SIGNATURE_HEADER: value}


def verify(
    secret: bytes,
    headers: Mapping[str, str],
    body: bytes,
    now: int,
    tolerance: int = DEFAULT_TOLERANCE,
) -> bool:
    """Whether ``headers`` (names case-insensitive, RFC 9110 section 5.1) sign ``body``
    under ``secret`` with a timestamp at most ``tolerance`` seconds from ``now``: the
    SDK's :func:`gbconnect.client.verify_signature`, so the check exists once."""
    return verify_signature(secret, headers, body, now=now, tolerance=tolerance)
