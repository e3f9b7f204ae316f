"""Credentials: random values out, SHA-256 hashes in (FB_13, RFC 6749 section 10.10).

Every token, code and client secret has at least 256 random bits, says nothing
about who holds it, and is stored only as the hex SHA-256 of its value. Checking a
presented value hashes it and looks the hash up; secrets are compared in constant
time (:func:`hmac.compare_digest`).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets


def new_secret() -> str:
    """A fresh opaque credential: 32 random bytes, URL-safe base64 (43 characters)."""
    return secrets.token_urlsafe(32)


def digest(value: str) -> str:
    """The stored form of a credential: hex SHA-256 of its UTF-8 bytes."""
    return hashlib.sha256(value.encode("utf-8", "surrogatepass")).hexdigest()


def matches(value: str | None, stored: str | None) -> bool:
    """Whether ``value`` hashes to ``stored``, in constant time."""
    if value is None or stored is None:
        return False
    return hmac.compare_digest(digest(value), stored)


def new_client_id() -> str:
    """A client_id: random, 128 bits, no meaning."""
    return secrets.token_hex(16)
