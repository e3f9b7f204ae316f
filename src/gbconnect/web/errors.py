"""One handler for every :class:`~gbconnect.errors.GbconnectError`: the error rendered
as its caller expects, never a traceback.

- The ESPI API (paths under the resource base), the OAuth endpoints (``/oauth/...``
  except the customer's ``/oauth/authorize``) and ``/.well-known/`` answer JSON
  ``{"error": ..., "error_description": ...}`` (RFC 6749 section 5.2, RFC 6750
  section 3); a 401 carries ``WWW-Authenticate: Bearer realm="espi", error=...``
  (RFC 6750 section 3), a 503 ``Retry-After`` (RFC 9110 section 10.2.3), a 429 (a
  rate limit, :mod:`gbconnect.ratelimit`) ``Retry-After`` and the ``RateLimit`` fields;
- the customer's pages (sign-in, consent, account: :data:`PAGE_PATHS`) always answer
  ``error.html`` under the utility's name, with the same status, as does a browser
  (``Accept: text/html``) elsewhere;
- anyone else gets the JSON.

The error's ``status``, ``error`` code and ``description`` come from the error tree
(:mod:`gbconnect.errors`). A server-side error (500: an :class:`InternalError`, or a
bare :class:`GbconnectError`) is logged with its traceback and shown only as
"internal error": its message may name our internals.
"""

from __future__ import annotations

import logging

from fastapi import FastAPI
from fastapi.exception_handlers import http_exception_handler
from fastapi.templating import Jinja2Templates
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from gbconnect.config import Settings
from gbconnect.errors import GbconnectError, UnavailableError
from gbconnect.i18n import N_
from gbconnect.i18n import gettext as _

_log = logging.getLogger(__name__)

SERVER_ERROR = "internal error"
"""What a caller is told of a 500."""


PAGE_PATHS = ("/oauth/authorize", "/login", "/logout", "/account")
"""The customer's pages: their errors are pages whoever asks."""


def wants_json(request: Request, settings: Settings) -> bool:
    """True for the API, the OAuth endpoints and any caller that is not a browser;
    false for the customer's pages (:data:`PAGE_PATHS`)."""
    path = request.url.path
    if path in PAGE_PATHS or path.startswith("/account/authorizations/"):
        return False
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


def api_error(exc: GbconnectError) -> JSONResponse:
    """``exc`` as the API renders it: ``{"error", "error_description"}`` (RFC 6749
    section 5.2), ``WWW-Authenticate`` on a 401 (RFC 6750 section 3: a request that
    carried no token is challenged without an error code, section 3.1), ``Retry-After``
    on a 503. The request path (:mod:`gbconnect.web.serving`) answers its refusals with
    it, and :func:`error_response` with it for every JSON caller."""
    status = int(getattr(exc, "status", 500) or 500)
    code = getattr(exc, "error", None) or "unauthorized"
    server_side = status >= 500 and not isinstance(exc, UnavailableError)
    if server_side:
        _log.error("request failed", exc_info=exc)
    description = SERVER_ERROR if server_side else exc.description
    headers: dict[str, str] = {}
    if status == 401:
        challenge = 'Bearer realm="espi"'
        named = getattr(exc, "challenge_error", code)
        if named:
            challenge += (
                f', error="{_header_value(named)}", '
                f'error_description="{_header_value(description)}"'
            )
        headers["WWW-Authenticate"] = challenge
    if isinstance(exc, UnavailableError):
        headers["Retry-After"] = str(exc.retry_after)
    # An error's own fields (a 429's Retry-After and RateLimit fields, gbconnect.ratelimit).
    headers.update(getattr(exc, "headers", None) or {})
    # A refusal may be raised again and again: it keeps no frame (and no session).
    exc.__traceback__ = None
    return JSONResponse(
        {"error": code, "error_description": description}, status_code=status, headers=headers
    )


def error_response(
    request: Request, exc: GbconnectError, settings: Settings, templates: Jinja2Templates
) -> Response:
    """The response to ``exc`` for the caller of ``request``: :func:`api_error` for
    JSON callers, ``error.html`` for a browser."""
    if wants_json(request, settings):
        return api_error(exc)
    status = int(getattr(exc, "status", 500) or 500)
    server_side = status >= 500 and not isinstance(exc, UnavailableError)
    if server_side:
        _log.error("%s %s failed", request.method, request.url.path, exc_info=exc)
    headers = {"Retry-After": str(exc.retry_after)} if isinstance(exc, UnavailableError) else {}
    return templates.TemplateResponse(
        request,
        "error.html",
        {"settings": settings, "message": SERVER_ERROR if server_side else exc.description},
        status_code=status,
        headers=headers,
    )


HTTP_PAGES = {
    404: N_("There is no such page."),
    405: N_("This page cannot be used that way."),
}
"""What a browser is told of the router's own refusals (unknown path, wrong method)."""


def install(app: FastAPI, settings: Settings, templates: Jinja2Templates) -> None:
    """Render every :class:`GbconnectError` that reaches ``app`` with :func:`error_response`,
    and the router's own refusals (404, 405) to a browser as ``error.html`` under the
    utility's name (other callers keep FastAPI's JSON)."""

    async def handle(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, GbconnectError)
        return error_response(request, exc, settings, templates)

    async def handle_http(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, StarletteHTTPException)
        if wants_json(request, settings) or exc.status_code < 400:
            return await http_exception_handler(request, exc)
        message = _(HTTP_PAGES.get(exc.status_code, N_("This request could not be answered.")))
        return templates.TemplateResponse(
            request,
            "error.html",
            {"settings": settings, "message": message},
            status_code=exc.status_code,
            headers=exc.headers,
        )

    app.add_exception_handler(GbconnectError, handle)
    app.add_exception_handler(StarletteHTTPException, handle_http)


__all__ = ["PAGE_PATHS", "SERVER_ERROR", "api_error", "error_response", "install", "wants_json"]
