"""The optional second factor of an account: TOTP codes (RFC 6238, pyotp) from an
authenticator app, and single-use recovery codes.

The key is kept in clear (checking a code needs it); recovery codes only as SHA-256
digests. An account model holds ``totp_secret`` (None: no second factor) and
``totp_recovery`` (the digests of the unused codes); these functions do the rest.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass

import pyotp

#: Recovery codes given when the second factor is turned on.
RECOVERY_CODES = 10
#: Pixels per module of the QR code of the key (a 41-module code is 196 px wide).
QR_SCALE = 4


def new_key() -> str:
    """A new base32 TOTP key."""
    return pyotp.random_base32()


def grouped(key: str) -> str:
    """The key in groups of four, as a person types it."""
    return " ".join(key[i : i + 4] for i in range(0, len(key), 4))


def provisioning_uri(key: str, account: str, issuer: str) -> str:
    """The ``otpauth://`` URI an authenticator app reads."""
    return pyotp.TOTP(key).provisioning_uri(name=account, issuer_name=issuer)


@dataclass(frozen=True)
class QrCode:
    """A QR code as an image for a page: an SVG ``data:`` URI (allowed by the pages'
    Content-Security-Policy) and its width and height in pixels."""

    data_uri: str
    size: int


def qr_code(uri: str) -> QrCode:
    import segno  # only the security page draws one

    code = segno.make(uri, error="m")
    width = int(code.symbol_size(scale=QR_SCALE)[0])
    return QrCode(code.svg_data_uri(scale=QR_SCALE, dark="#1d2b22"), width)


def digest(code: str) -> str:
    """How a recovery code is kept (case, spaces and dashes do not matter)."""
    return hashlib.sha256(code.strip().lower().replace("-", "").encode()).hexdigest()


def recovery_codes(count: int = RECOVERY_CODES) -> tuple[list[str], list[str]]:
    """New recovery codes to show once, and the digests to keep."""
    codes = [f"{secrets.token_hex(3)}-{secrets.token_hex(3)}" for _n in range(count)]
    return codes, [digest(c) for c in codes]


def fresh_code(key: str, code: str) -> bool:
    """``code`` is the app's current 6 digits for ``key`` (one step of drift allowed)."""
    code = code.strip().replace(" ", "")
    return code.isdigit() and len(code) == 6 and pyotp.TOTP(key).verify(code, valid_window=1)


def check(key: str | None, recovery: list[str] | None, code: str) -> tuple[bool, list[str] | None]:
    """Whether ``code`` is a current TOTP code or an unused recovery code, and the
    recovery digests left (the used one removed; ``recovery`` unchanged otherwise)."""
    code = code.strip().replace(" ", "")
    if not key or not code or len(code) > 32:
        return False, recovery
    if code.isdigit() and len(code) == 6:
        return fresh_code(key, code), recovery
    unused = list(recovery or [])
    used = digest(code)
    if used in unused:
        unused.remove(used)
        return True, unused
    return False, recovery


__all__ = [
    "RECOVERY_CODES",
    "QrCode",
    "check",
    "digest",
    "fresh_code",
    "grouped",
    "new_key",
    "provisioning_uri",
    "qr_code",
    "recovery_codes",
]
