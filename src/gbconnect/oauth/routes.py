"""OAuth 2.0 endpoints (RFC 6749, 7009, 7662, 8414) and the consent page.

- ``GET /oauth/authorize``: validates the request (Authlib), sends an anonymous
  visitor to the utility's login, then shows the consent page;
- ``POST /oauth/authorize``: the customer's decision (CSRF-checked); approval
  creates the Authorization and Subscription and redirects with a code, denial
  redirects with ``access_denied``; ``state`` is carried through either way;
- ``POST /oauth/token``, ``/oauth/revoke``, ``/oauth/introspect``;
- ``GET /.well-known/oauth-authorization-server``.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any, TypeVar, cast
from urllib.parse import quote

from authlib.oauth2.rfc6749.errors import OAuth2Error
from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates
from sqlalchemy.orm import Session, sessionmaker
from starlette.concurrency import run_in_threadpool

from gbconnect.config import Settings
from gbconnect.espi import scope as espi_scope
from gbconnect.oauth import services
from gbconnect.oauth.server import CURRENT_SESSION, EspiAuthorizationServer
from gbconnect.oauth.starlette import (
    MAX_FORM_BYTES,
    FormTooLarge,
    StarletteJsonRequest,
    StarletteOAuth2Request,
    oauth_request,
    public_uri,
)
from gbconnect.portal import consent
from gbconnect.registration.errors import RegistrationError
from gbconnect.web.security import csrf_ok, csrf_token, current_customer

T = TypeVar("T")


class Consent:
    """What the consent form decided, handed to the code grant."""

    def __init__(self, authorization_id: int, scope: str) -> None:
        self.authorization_id = authorization_id
        self.scope = scope


def _error_page(
    templates: Jinja2Templates, request: Request, message: str, status: int
) -> Response:
    return templates.TemplateResponse(
        request, "error.html", {"message": message}, status_code=status
    )


def build_router(
    settings: Settings,
    sessions: sessionmaker[Session],
    server: EspiAuthorizationServer,
    templates: Jinja2Templates,
) -> APIRouter:
    router = APIRouter(tags=["oauth"])

    def in_session(fn: Callable[[Session], T]) -> Callable[[], T]:
        """Run ``fn`` with a session current for Authlib; commit what it did (a failed
        exchange may still have revoked tokens, RFC 6749 section 4.1.2)."""

        def run() -> T:
            with sessions() as session:
                marker = CURRENT_SESSION.set(session)
                try:
                    result = fn(session)
                    session.commit()
                    return result
                finally:
                    CURRENT_SESSION.reset(marker)

        return run

    async def read(request: Request) -> StarletteOAuth2Request | Response:
        try:
            return await oauth_request(request, settings.base_url)
        except FormTooLarge:
            return JSONResponse(
                {"error": "invalid_request", "error_description": "unreadable form body"},
                status_code=400,
            )

    def consent_error(request: Request, error: OAuth2Error) -> Response:
        """A redirect back to the client when its redirect URI is known and valid,
        otherwise a page for the customer (never a redirect to an unchecked URI)."""
        if error.redirect_uri:
            return cast(Response, server.handle_error_response(None, error))
        message = error.description or error.error
        return _error_page(templates, request, f"This sign-in link is not valid: {message}.", 400)

    @router.get("/oauth/authorize", response_class=HTMLResponse, include_in_schema=False)
    async def authorize_page(request: Request) -> Response:
        oreq = await read(request)
        if isinstance(oreq, Response):
            return oreq

        def validate(session: Session) -> Any:
            grant = server.get_consent_grant(oreq)
            customer = current_customer(request, session)
            if customer is None:
                return None
            requested = espi_scope.parse(oreq.scope or grant.client.get_allowed_scope(None))
            return {
                "app": grant.client.app,
                "customer": customer,
                "groups": consent.groups_of(requested),
                "intervals": consent.interval_labels(requested),
                "histories": consent.history_choices(requested),
                "services": consent.service_choices(session, customer),
                "default_end": consent.default_end(requested),
                "scope": str(requested),
            }

        try:
            context = await run_in_threadpool(in_session(validate))
        except OAuth2Error as error:
            return consent_error(request, error)
        if context is None:
            target = request.url.path + "?" + request.url.query
            return RedirectResponse(f"/login?next={quote(target, safe='')}", status_code=303)
        context["csrf"] = csrf_token(request)
        context["action"] = request.url.path + "?" + request.url.query
        context["settings"] = settings
        return templates.TemplateResponse(request, "consent.html", context)

    @router.post("/oauth/authorize", include_in_schema=False)
    async def authorize_decision(request: Request) -> Response:
        oreq = await read(request)
        if isinstance(oreq, Response):
            return oreq
        form = oreq.form
        if not csrf_ok(request, form.get("csrf")):
            return _error_page(
                templates, request, "This form has expired. Go back and try again.", 403
            )
        chosen_services = oreq.payload.datalist.get("service", [])
        kept_groups = set(oreq.payload.datalist.get("group", []))

        def decide(session: Session) -> Response:
            customer = current_customer(request, session)
            if customer is None:
                return _error_page(templates, request, "Please sign in again.", 401)
            grant = server.get_consent_grant(oreq, end_user=customer)
            if form.get("decision") != "approve":
                denied = server.create_authorization_response(oreq, grant_user=None, grant=grant)
                return cast(Response, denied)
            requested = espi_scope.parse(oreq.scope or grant.client.get_allowed_scope(None))
            history_text = form.get("history", "")
            try:
                history = int(history_text) if history_text else None
                granted = consent.narrowed_scope(requested, kept_groups, history)
                end = consent.parse_end(
                    form.get("end"), form.get("end_date"), datetime.now(UTC).date()
                )
                ids = [int(s) for s in chosen_services if s.isdigit()]
                if len(ids) != len(chosen_services):
                    raise services.GrantError("a chosen service is not valid")
                auth = services.grant_customer_authorization(
                    session,
                    settings,
                    grant.client.app,
                    customer,
                    services.GrantRequest(scope=granted, usage_point_ids=ids, end=end),
                )
            except (ValueError, services.GrantError) as exc:
                session.rollback()
                return _error_page(
                    templates, request, f"The authorization was not given: {exc}.", 400
                )
            oreq.consent = Consent(auth.id, str(granted))
            approved = server.create_authorization_response(oreq, grant_user=customer, grant=grant)
            return cast(Response, approved)

        try:
            return await run_in_threadpool(in_session(decide))
        except OAuth2Error as error:
            return consent_error(request, error)

    @router.post("/oauth/token")
    async def token(request: Request) -> Response:
        """RFC 6749 section 3.2: authorization_code, refresh_token, client_credentials."""
        oreq = await read(request)
        if isinstance(oreq, Response):
            return oreq
        return await run_in_threadpool(in_session(lambda _s: server.create_token_response(oreq)))

    @router.post("/oauth/revoke")
    async def revoke(request: Request) -> Response:
        """RFC 7009 token revocation."""
        oreq = await read(request)
        if isinstance(oreq, Response):
            return oreq
        return await run_in_threadpool(
            in_session(lambda _s: server.create_endpoint_response("revocation", oreq))
        )

    @router.post("/oauth/introspect")
    async def introspect(request: Request) -> Response:
        """RFC 7662 token introspection (a third party, of its own tokens)."""
        oreq = await read(request)
        if isinstance(oreq, Response):
            return oreq
        return await run_in_threadpool(
            in_session(lambda _s: server.create_endpoint_response("introspection", oreq))
        )

    async def registration_request(request: Request) -> StarletteJsonRequest | Response:
        body = await request.body()
        data: Any = {}
        if request.method in ("POST", "PUT"):
            try:
                data = json.loads(body) if len(body) <= MAX_FORM_BYTES else None
            except (ValueError, UnicodeDecodeError):
                data = None
            if not isinstance(data, dict):
                return JSONResponse(
                    {
                        "error": "invalid_client_metadata",
                        "error_description": "the body must be a JSON object",
                    },
                    status_code=400,
                )
        jreq = StarletteJsonRequest(
            request.method, public_uri(request, settings.base_url), request.headers, data
        )
        return jreq

    def registration_call(jreq: StarletteJsonRequest, name: str) -> Callable[[Session], Response]:
        def call(session: Session) -> Response:
            try:
                return cast(Response, server.create_endpoint_response(name, jreq))
            except RegistrationError as exc:
                session.rollback()
                return JSONResponse(
                    {"error": exc.error, "error_description": str(exc)}, status_code=400
                )

        return call

    @router.post("/oauth/register", status_code=201)
    async def register_client(request: Request) -> Response:
        """RFC 7591 dynamic registration (REQ.21 FB_36), with an initial access token."""
        jreq = await registration_request(request)
        if isinstance(jreq, Response):
            return jreq
        return await run_in_threadpool(in_session(registration_call(jreq, "client_registration")))

    @router.api_route("/oauth/register/{client_id}", methods=["GET", "PUT", "DELETE"])
    async def configure_client(request: Request, client_id: str) -> Response:
        """RFC 7592 client configuration with the registration access token."""
        jreq = await registration_request(request)
        if isinstance(jreq, Response):
            return jreq
        jreq.client_id_in_path = client_id
        return await run_in_threadpool(in_session(registration_call(jreq, "client_configuration")))

    @router.get("/.well-known/oauth-authorization-server")
    def metadata() -> JSONResponse:
        """RFC 8414 authorization server metadata. ``scopes_supported`` is the scope a
        third party gets by default (REQ.21 scope strings are not a fixed list);
        ``espi_function_blocks_supported`` lists the blocks offered (REQ.21 section 5)."""
        site = settings.site_url
        return JSONResponse(
            {
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
        )

    return router
