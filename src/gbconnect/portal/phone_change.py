"""Changing the phone on the account, confirmed from the new phone (the customer
portal's account security; the phone guest access and one-time codes use).

Signed in, the customer types the new number at ``/account/security/phone``; a code
is texted to it (:mod:`gbconnect.customer.one_time_codes`, purpose ``phone``, and
:mod:`gbconnect.sms`); typing it saves the number the code was sent to. The old
number, when there was one, is told of the change by text.
"""

from __future__ import annotations

import logging
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates
from sqlalchemy.orm import Session, sessionmaker
from starlette.concurrency import run_in_threadpool

from gbconnect import sms
from gbconnect.config import Settings
from gbconnect.customer import one_time_codes as codes
from gbconnect.customer.models import RetailCustomer
from gbconnect.customer.phones import PhoneError, masked, normalize_phone
from gbconnect.i18n import N_
from gbconnect.i18n import gettext as _
from gbconnect.portal.pages import audit_customer, expired_form, form_fields
from gbconnect.web.security import csrf_ok, csrf_token, current_customer

_log = logging.getLogger(__name__)
PATH = "/account/security/phone"
#: The session key of the number a code was just sent to (shown masked).
SENT_TO = "phone_change_to"
NO_PHONE = N_("Enter your new phone number.")
SAME = N_("That is already the phone number on your account.")
NOT_SIX = N_("Type the 6 digits of the code we texted.")
NOT_SENT = N_("We could not send the text message just now. Try again in a few minutes.")
CODE_TEXT = N_(
    "Your %(utility)s code to confirm this phone is %(code)s. It works for 10 minutes. "
    "Do not share it."
)
CHANGED_TEXT = N_(
    "The phone number of your %(utility)s account was changed to %(phone)s. If you did "
    "not do this, contact %(utility)s at once."
)


def build_router(
    settings: Settings, sessions: sessionmaker[Session], templates: Jinja2Templates
) -> APIRouter:
    router = APIRouter(include_in_schema=False)

    def page(
        request: Request, customer: RetailCustomer, status: int = 200, **context: Any
    ) -> Response:
        context.setdefault("error", None)
        context.setdefault("step", "new")
        context.setdefault("phone", "")
        context.update(settings=settings, csrf=csrf_token(request), current=masked(customer.phone))
        response = templates.TemplateResponse(
            request, "phone_change.html", context, status_code=status
        )
        response.headers["Cache-Control"] = "no-store"
        return response

    def signed_out() -> Response:
        return RedirectResponse("/login?next=%2Faccount%2Fsecurity%2Fphone", status_code=303)

    @router.get(PATH, response_class=HTMLResponse)
    def form(request: Request) -> Response:
        with sessions() as session:
            customer = current_customer(request, session)
            if customer is None:
                return signed_out()
            return page(request, customer)

    @router.post(PATH)
    async def ask(request: Request) -> Response:
        form = await form_fields(request)
        if not csrf_ok(request, form.get("csrf")):
            return expired_form(templates, request, settings)
        typed = form.get("phone", "")[:64]

        def run() -> Response:
            with sessions() as session:
                customer = current_customer(request, session)
                if customer is None:
                    return signed_out()
                try:
                    new = normalize_phone(typed) if typed.strip() else ""
                except PhoneError as exc:
                    return page(request, customer, 400, error=_(str(exc)), phone=typed)
                if not new:
                    return page(request, customer, 400, error=_(NO_PHONE), phone=typed)
                if new == customer.phone:
                    return page(request, customer, 400, error=_(SAME), phone=typed)
                try:
                    code = codes.issue(session, settings.secret_key, customer.id, "phone", new)
                except codes.TooManyCodes:
                    error = _(codes.TOO_MANY_CODES, count=codes.MAX_PER_HOUR)
                    return page(request, customer, 429, error=error, phone=typed)
                try:
                    sms.send(settings, new, _(CODE_TEXT, utility=settings.utility_name, code=code))
                except sms.SmsError:
                    _log.exception("a code to confirm a new phone could not be texted")
                    session.rollback()
                    return page(request, customer, 503, error=_(NOT_SENT), phone=typed)
                session.commit()
                request.session[SENT_TO] = new
                return page(request, customer, step="code", sent_to=masked(new))

        return await run_in_threadpool(run)

    @router.post(PATH + "/code")
    async def confirm(request: Request) -> Response:
        form = await form_fields(request)
        if not csrf_ok(request, form.get("csrf")):
            return expired_form(templates, request, settings)
        typed = "".join(form.get("code", "")[:32].split())
        sent_to = masked(str(request.session.get(SENT_TO) or ""))

        def run() -> Response:
            with sessions() as session:
                customer = current_customer(request, session)
                if customer is None:
                    return signed_out()
                if not (len(typed) == 6 and typed.isdigit()):
                    return page(
                        request, customer, 400, step="code", sent_to=sent_to, error=_(NOT_SIX)
                    )
                checked = codes.check(session, settings.secret_key, customer.id, "phone", typed)
                if not checked.ok or checked.phone is None:
                    session.commit()
                    status = 401 if checked.outcome is codes.Outcome.WRONG else 400
                    return page(
                        request,
                        customer,
                        status,
                        step="code",
                        sent_to=sent_to,
                        error=_(checked.message),
                    )
                old = customer.phone
                customer.phone = checked.phone
                audit_customer(session, request, settings, customer.id, "account.phone_changed")
                session.commit()
                request.session.pop(SENT_TO, None)
                if old and old != customer.phone:
                    text = _(
                        CHANGED_TEXT, utility=settings.utility_name, phone=masked(customer.phone)
                    )
                    try:
                        sms.send(settings, old, text)
                    except sms.SmsError:
                        _log.exception("the old phone could not be told of the change")
                return RedirectResponse("/account/security?done=phone-changed", status_code=303)

        return await run_in_threadpool(run)

    return router


__all__ = ["PATH", "build_router"]
