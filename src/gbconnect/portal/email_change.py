"""Changing the account's email address, confirmed from the new address (the
customer portal's account security).

The customer types the new address on ``/account/security``; a link is mailed to it
(:mod:`gbconnect.mail`), signed (:mod:`itsdangerous`) with the account, the new
address and the current address, valid for :data:`LIFETIME` seconds. Opening it while
signed in as that account sets the address, once: a link made before the address
changed again no longer matches. The old address, when there is one, is told of the
change.
"""

from __future__ import annotations

import re

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response
from fastapi.templating import Jinja2Templates
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer
from sqlalchemy.orm import Session, sessionmaker
from starlette.concurrency import run_in_threadpool

from gbconnect import mail
from gbconnect.config import Settings
from gbconnect.customer.models import RetailCustomer
from gbconnect.i18n import gettext as _
from gbconnect.portal.pages import audit_customer, error_page, expired_form, form_fields
from gbconnect.web.security import csrf_ok, current_customer

LIFETIME = 24 * 3600
SALT = "gbconnect.email-change"
#: A plain address: one @, a dot in the domain, no spaces or angle brackets.
ADDRESS = re.compile(r"^[^@\s<>\"]{1,64}@[^@\s<>\"]{1,255}\.[A-Za-z]{2,63}$")


def _serializer(settings: Settings) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(settings.secret_key, salt=SALT)


def change_token(settings: Settings, customer: RetailCustomer, new: str) -> str:
    return _serializer(settings).dumps({"c": customer.id, "to": new, "was": customer.email or ""})


def build_router(
    settings: Settings, sessions: sessionmaker[Session], templates: Jinja2Templates
) -> APIRouter:
    router = APIRouter(include_in_schema=False)

    def message(request: Request, text: str, status: int) -> Response:
        return error_page(templates, request, settings, text, status)

    @router.post("/account/security/email")
    async def ask(request: Request) -> Response:
        form = await form_fields(request)
        if not csrf_ok(request, form.get("csrf")):
            return expired_form(templates, request, settings)
        new = str(form.get("email", "")).strip()

        def run() -> Response:
            with sessions() as session:
                customer = current_customer(request, session)
                if customer is None:
                    return RedirectResponse("/login", status_code=303)
                if not ADDRESS.match(new):
                    return message(
                        request, _("That is not an email address (name@example.com)."), 400
                    )
                if new.lower() == (customer.email or "").lower():
                    return message(request, _("That is already your email address."), 400)
                link = settings.site_url(
                    "/account/security/email/confirm?token=" + change_token(settings, customer, new)
                )
                mail.send(
                    settings,
                    new,
                    _("Confirm your new %(utility)s email address", utility=settings.utility_name),
                    _(
                        "Hello %(name)s,\n\n"
                        "To use this address for your %(utility)s account, open "
                        "this link within a day, signed in:\n\n%(link)s\n\n"
                        "If you did not ask for this, ignore this message.\n",
                        name=customer.name or customer.username,
                        utility=settings.utility_name,
                        link=link,
                    ),
                )
                return RedirectResponse("/account/security?done=email-sent", status_code=303)

        return await run_in_threadpool(run)

    @router.get("/account/security/email/confirm")
    def confirm(request: Request) -> Response:
        token = request.query_params.get("token", "")[:2000]
        with sessions() as session:
            customer = current_customer(request, session)
            if customer is None:
                target = "/account/security/email/confirm?token=" + token
                return RedirectResponse(
                    "/login?next="
                    + target.replace("/", "%2F").replace("?", "%3F").replace("=", "%3D"),
                    status_code=303,
                )
            try:
                data = _serializer(settings).loads(token, max_age=LIFETIME)
            except SignatureExpired:
                return message(request, _("This link has expired. Ask for a new one."), 400)
            except BadSignature:
                return message(request, _("This link is not valid."), 400)
            if not isinstance(data, dict) or data.get("c") != customer.id:
                return message(request, _("This link is for another account."), 400)
            if data.get("was") != (customer.email or ""):
                return message(request, _("This link was already used."), 400)
            old = customer.email
            customer.email = str(data["to"])[:256]
            audit_customer(session, request, settings, customer.id, "account.email_changed")
            session.commit()
            if old:
                mail.send(
                    settings,
                    old,
                    _("Your %(utility)s email address changed", utility=settings.utility_name),
                    _(
                        "The email address of your %(utility)s account is now %(email)s. "
                        "If you did not do this, contact %(utility)s at once.\n",
                        utility=settings.utility_name,
                        email=customer.email,
                    ),
                )
        return RedirectResponse("/account/security?done=email-changed", status_code=303)

    return router


__all__ = ["ADDRESS", "LIFETIME", "build_router", "change_token"]
