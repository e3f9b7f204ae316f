"""Customer sign-in and sign-out (the utility's own login, used by the consent page),
the customer's account page with its revocations, and the consent pages of
:mod:`gbconnect.portal.authorize`."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates
from sqlalchemy.orm import Session, sessionmaker
from starlette.concurrency import run_in_threadpool

from gbconnect.config import Settings
from gbconnect.customer.services import authenticate, find_customer
from gbconnect.espi import scope as espi_scope
from gbconnect.oauth.models import ACTIVE, REVOKED, Authorization
from gbconnect.oauth.revocation import revoke_authorization
from gbconnect.oauth.services import authorizations_of, subscription_usage_point_ids
from gbconnect.oauth.starlette import FormTooLarge, read_form
from gbconnect.portal import authorize
from gbconnect.portal.account_security import record_sign_in, start_second_factor
from gbconnect.portal.consent import groups_of
from gbconnect.portal.pages import error_page
from gbconnect.resource import now
from gbconnect.web import access  # noqa: F401  (registers the espiid path convertor)
from gbconnect.web.security import (
    LoginThrottle,
    client_address,
    csrf_ok,
    csrf_token,
    current_customer,
    log_in,
    safe_next,
)


def _day(epoch: int) -> str:
    return datetime.fromtimestamp(epoch, UTC).strftime("%Y-%m-%d")


def _status_label(auth: Authorization) -> str:
    if auth.status == REVOKED:
        return f"revoked{' (' + auth.revoked_by + ')' if auth.revoked_by else ''}"
    if auth.status == ACTIVE:
        return "active" if auth.is_active(now()) else "ended"
    return "denied"


def build_router(
    settings: Settings, sessions: sessionmaker[Session], templates: Jinja2Templates
) -> APIRouter:
    router = APIRouter(include_in_schema=False)
    router.include_router(authorize.build_router(settings, sessions, templates))
    throttle = LoginThrottle(settings.login_attempts, settings.login_window)

    def page(request: Request, status: int = 200, **context: Any) -> Response:
        context.setdefault("error", None)
        context.setdefault("username", "")
        context["csrf"] = csrf_token(request)
        context["next"] = safe_next(
            context.get("next") or request.query_params.get("next"), "/account"
        )
        context["settings"] = settings
        return templates.TemplateResponse(request, "login.html", context, status_code=status)

    @router.get("/login", response_class=HTMLResponse)
    def login_form(request: Request) -> Response:
        return page(request)

    @router.post("/login")
    async def login(request: Request) -> Response:
        try:
            form = dict(await read_form(request))
        except FormTooLarge:
            return page(request, 400, error="The form could not be read.")
        next_url = safe_next(form.get("next"), "/account")
        username = form.get("username", "").strip()[:128]
        if not csrf_ok(request, form.get("csrf")):
            return page(request, 403, error="The form expired; please try again.", next=next_url)
        address = client_address(request, settings.trusted_networks)
        if throttle.blocked(username, address):
            return page(
                request,
                429,
                error="Too many failed attempts. Wait a few minutes and try again.",
                username=username,
                next=next_url,
            )
        wait = throttle.delay(username, address)
        if wait:
            await asyncio.sleep(wait)

        def check() -> int | None:
            with sessions() as session:
                customer = authenticate(session, username, form.get("password", ""))
                known = customer or find_customer(session, username)
                if known is not None:
                    outcome = "wrong password" if customer is None else "ok"
                    if customer is not None and customer.totp_secret:
                        outcome = "password ok"
                    record_sign_in(session, settings, request, known.id, outcome)
                session.commit()
                return customer.id if customer is not None else None

        customer_id = await run_in_threadpool(check)
        if customer_id is None:
            throttle.failed(username, address)
            return page(
                request,
                401,
                error="That username and password do not match.",
                username=username,
                next=next_url,
            )
        throttle.succeeded(username, address)
        with sessions() as session:
            from gbconnect.customer.models import RetailCustomer

            customer = session.get(RetailCustomer, customer_id)
            assert customer is not None
            if customer.totp_secret:  # the second step: a code (account_security)
                return start_second_factor(request, customer, next_url)
            log_in(request, customer)
        return RedirectResponse(next_url, status_code=303)

    @router.get("/account", response_class=HTMLResponse)
    def account(request: Request) -> Response:
        """The customer's own page: who may see their data, and a way to stop it."""
        with sessions() as session:
            customer = current_customer(request, session)
            if customer is None:
                return RedirectResponse("/login?next=%2Faccount", status_code=303)
            rows = []
            for auth in authorizations_of(session, customer_id=customer.id):
                sub = auth.subscription
                count = len(subscription_usage_point_ids(session, sub.id)) if sub else 0
                rows.append(
                    {
                        "id": auth.id,
                        "third_party": auth.application.client_name,
                        "active": auth.is_active(now()),
                        "status": _status_label(auth),
                        "groups": [g.label for g in groups_of(espi_scope.parse(auth.scope))],
                        "services": count,
                        "since": _day(auth.authorized_start),
                        "until": _day(auth.authorized_end) if auth.authorized_end else None,
                        "offline": auth.offline,
                    }
                )
            return templates.TemplateResponse(
                request,
                "account.html",
                {
                    "settings": settings,
                    "customer": customer,
                    "authorizations": rows,
                    "csrf": csrf_token(request),
                    "revoked": request.query_params.get("revoked") == "1",
                },
            )

    # An id the store cannot hold, or no number at all, matches no route: a 404 page.
    @router.post("/account/authorizations/{auth_id:espiid}/revoke")
    async def revoke(request: Request, auth_id: int) -> Response:
        """Revocation by the customer takes effect at once: every token of the grant
        fails from the next call (REQ.21 Authorization status 0)."""
        try:
            form = dict(await read_form(request))
        except FormTooLarge:
            form = {}
        if not csrf_ok(request, form.get("csrf")):
            return error_page(
                templates, request, settings, "This form has expired. Go back and try again.", 403
            )

        def run() -> bool:
            with sessions() as session:
                customer = current_customer(request, session)
                auth = session.get(Authorization, auth_id)
                if customer is None or auth is None or auth.retail_customer_id != customer.id:
                    return False
                revoke_authorization(session, auth, "customer")
                session.commit()
                return True

        if not await run_in_threadpool(run):
            return error_page(templates, request, settings, "There is no such authorization.", 404)
        return RedirectResponse("/account?revoked=1", status_code=303)

    @router.post("/logout")
    async def logout(request: Request) -> Response:
        try:
            form = dict(await read_form(request))
        except FormTooLarge:
            form = {}
        if csrf_ok(request, form.get("csrf")):
            request.session.clear()
        return RedirectResponse("/", status_code=303)

    return router
