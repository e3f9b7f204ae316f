"""Errors of third-party registration (raised by services, rendered by the web layer)."""

from __future__ import annotations


class RegistrationError(ValueError):
    """Registration data that cannot be accepted (RFC 7591 ``invalid_client_metadata``)."""

    def __init__(self, message: str, error: str = "invalid_client_metadata") -> None:
        super().__init__(message)
        self.error = error
