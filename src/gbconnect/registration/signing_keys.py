"""A third party's notification signing key (gbconnect.notify.signing), and its rotation.

Each application has its own HMAC-SHA256 key (what UtilityAPI offers and REQ.21 lacks).
It is made at the first notification, or when the third party or the utility asks for
it, and kept in clear because signing needs it. A rotation makes a new key and keeps
the previous one signing too for a grace period: every notification then carries two
``v1=`` signatures, so that the third party can switch keys without losing one.
"""

from __future__ import annotations

import secrets

from gbconnect.registration import models as rm

#: Hours the previous key keeps signing after a rotation, unless told otherwise.
DEFAULT_GRACE_HOURS = 24


def new_key() -> str:
    """A fresh key: 32 random bytes, URL-safe base64 (43 characters)."""
    return secrets.token_urlsafe(32)


def ensure_key(app: rm.ApplicationInformation) -> str:
    """The application's current key, made now if it has none (the caller commits)."""
    if not app.notify_secret:
        app.notify_secret = new_key()
    return app.notify_secret


def rotate_key(app: rm.ApplicationInformation, now: float, grace_seconds: float) -> str:
    """A new current key; the old one signs too until ``now + grace_seconds``."""
    if app.notify_secret and grace_seconds > 0:
        app.notify_secret_previous = app.notify_secret
        app.notify_secret_previous_until = now + grace_seconds
    else:
        app.notify_secret_previous = None
        app.notify_secret_previous_until = None
    app.notify_secret = new_key()
    return app.notify_secret


def signing_keys(app: rm.ApplicationInformation, now: float) -> list[bytes]:
    """The keys that sign a notification sent at ``now``: the current one first, then
    the previous one while its grace period lasts."""
    keys = [ensure_key(app).encode()]
    until = app.notify_secret_previous_until
    if app.notify_secret_previous and until is not None and now < until:
        keys.append(app.notify_secret_previous.encode())
    return keys


__all__ = ["DEFAULT_GRACE_HOURS", "ensure_key", "new_key", "rotate_key", "signing_keys"]
