"""OAuth 2.0 endpoints (RFC 6749, 7009, 7591, 7592, 7662, 8414).

- ``POST /oauth/token`` (RFC 6749 section 3.2), ``/oauth/revoke`` (RFC 7009),
  ``/oauth/introspect`` (RFC 7662);
- ``POST /oauth/register`` and ``GET``/``PUT``/``DELETE /oauth/register/{client_id}``
  (RFC 7591, RFC 7592; REQ.21 FB_36);
- ``GET /.well-known/oauth-authorization-server`` (RFC 8414).

Each answers JSON. Authlib builds the protocol's answers; an error of ours (an
unreadable form, registration metadata refused) is raised and rendered by
:mod:`gbconnect.web.errors`. The customer's side of ``/oauth/authorize`` (sign-in,
consent page, decision) is :mod:`gbconnect.portal.authorize`.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from typing import Any, cast

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response
from sqlalchemy.orm import Session, sessionmaker
from starlette.concurrency import run_in_threadpool

from gbconnect.config import Settings
from gbconnect.oauth.context import in_session
from gbconnect.oauth.mtls import OFF, presented_thumbprint
from gbconnect.oauth.server import EspiAuthorizationServer
from gbconnect.oauth.starlette import (
    MAX_FORM_BYTES,
    StarletteJsonRequest,
    oauth_request,
    public_uri,
)
from gbconnect.oauth.token_fast import TokenFastPath
from gbconnect.registration.errors import RegistrationError

TOKEN_PATH = "/oauth/token"


def build_token_router(
    settings: Settings,
    sessions: sessionmaker[Session],
    server: EspiAuthorizationServer,
) -> APIRouter:
    """``POST /oauth/token`` alone, for the application to include before its other
    routers (then with ``build_router(..., token=False)``).

    Starlette matches a request against the routes in order: behind the API's router
    (included first, for the IntervalBlock polling) a token request spent about
    0.8 ms matching (measured in-process on SQLite, FastAPI 0.165), more than the
    session-less grant itself (:mod:`gbconnect.oauth.token_fast`). Included first,
    it is matched at once; the API's routes are matched after one more route."""
    router = APIRouter(tags=["oauth"])
    run = _runner(sessions)
    fast = TokenFastPath(settings, sessions.kw["bind"], server)

    @router.post(TOKEN_PATH)
    async def token(request: Request) -> Response:
        """RFC 6749 section 3.2: authorization_code, refresh_token, client_credentials.
        A client_credentials or refresh_token request in order is answered without an
        ORM session (:mod:`gbconnect.oauth.token_fast`); every other one, and every
        refusal, by Authlib."""
        oreq = await oauth_request(request, settings.base_url)
        # RFC 8705: the client certificate, checked after client authentication and
        # bound to the access token issued over it (gbconnect.oauth.mtls).
        oreq.client_thumbprint = presented_thumbprint(request, settings)
        answer = await fast.respond(oreq, getattr(request.app.state, "reader", None))
        if answer is not None:
            return answer
        return await run(lambda: server.create_token_response(oreq))

    return router


def _runner(sessions: sessionmaker[Session]) -> Callable[[Callable[[], Any]], Awaitable[Response]]:
    async def run(call: Callable[[], Any]) -> Response:
        """``call`` (an Authlib endpoint) in the thread pool, in a session it commits.
        An error of ours rolls the call back and reaches :mod:`gbconnect.web.errors`
        (a RegistrationError: 400 with its RFC 7591 section 3.2.2 error code)."""
        return cast(Response, await run_in_threadpool(in_session(sessions, lambda _s: call())))

    return run


