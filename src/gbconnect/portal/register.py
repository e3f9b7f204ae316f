"""Creating an online account (STANDARD.md section 7: a customer whose data a utility
holds, who never enrolled online, or who shared their data as a guest).

``/register`` takes the account number and the phone on the account, then the code
texted to that phone (:mod:`gbconnect.portal.code_steps`); ``/register/account`` then
takes a username, an optional email address and a password twice (argon2id,
:func:`gbconnect.customer.services.hash_password`, at least
``customer.services.MIN_PASSWORD`` characters), signs the customer in and shows
``/account``, where any grant made as a guest already is. A retail customer who has a
password is told to sign in or reset it instead.
"""

from __future__ import annotations

import time
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker
from starlette.concurrency import run_in_threadpool

from gbconnect.config import Settings
from gbconnect.customer.models import RetailCustomer
from gbconnect.customer.services import MIN_PASSWORD, CustomerError, hash_password
from gbconnect.i18n import N_
from gbconnect.i18n import gettext as _
from gbconnect.portal.account_security import record_sign_in
from gbconnect.portal.code_steps import Steps, add_steps
from gbconnect.portal.email_change import ADDRESS
from gbconnect.portal.pages import audit_customer, expired_form, form_fields
from gbconnect.web.security import csrf_ok, csrf_token, log_in

#: The session key of a right code, and the seconds it lets the customer choose.
CONFIRMED = "register_confirmed"
WINDOW = 900
BAD_USERNAME = N_("Choose a username of 1 to 128 characters, without spaces.")
TAKEN = N_("That username is taken. Choose another.")
BAD_EMAIL = N_("That is not an email address (name@example.com).")
SHORT = N_("Your password needs at least %(count)s characters.")
DIFFERENT = N_("The two passwords are not the same.")
CHECK_ERRORS = N_("Check the fields marked below.")


def build_router(
    settings: Settings, sessions: sessionmaker[Session], templates: Jinja2Templates
) -> APIRouter:
    router = APIRouter(include_in_schema=False)

    def page(request: Request, status: int = 200, **context: Any) -> Response:
        context.setdefault("error", None)
        context.setdefault("errors", {})
        context.setdefault("has_account", None)
        context.update(settings=settings, csrf=csrf_token(request), min_password=MIN_PASSWORD)
        response = templates.TemplateResponse(
            request, "register_account.html", context, status_code=status
        )
        response.headers["Cache-Control"] = "no-store"
        return response

    def confirmed(
        request: Request, session: Session, customer: RetailCustomer, pending: dict[str, Any]
    ) -> Response:
        """The right code: choose a username and password, unless there is one."""
        if customer.password_hash is not None:
            return page(request, has_account=customer.username)
        request.session[CONFIRMED] = {"c": customer.id, "at": time.time()}
        return RedirectResponse("/register/account", status_code=303)

    steps = Steps(
        purpose="register",
        path="/register",
        start_template="register_start.html",
        code_template="register_code.html",
        done=confirmed,
    )
    add_steps(router, settings, sessions, templates, steps)

    def confirmed_id(request: Request) -> int | None:
        c = request.session.get(CONFIRMED)
        if not isinstance(c, dict) or time.time() - float(c.get("at", 0)) > WINDOW:
            return None
        return int(c["c"])

    @router.get("/register/account", response_class=HTMLResponse)
    def account_form(request: Request) -> Response:
        customer_id = confirmed_id(request)
        if customer_id is None:
            return RedirectResponse("/register", status_code=303)
        with sessions() as session:
            customer = session.get(RetailCustomer, customer_id)
            if customer is None:
                return RedirectResponse("/register", status_code=303)
            if customer.password_hash is not None:
                return page(request, has_account=customer.username)
            return page(request, username=customer.username, email=customer.email or "")

    @router.post("/register/account")
    async def choose(request: Request) -> Response:
        form = await form_fields(request)
        if not csrf_ok(request, form.get("csrf")):
            return expired_form(templates, request, settings)
        customer_id = confirmed_id(request)
        if customer_id is None:
            return RedirectResponse("/register", status_code=303)
        username = form.get("username", "")[:200].strip()
        email = form.get("email", "")[:300].strip()
        password, again = form.get("password", ""), form.get("confirm", "")
        errors: dict[str, str] = {}
        if not username or len(username) > 128 or any(c.isspace() for c in username):
            errors["username"] = _(BAD_USERNAME)
        if email and not ADDRESS.match(email):
            errors["email"] = _(BAD_EMAIL)
        if len(password) < MIN_PASSWORD:
            errors["password"] = _(SHORT, count=MIN_PASSWORD)
        elif password != again:
            errors["confirm"] = _(DIFFERENT)
        kept = {"username": username, "email": email}
        if errors:
            return page(request, 400, error=_(CHECK_ERRORS), errors=errors, **kept)

        def run() -> Response:
            with sessions() as session:
                customer = session.get(RetailCustomer, customer_id)
                if customer is None:
                    return RedirectResponse("/register", status_code=303)
                if customer.password_hash is not None:
                    return page(request, has_account=customer.username)
                other = session.scalars(
                    select(RetailCustomer.id).where(
                        RetailCustomer.username == username, RetailCustomer.id != customer.id
                    )
                ).first()
                if other is not None:
                    return page(request, 400, error=_(TAKEN), errors={"username": _(TAKEN)}, **kept)
                try:
                    customer.password_hash = hash_password(password)
                except CustomerError:
                    return page(
                        request, 400, errors={"password": _(SHORT, count=MIN_PASSWORD)}, **kept
                    )
                customer.username = username
                if email:
                    customer.email = email
                audit_customer(session, request, settings, customer.id, "account.created_online")
                record_sign_in(session, settings, request, customer.id, "ok")
                try:
                    session.commit()
                except IntegrityError:  # the username was taken a moment ago
                    session.rollback()
                    return page(request, 400, error=_(TAKEN), errors={"username": _(TAKEN)}, **kept)
                log_in(request, customer)
                return RedirectResponse("/account", status_code=303)

        return await run_in_threadpool(run)

    return router


__all__ = ["CONFIRMED", "build_router"]
