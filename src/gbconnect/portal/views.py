"""Customer sign-in and sign-out (the utility's own login, used by the consent page),
the signed-in customer's pages of :mod:`gbconnect.portal.account` (home and "My
authorizations") and the consent pages of :mod:`gbconnect.portal.authorize`."""

from __future__ import annotations

import asyncio
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates
from sqlalchemy.orm import Session, sessionmaker
from starlette.concurrency import run_in_threadpool

from gbconnect.audit import Actor, record
from gbconnect.audit.record import CUSTOMER
from gbconnect.config import Settings
from gbconnect.customer.services import authenticate, find_customer
from gbconnect.i18n import gettext as _
from gbconnect.oauth.starlette import FormTooLarge, read_form
from gbconnect.portal import account, authorize
from gbconnect.portal.account_security import record_sign_in, start_second_factor
from gbconnect.portal.pages import form_fields
from gbconnect.ratelimit.store import store_for
from gbconnect.web import access  # noqa: F401  (registers the espiid path convertor)
from gbconnect.web.security import (
    LoginThrottle,
    client_address,
    csrf_ok,
    csrf_token,
    log_in,
    safe_next,
)


def build_router(
    settings: Settings, sessions: sessionmaker[Session], templates: Jinja2Templates
) -> APIRouter:
    router = APIRouter(include_in_schema=False)
    router.include_router(authorize.build_router(settings, sessions, templates))
    router.include_router(account.build_router(settings, sessions, templates))
    # Counted where every process of the database counts (gbconnect.ratelimit).
    throttle = LoginThrottle(
        settings.login_attempts, settings.login_window, store=store_for(sessions.kw["bind"])
    )

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
            return page(request, 400, error=_("The form could not be read."))
        next_url = safe_next(form.get("next"), "/account")
        username = form.get("username", "").strip()[:128]
        if not csrf_ok(request, form.get("csrf")):
            return page(request, 403, error=_("The form expired; please try again."), next=next_url)
        address = client_address(request, settings.trusted_networks)
        if await run_in_threadpool(throttle.blocked, username, address):
            return page(
                request,
                429,
                error=_("Too many failed attempts. Wait a few minutes and try again."),
                username=username,
                next=next_url,
            )
        wait = await run_in_threadpool(throttle.delay, username, address)
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
                elif username:  # no such account: the try is audited all the same
                    record(
                        session,
                        "sign_in.failed",
                        Actor(CUSTOMER, f"unknown username {username[:64]!r}", address),
                        None,
                        {"outcome": "no such account"},
                    )
                session.commit()
                return customer.id if customer is not None else None

        customer_id = await run_in_threadpool(check)
        if customer_id is None:
            await run_in_threadpool(throttle.failed, username, address)
            return page(
                request,
                401,
                error=_("That username and password do not match."),
                username=username,
                next=next_url,
            )
        await run_in_threadpool(throttle.succeeded, username, address)
        with sessions() as session:
            from gbconnect.customer.models import RetailCustomer

            customer = session.get(RetailCustomer, customer_id)
            assert customer is not None
            if customer.totp_secret:  # the second step: a code (account_security)
                return start_second_factor(request, customer, next_url)
            log_in(request, customer)
        return RedirectResponse(next_url, status_code=303)

    @router.post("/logout")
    async def logout(request: Request) -> Response:
        form = await form_fields(request)
        if csrf_ok(request, form.get("csrf")):
            request.session.clear()
        return RedirectResponse("/", status_code=303)

    return router
