"""The Bearer token of an ``Authorization`` header (RFC 6750 section 2.1).

``credentials = "Bearer" 1*SP b64token``; the scheme is case-insensitive (RFC 7235
section 2.1). A value longer than any token gbconnect issues is refused before it is
hashed or looked up.
"""

from __future__ import annotations

import re

MAX_TOKEN_LENGTH = 512
"""Longer than any token gbconnect issues (``secrets.token_urlsafe(32)``: 43)."""

_BEARER = re.compile(r"^(?i:bearer) +([A-Za-z0-9\-._~+/]+=*) *$")


def bearer_token(header: str | None) -> str | None:
    """The token of ``Authorization: Bearer <token>``; None when the header is absent,
    of another scheme, malformed or over-long."""
    if not header:
        return None
    match = _BEARER.match(header)
    if match is None or len(match.group(1)) > MAX_TOKEN_LENGTH:
        return None
    return match.group(1)


__all__ = ["MAX_TOKEN_LENGTH", "bearer_token"]
