"""The customer's side of ``/oauth/authorize`` (RFC 6749 section 4.1.1, REQ.21 FB_3):
sign-in, the consent page and the decision.

- ``GET /oauth/authorize``: Authlib validates the request; an anonymous visitor is
  sent to the utility's login and back; a signed-in customer sees the consent page
  (:mod:`gbconnect.portal.consent` explains the scope in data groups);
- ``POST /oauth/authorize``: the decision (CSRF-checked). Approval creates the
  Authorization and Subscription (:func:`gbconnect.oauth.services.grant_customer_authorization`)
  and redirects with a code; denial redirects with ``access_denied``
  (RFC 6749 section 4.1.2.1); ``state`` is carried through either way.

A request whose client or redirect URI cannot be trusted is answered with a page,
never a redirect (RFC 6749 section 4.1.2.1). The authorization server is the
application's (``app.state.oauth``).

A third party the utility has not approved yet (``dataCustodianApplicationStatus``
1, review) may be authorized only by test customers, as in PG&E's connectivity test
(:func:`gbconnect.oauth.services.may_authorize`): a real customer sees a page saying
so, with no consent form (403), and the consent page a test customer sees says the
application is in review. The token endpoint refuses the same.

A guest (:mod:`gbconnect.portal.guest`: the account number, the phone on the account
and a texted code) sees the consent page too, for approved third parties only; the
decision, either way, ends the guest session.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, cast
from urllib.parse import quote

from authlib.oauth2.rfc6749.errors import OAuth2Error
from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates
from sqlalchemy.orm import Session, sessionmaker
from starlette.concurrency import run_in_threadpool

from gbconnect.config import Settings
from gbconnect.espi import scope as espi_scope
from gbconnect.i18n import gettext as _
from gbconnect.oauth import services
from gbconnect.oauth.context import in_session
from gbconnect.oauth.server import EspiAuthorizationServer
from gbconnect.oauth.starlette import oauth_request
from gbconnect.portal import consent, share
from gbconnect.portal.pages import audit_customer, customer_actor, error_page, expired_form
from gbconnect.registration import models as rm
from gbconnect.web.security import csrf_ok, csrf_token, current_customer, is_guest


class Consent:
    """What the consent form decided, handed to the code grant."""

    def __init__(self, authorization_id: int, scope: str) -> None:
        self.authorization_id = authorization_id
        self.scope = scope


def build_router(
    settings: Settings, sessions: sessionmaker[Session], templates: Jinja2Templates
) -> APIRouter:
    router = APIRouter(include_in_schema=False)

    def consent_error(
        request: Request, server: EspiAuthorizationServer, error: OAuth2Error
    ) -> Response:
        """A redirect back to the client when its redirect URI is known and valid,
        otherwise a page for the customer (never a redirect to an unchecked URI)."""
        if error.redirect_uri:
            return cast(Response, server.handle_error_response(None, error))
        message = error.description or error.error
        return error_page(
            templates,
            request,
            settings,
            _("This sign-in link is not valid: %(reason)s.", reason=message),
            400,
        )

    def not_approved_page(request: Request, app: rm.ApplicationInformation) -> Response:
        """The page a real customer sees for a third party not approved yet (403)."""
        return templates.TemplateResponse(
            request,
            "not_approved.html",
            {"settings": settings, "client_name": app.client_name},
            status_code=403,
        )

    @router.get("/oauth/authorize", response_class=HTMLResponse)
    async def authorize_page(request: Request) -> Response:
        server: EspiAuthorizationServer = request.app.state.oauth
        oreq = await oauth_request(request, settings.base_url)

        def validate(session: Session) -> Any:
            grant = server.get_consent_grant(oreq)
            customer = current_customer(request, session, allow_guest=True)
            if customer is None:
                return None
            app = grant.client.app
            if not services.may_authorize(app, customer):
                return {"app": app, "not_approved": True}
            if is_guest(request) and app.data_custodian_status != rm.PRODUCTION:
                return {"app": app, "not_approved": True}  # a guest: approved ones only
            requested = espi_scope.parse(oreq.scope or grant.client.get_allowed_scope(None))
            return {
                "app": app,
                "in_review": app.data_custodian_status != rm.PRODUCTION,
                "customer": customer,
                "groups": consent.groups_of(requested),
                "intervals": consent.interval_labels(requested),
                "histories": consent.history_choices(requested),
                "services": consent.service_choices(session, customer, requested),
                "default_end": consent.default_end(requested),
                "scope": str(requested),
                # Chosen on the utility's share page (STANDARD.md section 7): the
                # form opens filled with those choices.
                "chosen": share.remembered(request, app.client_id),
            }

        try:
            context = await run_in_threadpool(in_session(sessions, validate))
        except OAuth2Error as error:
            return consent_error(request, server, error)
        if context is None:
            target = request.url.path + "?" + request.url.query
            return RedirectResponse(f"/login?next={quote(target, safe='')}", status_code=303)
        if context.get("not_approved"):
            return not_approved_page(request, context["app"])
        context["csrf"] = csrf_token(request)
        context["guest"] = is_guest(request)
        context["action"] = request.url.path + "?" + request.url.query
        context["settings"] = settings
        return templates.TemplateResponse(request, "consent.html", context)

    @router.post("/oauth/authorize")
    async def authorize_decision(request: Request) -> Response:
        server: EspiAuthorizationServer = request.app.state.oauth
        oreq = await oauth_request(request, settings.base_url)
        form = oreq.form
        if not csrf_ok(request, form.get("csrf")):
            return expired_form(templates, request, settings)

        def decide(session: Session) -> Response:
            customer = current_customer(request, session, allow_guest=True)
            if customer is None:
                return error_page(templates, request, settings, _("Please sign in again."), 401)
            grant = server.get_consent_grant(oreq, end_user=customer)
            if not services.may_authorize(grant.client.app, customer):
                return not_approved_page(request, grant.client.app)
            guest = is_guest(request)
            if guest and grant.client.app.data_custodian_status != rm.PRODUCTION:
                return not_approved_page(request, grant.client.app)
            if form.get("decision") != "approve":
                audit_customer(
                    session,
                    request,
                    settings,
                    customer.id,
                    "consent.denied",
                    ("application", grant.client.app.id),
                    {"client_id": grant.client.app.client_id},
                )
                session.commit()
                if guest:  # a guest session ends with its decision
                    request.session.clear()
                denied = server.create_authorization_response(oreq, grant_user=None, grant=grant)
                return cast(Response, denied)
            requested = espi_scope.parse(oreq.scope or grant.client.get_allowed_scope(None))
            try:
                zone = settings.zone
                decision = consent.read_decision(
                    oreq.payload.datalist, requested, datetime.now(zone).date(), zone
                )
                auth = services.grant_customer_authorization(
                    session,
                    settings,
                    grant.client.app,
                    customer,
                    services.GrantRequest(
                        scope=decision.scope,
                        usage_point_ids=decision.usage_point_ids,
                        end=decision.end,
                    ),
                    actor=customer_actor(request, settings, customer.id),
                )
            except ValueError as exc:  # GrantError and ScopeError are ValueErrors too
                session.rollback()
                return error_page(
                    templates,
                    request,
                    settings,
                    _("The authorization was not given: %(reason)s.", reason=str(exc)),
                    400,
                )
            share.forget(request, grant.client.app.client_id)
            oreq.consent = Consent(auth.id, str(decision.scope))
            if guest:
                request.session.clear()
            approved = server.create_authorization_response(oreq, grant_user=customer, grant=grant)
            return cast(Response, approved)

        try:
            return await run_in_threadpool(in_session(sessions, decide))
        except OAuth2Error as error:
            return consent_error(request, server, error)

    return router


__all__ = ["Consent", "build_router"]
