"""The two steps guest access and creating an online account share (STANDARD.md
section 7: PG&E's guest access asks for the account number and the phone on the
account): the account number and phone, then the code texted to that phone.

- ``POST {path}`` answers the same whether or not an account matched (no account
  enumeration): the code page, with a code texted only on a match
  (:mod:`gbconnect.customer.one_time_codes`, :mod:`gbconnect.sms`), after the answer
  (so the gateway's time tells nothing either). The session then holds only what was
  typed, never whether it matched.
- Every request of the first step counts in a :class:`~gbconnect.web.security.LoginThrottle`
  by account number and client address (a match and a miss alike): past
  ``GBCONNECT_LOGIN_ATTEMPTS`` in ``GBCONNECT_LOGIN_WINDOW`` seconds, 429.
- ``POST {path}/code`` checks the code; :data:`~gbconnect.customer.one_time_codes.MAX_TRIES`
  wrong ones send the customer back to the first step. A right one is handed to the
  page's ``done`` (sign in as a guest, or choose a password).
"""

from __future__ import annotations

import asyncio
import logging
import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker
from starlette.background import BackgroundTask
from starlette.concurrency import run_in_threadpool

from gbconnect import sms
from gbconnect.config import Settings
from gbconnect.customer import one_time_codes as codes
from gbconnect.customer.models import CustomerAccount, RetailCustomer
from gbconnect.customer.phones import PhoneError, masked, normalize_phone
from gbconnect.i18n import N_
from gbconnect.i18n import gettext as _
from gbconnect.portal.pages import expired_form, form_fields
from gbconnect.ratelimit.store import store_for
from gbconnect.web.security import LoginThrottle, client_address, csrf_ok, csrf_token

_log = logging.getLogger(__name__)
#: Seconds the code page waits after the first step.
WINDOW = 900
#: An account number as printed on a bill: letters and digits (spaces and dashes
#: between them are dropped).
ACCOUNT = re.compile(r"^[A-Za-z0-9]{1,64}$")
NO_ACCOUNT = N_("Enter your account number, as it is on your bill.")
BAD_ACCOUNT = N_("An account number has only digits and letters. Check your bill and try again.")
NO_PHONE = N_("Enter the phone number on your account.")
CHECK_ERRORS = N_("Check the fields marked below.")
TOO_MANY_TRIES = N_("Too many tries from here. Wait %(minutes)s minutes and try again.")
NOT_SIX = N_("Type the 6 digits of the code we texted.")
NO_NEXT = N_(
    "Guest access is for sharing your data with a company that sent you here. Sign in, "
    "or create an online account."
)
START_AGAIN = N_("Too many wrong codes. Ask for a new code.")
CODE_TEXT = N_(
    "Your %(utility)s code is %(code)s. It works for 10 minutes. Do not share it: "
    "%(utility)s will never ask you for it."
)

#: What the code step hands to the page that uses it: the request, a database
#: session, the customer whose code was right, and the first step's data.
Done = Callable[[Request, Session, RetailCustomer, dict[str, Any]], Response]


@dataclass(frozen=True)
class Steps:
    """One use of the two steps."""

    purpose: str  # guest or register (one_time_codes.PURPOSES)
    path: str  # /guest or /register
    start_template: str
    code_template: str
    done: Done
    #: The first step needs a local ``next`` under this prefix (guest access: the
    #: consent page); None: no ``next``.
    next_prefix: str | None = None


def read_account(text: str) -> str:
    """A typed account number without spaces or dashes; ValueError with a sentence."""
    compact = re.sub(r"[\s\-]", "", text)
    if not compact:
        raise ValueError(_(NO_ACCOUNT))
    if not ACCOUNT.match(compact):
        raise ValueError(_(BAD_ACCOUNT))
    return compact


def find_by_account(session: Session, account: str, phone: str) -> RetailCustomer | None:
    """The retail customer holding a CustomerAccount numbered ``account`` whose phone
    on file is ``phone`` (E.164)."""
    return session.scalars(
        select(RetailCustomer)
        .join(CustomerAccount, CustomerAccount.retail_customer_id == RetailCustomer.id)
        .where(CustomerAccount.account_id == account, RetailCustomer.phone == phone)
        .order_by(RetailCustomer.id)
        .limit(1)
    ).first()


def send_quietly(settings: Settings, to: str, text: str) -> None:
    """Text a code; a gateway that fails is logged (the page said the same anyway)."""
    try:
        sms.send(settings, to, text)
    except sms.SmsError:
        _log.exception("a one-time code could not be texted")


