"""One handler for every :class:`~gbconnect.errors.GbconnectError`: the error rendered
as its caller expects, never a traceback.

- The ESPI API (paths under the resource base), the OAuth endpoints (``/oauth/...``
  except the customer's ``/oauth/authorize``) and ``/.well-known/`` answer JSON
  ``{"error": ..., "error_description": ...}`` (RFC 6749 section 5.2, RFC 6750
  section 3); a 401 carries ``WWW-Authenticate: Bearer realm="espi", error=...``
  (RFC 6750 section 3), a 503 ``Retry-After`` (RFC 9110 section 10.2.3);
- a browser (``Accept: text/html``) elsewhere gets ``error.html`` under the utility's
  name, with the same status;
- anyone else gets the JSON.

The error's ``status``, ``error`` code and ``description`` come from the error tree
(:mod:`gbconnect.errors`). A server-side error (500: an :class:`InternalError`, or a
bare :class:`GbconnectError`) is logged with its traceback and shown only as
"internal error": its message may name our internals.
"""

from __future__ import annotations

import logging

from fastapi import FastAPI
from fastapi.templating import Jinja2Templates
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from gbconnect.config import Settings
from gbconnect.errors import GbconnectError, UnavailableError

_log = logging.getLogger(__name__)

SERVER_ERROR = "internal error"
"""What a caller is told of a 500."""


def wants_json(request: Request, settings: Settings) -> bool:
    """True for the API, the OAuth endpoints and any caller that is not a browser."""
    path = request.url.path
    if path.startswith(settings.resource_base.rstrip("/") + "/") or path == settings.resource_base:
        return True
    if path.startswith("/.well-known/"):
        return True
    if path.startswith("/oauth/") and path != "/oauth/authorize":
        return True
    return "text/html" not in request.headers.get("accept", "")


def _header_value(text: str) -> str:
    """``text`` as an RFC 6750 quoted string (no quotes, backslashes or controls)."""
    return "".join(c for c in text if c >= " " and c not in '"\\')


def error_response(
    request: Request, exc: GbconnectError, settings: Settings, templates: Jinja2Templates
) -> Response:
    """The response to ``exc`` for the caller of ``request``."""
    status = int(getattr(exc, "status", 500) or 500)
    code = getattr(exc, "error", None)
    server_side = status >= 500 and not isinstance(exc, UnavailableError)
    if server_side:
        _log.error("%s %s failed", request.method, request.url.path, exc_info=exc)
    description = SERVER_ERROR if server_side else exc.description
    headers: dict[str, str] = {}
    if status == 401:
        challenge = 'Bearer realm="espi"'
        if code:
            challenge += (
                f', error="{_header_value(code)}", error_description="{_header_value(description)}"'
            )
        headers["WWW-Authenticate"] = challenge
    if isinstance(exc, UnavailableError):
        headers["Retry-After"] = str(exc.retry_after)
    if wants_json(request, settings):
        body = {"error": code or "unauthorized", "error_description": description}
        return JSONResponse(body, status_code=status, headers=headers)
    return templates.TemplateResponse(
        request,
        "error.html",
        {"settings": settings, "message": description},
        status_code=status,
        headers=headers,
    )


def install(app: FastAPI, settings: Settings, templates: Jinja2Templates) -> None:
    """Render every :class:`GbconnectError` that reaches ``app`` with :func:`error_response`."""

    async def handle(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, GbconnectError)
        return error_response(request, exc, settings, templates)

    app.add_exception_handler(GbconnectError, handle)


__all__ = ["SERVER_ERROR", "error_response", "install", "wants_json"]
