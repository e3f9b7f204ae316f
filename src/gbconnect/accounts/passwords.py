"""Password hashes of every kind of account: argon2id (RFC 9106) with argon2-cffi's
defaults, verified in the same time whether or not the account exists.

Passwords are the only secrets hashed with argon2id: tokens, codes and client secrets
carry 256 random bits and are kept as SHA-256 (:mod:`gbconnect.oauth.secrets`).

The hash verified for an unknown account (so that the answer takes as long) is made
on first use, not at import: an argon2id hash costs 64 MiB and tens of milliseconds,
which every CLI command and server start would otherwise pay.
"""

from __future__ import annotations

from functools import cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

_HASHER = PasswordHasher()


def hash_password(password: str) -> str:
    """The argon2id hash of ``password`` (PHC string format)."""
    return _HASHER.hash(password)


@cache
def _dummy() -> str:
    return _HASHER.hash("not a password of anyone")


def verify_password(stored: str | None, password: str) -> bool:
    """Whether ``password`` matches ``stored``; with no stored hash (an unknown account,
    or one without a password) a dummy hash is verified so the time is the same, and
    the answer is False."""
    try:
        _HASHER.verify(stored or _dummy(), password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False
    return stored is not None


def needs_rehash(stored: str) -> bool:
    """Whether ``stored`` was made with other parameters than today's (then the caller
    stores :func:`hash_password` of the password it has just verified)."""
    return _HASHER.check_needs_rehash(stored)


__all__ = ["hash_password", "needs_rehash", "verify_password"]