def build_router(
    settings: Settings,
    sessions: sessionmaker[Session],
    server: EspiAuthorizationServer,
    *,
    token: bool = True,
) -> APIRouter:
    """The JSON endpoints of ``server`` (the pages of ``/oauth/authorize`` are
    :func:`gbconnect.portal.authorize.build_router`'s); without ``POST /oauth/token``
    when ``token`` is False (the application includes :func:`build_token_router`
    first)."""
    router = APIRouter(tags=["oauth"])
    run = _runner(sessions)

    async def endpoint(request: Request, name: str) -> Response:
        """Authlib's endpoint ``name`` on the form of ``request``."""
        oreq = await oauth_request(request, settings.base_url)
        return await run(lambda: server.create_endpoint_response(name, oreq))

    if token:
        router.include_router(build_token_router(settings, sessions, server))

    @router.post("/oauth/revoke")
    async def revoke(request: Request) -> Response:
        """RFC 7009 token revocation (:func:`gbconnect.oauth.revocation.revoke_token`)."""
        return await endpoint(request, "revocation")

    @router.post("/oauth/introspect")
    async def introspect(request: Request) -> Response:
        """RFC 7662 token introspection (a third party, of its own tokens)."""
        return await endpoint(request, "introspection")

    async def registration_request(request: Request) -> StarletteJsonRequest:
        body = await request.body()
        data: Any = {}
        if request.method in ("POST", "PUT"):
            try:
                data = json.loads(body) if len(body) <= MAX_FORM_BYTES else None
            except (ValueError, UnicodeDecodeError):
                data = None
            if not isinstance(data, dict):
                raise RegistrationError("the body must be a JSON object")
        return StarletteJsonRequest(
            request.method, public_uri(request, settings.base_url), request.headers, data
        )

    @router.post("/oauth/register", status_code=201)
    async def register_client(request: Request) -> Response:
        """RFC 7591 dynamic registration (REQ.21 FB_36), with an initial access token."""
        jreq = await registration_request(request)
        return await run(lambda: server.create_endpoint_response("client_registration", jreq))

    async def configure_client(request: Request, client_id: str) -> Response:
        """RFC 7592 client configuration with the registration access token."""
        jreq = await registration_request(request)
        jreq.client_id_in_path = client_id
        return await run(lambda: server.create_endpoint_response("client_configuration", jreq))

    # One route per method: each needs its own OpenAPI operation id.
    for method, verb in (("GET", "read"), ("PUT", "update"), ("DELETE", "delete")):
        router.add_api_route(
            "/oauth/register/{client_id}",
            configure_client,
            methods=[method],
            name=f"{verb}_client_configuration",
            operation_id=f"{verb}_client_configuration",
            summary=f"RFC 7592 client configuration: {verb}",
        )

    @router.get("/.well-known/oauth-authorization-server")
    def metadata() -> JSONResponse:
        """RFC 8414 authorization server metadata. ``scopes_supported`` is the scope a
        third party gets by default (REQ.21 scope strings are not a fixed list);
        ``espi_function_blocks_supported`` lists the blocks offered (REQ.21 section 5)."""
        site = settings.site_url
        body: dict[str, Any] = {
            "issuer": settings.base_url.rstrip("/"),
            "authorization_endpoint": site("/oauth/authorize"),
            "token_endpoint": site("/oauth/token"),
            "revocation_endpoint": site("/oauth/revoke"),
            "registration_endpoint": site("/oauth/register"),
            "introspection_endpoint": site("/oauth/introspect"),
            "response_types_supported": ["code"],
            "grant_types_supported": [
                "authorization_code",
                "refresh_token",
                "client_credentials",
            ],
            "token_endpoint_auth_methods_supported": [
                "client_secret_basic",
                "client_secret_post",
                "none",
            ],
            "revocation_endpoint_auth_methods_supported": [
                "client_secret_basic",
                "client_secret_post",
                "none",
            ],
            "code_challenge_methods_supported": ["S256"],
            "scopes_supported": [settings.default_scope],
            "espi_function_blocks_supported": sorted(settings.supported_blocks),
            "espi_resource_base": settings.public_resource_base,
        }
        if settings.mtls != OFF:
            # RFC 8705 section 3.3: access tokens are bound to the client certificate.
            body["tls_client_certificate_bound_access_tokens"] = True
        return JSONResponse(body)

    return router
