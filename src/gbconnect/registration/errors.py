"""Errors of third-party registration (raised by services, rendered by the web layer)."""

from __future__ import annotations

from gbconnect.errors import InputError


class RegistrationError(InputError):
    """Registration data that cannot be accepted: 400 with RFC 7591 section 3.2.2's
    ``invalid_client_metadata`` or ``invalid_redirect_uri``."""

    def __init__(self, message: str, error: str = "invalid_client_metadata") -> None:
        super().__init__(message)
        self.error = error
