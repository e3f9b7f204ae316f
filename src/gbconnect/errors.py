"""The root of every error gbconnect raises on purpose.

One tree, so that callers catch by level and one handler (:mod:`gbconnect.web.errors`)
renders any of them as the caller expects: OAuth/ESPI JSON for the API, an HTML page
for a person, a line for the command line. A domain package keeps its own leaves
(``espi.scope.ScopeError``, ``ingest.errors.IngestError``...), each a subclass of one
of the branches below::

    GbconnectError                 status 500, error "server_error"
    ├── ConfigError                a setting is wrong; the program does not start
    ├── InputError (ValueError)    400 "invalid_request": what the caller sent is wrong
    │                              (a file, a query parameter, a scope, a form field)
    ├── AccessError                401/403/404: who may see what (RFC 6750 section 3.1)
    ├── UnavailableError           503 "temporarily_unavailable", with Retry-After
    └── InternalError              our own invariant broke (never the caller's fault)

``InputError`` is also a ``ValueError`` so that code written against the standard
library's convention keeps working. Every error carries an HTTP ``status``, a
machine-readable ``error`` code (RFC 6749 section 5.2 where one fits) and a human
``description`` (its message); none carries a secret or a traceback to the caller.
"""

from __future__ import annotations


class GbconnectError(Exception):
    """Root of the tree. Subclasses set :attr:`status` and :attr:`error`."""

    status: int = 500
    error: str = "server_error"

    @property
    def description(self) -> str:
        """The message shown to the caller."""
        return str(self)


class ConfigError(GbconnectError):
    """A setting is missing or wrong; the message names the variable."""

    error = "configuration_error"


class InputError(GbconnectError, ValueError):
    """What the caller sent is wrong: 400 unless a leaf says otherwise."""

    status = 400
    error = "invalid_request"


class AccessError(GbconnectError):
    """The caller may not do this (no token, a bad token, another class, not theirs)."""

    status = 403
    error = "insufficient_scope"


class UnavailableError(GbconnectError):
    """A part the answer needs (the database) cannot be reached now."""

    status = 503
    error = "temporarily_unavailable"
    retry_after = 5


class InternalError(GbconnectError):
    """An invariant of gbconnect's own broke: a bug or corrupt stored data."""
