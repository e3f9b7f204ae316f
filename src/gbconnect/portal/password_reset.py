"""Password reset by an emailed link (the customer portal's account security).

``/password/forgot`` takes a username or an email address and always answers the
same sentence, whether an account matched or not (no account enumeration). A match
with an email address on file is sent a link holding a signed token
(:mod:`itsdangerous`, under ``GBCONNECT_SECRET_KEY``) that names the customer and a
fingerprint of their current password hash: it works for :data:`LIFETIME` seconds and
once, since setting the password changes the fingerprint. ``/password/reset`` checks
the token, then takes the new password twice (argon2id, at least
``customer.services.MIN_PASSWORD`` characters).
"""

from __future__ import annotations

import hashlib
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer
from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session, sessionmaker
from starlette.concurrency import run_in_threadpool

from gbconnect import mail
from gbconnect.config import Settings
from gbconnect.customer.models import RetailCustomer
from gbconnect.customer.services import CustomerError, hash_password
from gbconnect.i18n import N_
from gbconnect.i18n import gettext as _
from gbconnect.portal.pages import audit_customer, expired_form, form_fields
from gbconnect.web.security import csrf_ok, csrf_token

#: Seconds a reset link works.
LIFETIME = 3600
SALT = "gbconnect.password-reset"
SENT = N_(
    "If an account matches, we sent a link to its email address. The link works for one hour, once."
)


class ResetLinkError(ValueError):
    """A reset link that cannot be used, with the sentence to show."""


def _fingerprint(customer: RetailCustomer) -> str:
    return hashlib.sha256((customer.password_hash or "").encode()).hexdigest()[:16]


def serializer(settings: Settings) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(settings.secret_key, salt=SALT)


def reset_token(settings: Settings, customer: RetailCustomer) -> str:
    return serializer(settings).dumps({"c": customer.id, "f": _fingerprint(customer)})


def customer_of(session: Session, settings: Settings, token: str) -> RetailCustomer:
    """The customer a valid, unused, unexpired token names (else ResetLinkError)."""
    try:
        data = serializer(settings).loads(token, max_age=LIFETIME)
    except SignatureExpired:
        raise ResetLinkError(_("This link has expired. Ask for a new one.")) from None
    except BadSignature:
        raise ResetLinkError(_("This link is not valid. Ask for a new one.")) from None
    if not isinstance(data, dict) or not isinstance(data.get("c"), int):
        raise ResetLinkError(_("This link is not valid. Ask for a new one."))
    customer = session.get(RetailCustomer, data["c"])
    if customer is None or data.get("f") != _fingerprint(customer):
        raise ResetLinkError(_("This link was already used. Ask for a new one."))
    return customer


def find_account(session: Session, text: str) -> RetailCustomer | None:
    """The account named by a username or an email address (case-insensitive)."""
    text = text.strip()
    if not text or len(text) > 256:
        return None
    return session.scalars(
        select(RetailCustomer)
        .where(
            or_(
                RetailCustomer.username == text,
                func.lower(RetailCustomer.email) == text.lower(),
            )
        )
        .order_by(RetailCustomer.id)
        .limit(1)
    ).first()


def build_router(
    settings: Settings, sessions: sessionmaker[Session], templates: Jinja2Templates
) -> APIRouter:
    router = APIRouter(include_in_schema=False)

    def page(request: Request, name: str, status: int = 200, **context: Any) -> Response:
        context.setdefault("error", None)
        context.setdefault("done", None)
        context.update(settings=settings, csrf=csrf_token(request))
        response = templates.TemplateResponse(request, name, context, status_code=status)
        response.headers["Cache-Control"] = "no-store"
        return response

    @router.get("/password/forgot", response_class=HTMLResponse)
    def forgot_form(request: Request) -> Response:
        return page(request, "password_forgot.html", typed="")

    @router.post("/password/forgot")
    async def forgot(request: Request) -> Response:
        form = await form_fields(request)
        if not csrf_ok(request, form.get("csrf")):
            return expired_form(templates, request, settings)
        typed = form.get("account", "")[:256]
        if not typed.strip():
            return page(
                request,
                "password_forgot.html",
                400,
                typed=typed,
                error=_("Enter your username or the email address of your account."),
            )

        def run() -> None:
            with sessions() as session:
                customer = find_account(session, typed)
                if customer is None or not customer.email:
                    return
                link = settings.site_url("/password/reset?token=" + reset_token(settings, customer))
                mail.send(
                    settings,
                    customer.email,
                    _("Reset your %(utility)s password", utility=settings.utility_name),
                    _(
                        "Hello %(name)s,\n\n"
                        "To choose a new password for your %(utility)s account, "
                        "open this link within one hour:\n\n%(link)s\n\n"
                        "If you did not ask for this, ignore this message: your password "
                        "stays as it is.\n",
                        name=customer.name or customer.username,
                        utility=settings.utility_name,
                        link=link,
                    ),
                )

        await run_in_threadpool(run)
        return page(request, "password_forgot.html", typed="", done=_(SENT))

    @router.get("/password/reset", response_class=HTMLResponse)
    def reset_form(request: Request) -> Response:
        token = request.query_params.get("token", "")[:1000]

        def check() -> str | None:
            with sessions() as session:
                try:
                    customer_of(session, settings, token)
                except ResetLinkError as exc:
                    return str(exc)
                return None

        problem = check()
        if problem:
            return page(request, "password_reset.html", 400, token="", error=problem)
        return page(request, "password_reset.html", token=token)

    @router.post("/password/reset")
    async def reset(request: Request) -> Response:
        form = await form_fields(request)
        if not csrf_ok(request, form.get("csrf")):
            return expired_form(templates, request, settings)
        token = form.get("token", "")[:1000]
        password, again = form.get("password", ""), form.get("confirm", "")

        def run() -> tuple[str, bool] | None:
            """None when saved, else the problem and whether the link is still good
            (then the form is shown again with it)."""
            with sessions() as session:
                try:
                    customer = customer_of(session, settings, token)
                except ResetLinkError as exc:
                    return str(exc), False
                if password != again:
                    return _("The two passwords are not the same."), True
                try:
                    customer.password_hash = hash_password(password)
                except CustomerError as exc:
                    return f"{str(exc)[:1].upper()}{str(exc)[1:]}.", True
                customer.session_epoch += 1  # every session of the old password ends
                audit_customer(session, request, settings, customer.id, "account.password_reset")
                session.commit()
                return None

        problem = await run_in_threadpool(run)
        if problem:
            error, link_ok = problem
            keep = token if link_ok else ""
            return page(request, "password_reset.html", 400, token=keep, error=error)
        return RedirectResponse("/login?reset=1", status_code=303)

    return router


__all__ = ["LIFETIME", "ResetLinkError", "build_router", "customer_of", "reset_token"]