def add_steps(
    router: APIRouter,
    settings: Settings,
    sessions: sessionmaker[Session],
    templates: Jinja2Templates,
    steps: Steps,
) -> None:
    """``GET``/``POST`` ``{path}`` and ``{path}/code`` on ``router``."""
    # Counted where every process of the database counts (gbconnect.ratelimit).
    throttle = LoginThrottle(
        settings.login_attempts, settings.login_window, store=store_for(sessions.kw["bind"])
    )
    key = f"{steps.purpose}_pending"

    def page(request: Request, name: str, status: int = 200, **context: Any) -> Response:
        context.setdefault("error", None)
        context.setdefault("errors", {})
        context.update(settings=settings, csrf=csrf_token(request), path=steps.path)
        response = templates.TemplateResponse(request, name, context, status_code=status)
        response.headers["Cache-Control"] = "no-store"
        return response

    def next_of(value: str | None) -> str | None:
        """The first step's ``next``: "" when none is needed, None when it is bad."""
        if steps.next_prefix is None:
            return ""
        if value and value.startswith(steps.next_prefix) and "\\" not in value:
            return value
        return None

    def start_url(next_url: str, extra: str = "") -> str:
        query = [f"next={quote(next_url, safe='')}"] if next_url else []
        query += [extra] if extra else []
        return steps.path + ("?" + "&".join(query) if query else "")

    def pending(request: Request) -> dict[str, Any] | None:
        p = request.session.get(key)
        if not isinstance(p, dict) or time.time() - float(p.get("at", 0)) > WINDOW:
            return None
        return p

    @router.get(steps.path, response_class=HTMLResponse)
    def start_form(request: Request) -> Response:
        next_url = next_of(request.query_params.get("next", "")[:4000])
        if next_url is None:
            return page(
                request, steps.start_template, 400, next="", account="", phone="", error=_(NO_NEXT)
            )
        notice = _(START_AGAIN) if request.query_params.get("tries") else None
        return page(
            request, steps.start_template, next=next_url, account="", phone="", error=notice
        )

    @router.post(steps.path)
    async def start(request: Request) -> Response:
        form = await form_fields(request)
        if not csrf_ok(request, form.get("csrf")):
            return expired_form(templates, request, settings)
        typed_account = form.get("account", "")[:100]
        typed_phone = form.get("phone", "")[:64]
        next_url = next_of(form.get("next", "")[:4000])
        kept = {"account": typed_account, "phone": typed_phone, "next": next_url or ""}
        if next_url is None:
            return page(request, steps.start_template, 400, error=_(NO_NEXT), **kept)
        errors: dict[str, str] = {}
        try:
            account = read_account(typed_account)
        except ValueError as exc:
            errors["account"] = str(exc)
        try:
            phone = normalize_phone(typed_phone) if typed_phone.strip() else ""
        except PhoneError as exc:
            errors["phone"] = _(str(exc))
        else:
            if not phone:
                errors["phone"] = _(NO_PHONE)
        if errors:
            return page(
                request, steps.start_template, 400, error=_(CHECK_ERRORS), errors=errors, **kept
            )
        address = client_address(request, settings.trusted_networks)
        if await run_in_threadpool(throttle.blocked, account, address):
            minutes = max(1, settings.login_window // 60)
            return page(
                request,
                steps.start_template,
                429,
                error=_(TOO_MANY_TRIES, minutes=minutes),
                **kept,
            )
        wait = await run_in_threadpool(throttle.delay, account, address)
        if wait:
            await asyncio.sleep(wait)
        await run_in_threadpool(
            throttle.failed, account, address
        )  # every request counts: a match and a miss alike

        def run() -> tuple[str, str] | None:
            """The text to send on a match (the phone on file, the message)."""
            with sessions() as session:
                customer = find_by_account(session, account, phone)
                if customer is None or not customer.phone:
                    return None
                try:
                    code = codes.issue(
                        session, settings.secret_key, customer.id, steps.purpose, customer.phone
                    )
                except codes.TooManyCodes:
                    return None  # answered like a miss; the newest code still works
                session.commit()
                return customer.phone, _(CODE_TEXT, utility=settings.utility_name, code=code)

        text = await run_in_threadpool(run)
        request.session[key] = {"a": account, "p": phone, "next": next_url, "at": time.time()}
        response = RedirectResponse(steps.path + "/code", status_code=303)
        if text is not None:
            # Sent after the answer, so that its time does not tell a match either.
            response.background = BackgroundTask(send_quietly, settings, *text)
        return response

    @router.get(steps.path + "/code", response_class=HTMLResponse)
    def code_form(request: Request) -> Response:
        p = pending(request)
        if p is None:
            return RedirectResponse(steps.path, status_code=303)
        return page(request, steps.code_template, phone=masked(p["p"]), next=p.get("next", ""))

    @router.post(steps.path + "/code")
    async def code_check(request: Request) -> Response:
        form = await form_fields(request)
        if not csrf_ok(request, form.get("csrf")):
            return expired_form(templates, request, settings)
        p = pending(request)
        if p is None:
            return RedirectResponse(steps.path, status_code=303)
        typed = "".join(form.get("code", "")[:32].split())
        if not (len(typed) == 6 and typed.isdigit()):
            return page(
                request,
                steps.code_template,
                400,
                phone=masked(p["p"]),
                next=p.get("next", ""),
                error=_(NOT_SIX),
            )

        def run() -> codes.Checked | Response:
            with sessions() as session:
                customer = find_by_account(session, str(p["a"]), str(p["p"]))
                if customer is None:
                    return codes.Checked(codes.Outcome.WRONG)
                checked = codes.check(
                    session, settings.secret_key, customer.id, steps.purpose, typed
                )
                session.commit()
                if not checked.ok:
                    return checked
                request.session.pop(key, None)
                return steps.done(request, session, customer, p)

        result = await run_in_threadpool(run)
        if isinstance(result, Response):
            return result
        tries = int(p.get("n", 0)) + 1
        if tries >= codes.MAX_TRIES:
            request.session.pop(key, None)
            return RedirectResponse(start_url(p.get("next", ""), "tries=1"), status_code=303)
        request.session[key] = {**p, "n": tries}
        status = 401 if result.outcome is codes.Outcome.WRONG else 400
        return page(
            request,
            steps.code_template,
            status,
            phone=masked(p["p"]),
            next=p.get("next", ""),
            error=_(result.message),
        )


__all__ = ["WINDOW", "Steps", "add_steps", "find_by_account", "read_account"]
