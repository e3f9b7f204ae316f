"""The third-party portal's doors: sign-up, the email confirmation, sign-in with the
optional second step (TOTP, RFC 6238), sign-out and the account's security page.

- ``/thirdparty/signup``: the company (legal name, PG&E's kind, technical and business
  contacts) and its first user; an email with a confirmation link follows
  (:mod:`gbconnect.thirdparty_portal.accounts`: signed, 24 hours, once).
- ``/thirdparty/login``: password, throttled like the customer's
  (:class:`gbconnect.web.security.LoginThrottle`); a user with a second factor is
  asked for a code at ``/thirdparty/login/code`` (at most :data:`CODE_ATTEMPTS`
  tries). An unconfirmed user with the right password is sent a new link.
- ``/thirdparty/security``: turn the second factor on (key, QR code, a code to
  confirm, ten recovery codes shown once) or off (with a code).

Every sign-in and failed try is audited (``sign_in.ok`` / ``sign_in.failed``, actor
kind third party), as are sign-up, confirmation and second-factor changes.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy.orm import Session, sessionmaker
from starlette.concurrency import run_in_threadpool

from gbconnect import mail
from gbconnect.accounts import totp
from gbconnect.audit import record
from gbconnect.config import Settings
from gbconnect.portal.pages import form_fields
from gbconnect.ratelimit.store import store_for
from gbconnect.thirdparty_portal import accounts
from gbconnect.thirdparty_portal.models import KINDS, Company, CompanyUser
from gbconnect.thirdparty_portal.pages import (
    PREFIX,
    actor,
    current_user,
    error,
    expired,
    log_in,
    page,
)
from gbconnect.web.security import LoginThrottle, client_address, csrf_ok

#: Codes tried for one sign-in before the user starts again with the password.
CODE_ATTEMPTS = 5
#: Seconds a password step waits for its code.
CODE_WINDOW = 300
PENDING = "tp_second_factor"
ENROLLING = "tp_totp_enrolling"
SIGNUP_FIELDS = (
    "legal_name",
    "kind",
    "technical_email",
    "technical_phone",
    "business_email",
    "business_phone",
    "name",
    "email",
)


def send_confirmation(settings: Settings, user: CompanyUser, company: Company) -> None:
    """Mail ``user`` the link that confirms their address."""
    link = settings.site_url(
        f"{PREFIX}/confirm?token=" + accounts.confirmation_token(settings, user)
    )
    mail.send(
        settings,
        user.email,
        f"Confirm your {settings.utility_name} third-party account",
        f"Hello {user.name},\n\n"
        f"{company.legal_name} signed up for {settings.utility_name}'s Green Button "
        "Connect My Data third-party portal with this address. To confirm it, open this "
        f"link within 24 hours:\n\n{link}\n\n"
        "If you did not sign up, ignore this message.\n",
    )


def send_already_registered(settings: Settings, user: CompanyUser) -> None:
    """Tell the owner of an address that someone signed up with it again."""
    mail.send(
        settings,
        user.email,
        f"Your {settings.utility_name} third-party account",
        f"Hello {user.name},\n\n"
        f"Someone asked to sign up for {settings.utility_name}'s Green Button Connect My "
        "Data third-party portal with this address, which already has an account. "
        f"Sign in at {settings.site_url(PREFIX + '/login')}.\n\n"
        "If it was not you, nothing was changed and you can ignore this message.\n",
    )


def build_router(settings: Settings, sessions: sessionmaker[Session]) -> APIRouter:
    router = APIRouter(include_in_schema=False)
    # Counted where every process of the database counts (gbconnect.ratelimit).
    throttle = LoginThrottle(
        settings.login_attempts, settings.login_window, store=store_for(sessions.kw["bind"])
    )

    # -- sign-up and confirmation --

    def signup_page(request: Request, status: int = 200, **context: Any) -> Response:
        context.setdefault("values", {})
        context.setdefault("field", None)
        return page(request, settings, "signup.html", status, kinds=KINDS, **context)

    @router.get(f"{PREFIX}/signup", response_class=HTMLResponse)
    def signup_form(request: Request) -> Response:
        return signup_page(request)

    @router.post(f"{PREFIX}/signup")
    async def signup(request: Request) -> Response:
        form = await form_fields(request)
        if not csrf_ok(request, form.get("csrf")):
            return expired(request, settings)
        values = {k: form.get(k, "")[:400] for k in SIGNUP_FIELDS}
        data = accounts.SignUp(
            **values,
            password=form.get("password", "")[:1024],
            confirm=form.get("confirm", "")[:1024],
        )

        def run() -> str | tuple[str, str | None]:
            with sessions() as session:
                try:
                    user = accounts.sign_up(session, data)
                except accounts.EmailTaken as taken:
                    # The same answer as a new sign-up: the owner of the address is
                    # told instead, and nothing is stored.
                    send_already_registered(settings, taken.user)
                    return taken.user.email
                except accounts.PortalInputError as exc:
                    return str(exc), exc.field
                company = session.get(Company, user.company_id)
                assert company is not None
                record(
                    session,
                    "company.signed_up",
                    actor(request, settings, user, company),
                    ("company", company.id),
                    {"kind": company.kind, "user": user.email},
                )
                session.commit()
                send_confirmation(settings, user, company)
                return user.email

        result = await run_in_threadpool(run)
        if isinstance(result, tuple):
            message, field = result
            return signup_page(request, 400, error=message, field=field, values=values)
        return page(request, settings, "signup_done.html", email=result)

    @router.get(f"{PREFIX}/confirm", response_class=HTMLResponse)
    def confirm(request: Request) -> Response:
        token = request.query_params.get("token", "")[:2000]
        with sessions() as session:
            try:
                user = accounts.confirm(session, settings, token)
            except accounts.LinkError as exc:
                return error(request, settings, str(exc), 400)
            company = session.get(Company, user.company_id)
            record(
                session,
                "company_user.confirmed",
                actor(request, settings, user, company),
                ("company_user", user.id),
            )
            session.commit()
        return RedirectResponse(f"{PREFIX}/login?confirmed=1", status_code=303)

    # -- sign-in --

    def login_page(request: Request, status: int = 200, **context: Any) -> Response:
        context.setdefault("email", "")
        notice = None
        if request.query_params.get("confirmed"):
            notice = "Your email address is confirmed. Sign in."
        elif request.query_params.get("code") == "expired":
            notice = "Too many wrong codes. Sign in again."
        context.setdefault("notice", notice)
        return page(request, settings, "login.html", status, **context)

    @router.get(f"{PREFIX}/login", response_class=HTMLResponse)
    def login_form(request: Request) -> Response:
        return login_page(request)

    @router.post(f"{PREFIX}/login")
    async def login(request: Request) -> Response:
        form = await form_fields(request)
        email = form.get("email", "").strip()[:254]
        if not csrf_ok(request, form.get("csrf")):
            return login_page(
                request, 403, error="The form expired; please try again.", email=email
            )
        address = client_address(request, settings.trusted_networks)
        if await run_in_threadpool(throttle.blocked, email, address):
            return login_page(
                request,
                429,
                error="Too many failed attempts. Wait a few minutes and try again.",
                email=email,
            )
        wait = await run_in_threadpool(throttle.delay, email, address)
        if wait:
            await asyncio.sleep(wait)

        def check() -> tuple[str, int | None]:
            with sessions() as session:
                user = accounts.authenticate(session, email, form.get("password", ""))
                if user is None:
                    known = accounts.find_user(session, email)
                    company = session.get(Company, known.company_id) if known else None
                    record(
                        session,
                        "sign_in.failed",
                        actor(request, settings, known, company),
                        ("company_user", known.id) if known else None,
                        {"email": email, "reason": "wrong password"},
                    )
                    session.commit()
                    return "failed", None
                company = session.get(Company, user.company_id)
                assert company is not None
                if user.confirmed_at is None:
                    send_confirmation(settings, user, company)
                    return "unconfirmed", None
                if user.totp_secret:
                    return "code", user.id
                record(
                    session,
                    "sign_in.ok",
                    actor(request, settings, user, company),
                    ("company_user", user.id),
                    {"second_factor": False},
                )
                session.commit()
                return "ok", user.id

        outcome, user_id = await run_in_threadpool(check)
        if outcome == "failed":
            await run_in_threadpool(throttle.failed, email, address)
            return login_page(
                request, 401, error="That email address and password do not match.", email=email
            )
        await run_in_threadpool(throttle.succeeded, email, address)
        if outcome == "unconfirmed":
            return login_page(
                request,
                403,
                error="Confirm your email address first: we sent you a new link.",
                email=email,
            )
        if outcome == "code":
            request.session.clear()
            request.session[PENDING] = {"u": user_id, "at": time.time(), "n": 0}
            return RedirectResponse(f"{PREFIX}/login/code", status_code=303)
        with sessions() as session:
            user = session.get(CompanyUser, user_id)
            assert user is not None
            log_in(request, user)
        return RedirectResponse(f"{PREFIX}/applications", status_code=303)

    def pending(request: Request) -> dict[str, Any] | None:
        p = request.session.get(PENDING)
        if not isinstance(p, dict) or time.time() - float(p.get("at", 0)) > CODE_WINDOW:
            return None
        return p

    @router.get(f"{PREFIX}/login/code", response_class=HTMLResponse)
    def code_form(request: Request) -> Response:
        if pending(request) is None:
            return RedirectResponse(f"{PREFIX}/login", status_code=303)
        return page(request, settings, "login_code.html")

    @router.post(f"{PREFIX}/login/code")
    async def code_check(request: Request) -> Response:
        form = await form_fields(request)
        if not csrf_ok(request, form.get("csrf")):
            return expired(request, settings)
        p = pending(request)
        if p is None:
            return RedirectResponse(f"{PREFIX}/login", status_code=303)

        def run() -> CompanyUser | None:
            with sessions() as session:
                user = session.get(CompanyUser, p["u"])
                if user is None:
                    return None
                ok, left = totp.check(user.totp_secret, user.totp_recovery, form.get("code", ""))
                if ok and left != user.totp_recovery:
                    user.totp_recovery = left
                company = session.get(Company, user.company_id)
                record(
                    session,
                    "sign_in.ok" if ok else "sign_in.failed",
                    actor(request, settings, user, company),
                    ("company_user", user.id),
                    {"second_factor": True} if ok else {"reason": "wrong code"},
                )
                session.commit()
                return user if ok else None

        user = await run_in_threadpool(run)
        if user is None:
            p["n"] = int(p.get("n", 0)) + 1
            if p["n"] >= CODE_ATTEMPTS:
                request.session.pop(PENDING, None)
                return RedirectResponse(f"{PREFIX}/login?code=expired", status_code=303)
            request.session[PENDING] = p
            return page(
                request,
                settings,
                "login_code.html",
                401,
                error="That code is not right. Try the newest code in your app.",
            )
        log_in(request, user)
        return RedirectResponse(f"{PREFIX}/applications", status_code=303)

    @router.post(f"{PREFIX}/logout")
    async def logout(request: Request) -> Response:
        form = await form_fields(request)
        if csrf_ok(request, form.get("csrf")):

            def run() -> None:
                with sessions() as session:
                    user = current_user(request, session)
                    if user is not None:
                        company = session.get(Company, user.company_id)
                        record(
                            session,
                            "sign_out",
                            actor(request, settings, user, company),
                            ("company_user", user.id),
                        )
                        session.commit()

            await run_in_threadpool(run)
            request.session.clear()
        return RedirectResponse(f"{PREFIX}/login", status_code=303)

    # -- the second factor --

    def security_page(
        request: Request,
        session: Session,
        user: CompanyUser,
        status: int = 200,
        **context: Any,
    ) -> Response:
        company = session.get(Company, user.company_id)
        return page(
            request,
            settings,
            "security.html",
            status,
            user=user,
            company=company,
            totp_on=bool(user.totp_secret),
            **context,
        )

    @router.get(f"{PREFIX}/security", response_class=HTMLResponse)
    def security(request: Request) -> Response:
        with sessions() as session:
            user = current_user(request, session)
            if user is None:
                return RedirectResponse(f"{PREFIX}/login", status_code=303)
            return security_page(request, session, user)

    @router.post(f"{PREFIX}/security/{{step}}")
    async def security_step(request: Request, step: str) -> Response:
        form = await form_fields(request)
        if not csrf_ok(request, form.get("csrf")):
            return expired(request, settings)
        if step not in ("totp-start", "totp-confirm", "totp-off"):
            return error(request, settings, "There is no such page.", 404)

        def run() -> Response:
            with sessions() as session:
                user = current_user(request, session)
                if user is None:
                    return RedirectResponse(f"{PREFIX}/login", status_code=303)
                company = session.get(Company, user.company_id)
                who = actor(request, settings, user, company)
                if step == "totp-start":
                    if user.totp_secret:
                        return RedirectResponse(f"{PREFIX}/security", status_code=303)
                    new = totp.new_key()
                    request.session[ENROLLING] = new
                    return enrolling(request, session, user, new)
                if step == "totp-confirm":
                    key = request.session.get(ENROLLING)
                    if not isinstance(key, str) or user.totp_secret:
                        return RedirectResponse(f"{PREFIX}/security", status_code=303)
                    if not totp.fresh_code(key, form.get("code", "")):
                        return enrolling(
                            request,
                            session,
                            user,
                            key,
                            400,
                            "That code is not right. Type the 6 digits your app shows now.",
                        )
                    codes, digests = totp.recovery_codes()
                    user.totp_secret = key
                    user.totp_recovery = digests
                    record(session, "totp.enabled", who, ("company_user", user.id))
                    session.commit()
                    request.session.pop(ENROLLING, None)
                    return security_page(request, session, user, recovery=codes)
                # totp-off
                if not user.totp_secret:
                    return RedirectResponse(f"{PREFIX}/security", status_code=303)
                ok, _left = totp.check(user.totp_secret, user.totp_recovery, form.get("code", ""))
                if not ok:
                    return security_page(
                        request,
                        session,
                        user,
                        400,
                        error="That code is not right; the second step stays on.",
                    )
                user.totp_secret = None
                user.totp_recovery = None
                user.session_epoch += 1
                record(session, "totp.disabled", who, ("company_user", user.id))
                session.commit()
                log_in(request, user)
                return security_page(request, session, user, notice="The second step is off.")

        return await run_in_threadpool(run)

    def enrolling(
        request: Request,
        session: Session,
        user: CompanyUser,
        key: str,
        status: int = 200,
        message: str | None = None,
    ) -> Response:
        uri = totp.provisioning_uri(key, user.email, f"{settings.utility_name} third parties")
        qr = totp.qr_code(uri)
        return security_page(
            request,
            session,
            user,
            status,
            enrolling=True,
            key=totp.grouped(key),
            uri=uri,
            qr=qr.data_uri,
            qr_size=qr.size,
            error=message,
        )

    return router


__all__ = ["CODE_ATTEMPTS", "build_router", "send_confirmation"]
