"""Account security (the customer portal): recent sign-ins, sign out everywhere, and
an optional second factor (TOTP, RFC 6238, with :mod:`pyotp`) with recovery codes.

- Every sign-in to an account, and every failed try on it, is kept in ``sign_in``
  (:func:`record_sign_in`); ``/account/security`` lists the latest.
- "Sign out everywhere" moves the account's session epoch on: every other session
  ends at its next request (:func:`gbconnect.web.security.current_customer`).
- The second factor: the customer adds the key to an authenticator app (the
  ``otpauth://`` URI, or the key typed in), confirms with a code, and is shown ten
  recovery codes once (stored as SHA-256 hashes; each works once). Signing in then
  asks for a code after the password (:func:`start_second_factor`, ``/login/code``),
  at most :data:`CODE_ATTEMPTS` tries before starting over. Turning it off needs a
  code.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import datetime
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker
from starlette.concurrency import run_in_threadpool

from gbconnect.accounts import totp
from gbconnect.audit import Actor, record
from gbconnect.audit.record import CUSTOMER
from gbconnect.config import Settings
from gbconnect.customer.models import RetailCustomer, SignIn
from gbconnect.i18n import gettext as _
from gbconnect.portal.pages import audit_customer, expired_form, form_fields
from gbconnect.web.security import (
    client_address,
    csrf_ok,
    csrf_token,
    current_customer,
    log_in,
    safe_next,
)

#: Codes tried for one sign-in before the customer starts again with the password.
CODE_ATTEMPTS = 5
#: Seconds a password step waits for its code.
CODE_WINDOW = 300
PENDING = "second_factor"
Handler = Callable[[Request, Session, RetailCustomer, dict[str, str]], Response]
ENROLLING = "totp_enrolling"


def record_sign_in(
    session: Session, settings: Settings, request: Request, customer_id: int, outcome: str
) -> None:
    """Keep one sign-in or failed try of an account, for its recent sign-ins and in the
    audit log (the caller commits)."""
    address = client_address(request, settings.trusted_networks)
    session.add(
        SignIn(
            retail_customer_id=customer_id,
            at=time.time(),
            outcome=outcome,
            address=str(address)[:64] if address else None,
            user_agent=(request.headers.get("user-agent") or "")[:256] or None,
        )
    )
    record(
        session,
        SIGN_IN_ACTIONS.get(outcome, "sign_in.failed"),
        Actor(CUSTOMER, f"customer {customer_id}", address),
        ("customer", customer_id),
        {"outcome": outcome},
    )


#: The audit log's name of each sign-in outcome (gbconnect.audit).
SIGN_IN_ACTIONS = {
    "ok": "sign_in.ok",
    "password ok": "sign_in.password_ok",
    "wrong password": "sign_in.failed",
    "wrong code": "sign_in.failed",
}


def check_code(customer: RetailCustomer, code: str) -> bool:
    """A current TOTP code (one step of clock drift allowed) or an unused recovery
    code, which is used up (the caller commits)."""
    ok, left = totp.check(customer.totp_secret, customer.totp_recovery, code)
    if ok and left != customer.totp_recovery:
        customer.totp_recovery = left
    return ok


def start_second_factor(request: Request, customer: RetailCustomer, next_url: str) -> Response:
    """After the right password of an account with a second factor: not signed in
    yet; the code is asked for at ``/login/code``."""
    request.session.clear()
    request.session[PENDING] = {"c": customer.id, "next": next_url, "at": time.time(), "n": 0}
    return RedirectResponse("/login/code", status_code=303)


def build_router(
    settings: Settings, sessions: sessionmaker[Session], templates: Jinja2Templates
) -> APIRouter:
    router = APIRouter(include_in_schema=False)

    def page(request: Request, name: str, status: int = 200, **context: Any) -> Response:
        context.setdefault("error", None)
        context.update(settings=settings, csrf=csrf_token(request))
        response = templates.TemplateResponse(request, name, context, status_code=status)
        response.headers["Cache-Control"] = "no-store"
        return response

    # -- the second step of signing in --

    def pending(request: Request) -> dict[str, Any] | None:
        p = request.session.get(PENDING)
        if not isinstance(p, dict) or time.time() - float(p.get("at", 0)) > CODE_WINDOW:
            return None
        return p

    @router.get("/login/code", response_class=HTMLResponse)
    def code_form(request: Request) -> Response:
        if pending(request) is None:
            return RedirectResponse("/login", status_code=303)
        return page(request, "login_code.html")

    @router.post("/login/code")
    async def code_check(request: Request) -> Response:
        form = await form_fields(request)
        if not csrf_ok(request, form.get("csrf")):
            return expired_form(templates, request, settings)
        p = pending(request)
        if p is None:
            return RedirectResponse("/login", status_code=303)

        def run() -> RetailCustomer | None:
            with sessions() as session:
                customer = session.get(RetailCustomer, p["c"])
                if customer is None:
                    return None
                ok = check_code(customer, form.get("code", ""))
                record_sign_in(
                    session, settings, request, customer.id, "ok" if ok else "wrong code"
                )
                session.commit()
                return customer if ok else None

        customer = await run_in_threadpool(run)
        if customer is None:
            p["n"] = int(p.get("n", 0)) + 1
            if p["n"] >= CODE_ATTEMPTS:
                request.session.pop(PENDING, None)
                return RedirectResponse("/login?code=expired", status_code=303)
            request.session[PENDING] = p
            return page(
                request,
                "login_code.html",
                401,
                error=_("That code is not right. Try the newest code in your app."),
            )
        log_in(request, customer)
        return RedirectResponse(safe_next(p.get("next"), "/account"), status_code=303)

    # -- the account's security page --

    def security_context(session: Session, customer: RetailCustomer) -> dict[str, Any]:
        rows = session.scalars(
            select(SignIn)
            .where(SignIn.retail_customer_id == customer.id)
            .order_by(SignIn.at.desc(), SignIn.id.desc())
            .limit(10)
        ).all()
        recent = [
            {
                "when": datetime.fromtimestamp(r.at, settings.zone),
                "outcome": r.outcome,
                "address": r.address,
            }
            for r in rows
        ]
        return {"customer": customer, "recent": recent, "totp_on": bool(customer.totp_secret)}

    @router.get("/account/security", response_class=HTMLResponse)
    def security(request: Request) -> Response:
        with sessions() as session:
            customer = current_customer(request, session)
            if customer is None:
                return RedirectResponse("/login?next=%2Faccount%2Fsecurity", status_code=303)
            done = request.query_params.get("done", "")[:40]
            return page(
                request, "account_security.html", done=done, **security_context(session, customer)
            )

    def action(name: str) -> Callable[[Handler], Handler]:
        """A POST ``/account/security/{name}``: CSRF checked, signed in, in a session."""

        def register(fn: Handler) -> Handler:
            @router.post(f"/account/security/{name}")
            async def endpoint(request: Request) -> Response:
                form = await form_fields(request)
                if not csrf_ok(request, form.get("csrf")):
                    return expired_form(templates, request, settings)

                def run() -> Response:
                    with sessions() as session:
                        customer = current_customer(request, session)
                        if customer is None:
                            return RedirectResponse("/login", status_code=303)
                        result: Response = fn(request, session, customer, form)
                        return result

                return await run_in_threadpool(run)

            return fn

        return register

    @action("sign-out-everywhere")
    def sign_out_everywhere(
        request: Request, session: Session, customer: RetailCustomer, form: dict[str, str]
    ) -> Response:
        customer.session_epoch += 1
        audit_customer(session, request, settings, customer.id, "account.signed_out_everywhere")
        session.commit()
        log_in(request, customer)  # this session stays, in the new epoch
        return RedirectResponse("/account/security?done=signed-out", status_code=303)

    @action("totp/start")
    def totp_start(
        request: Request, session: Session, customer: RetailCustomer, form: dict[str, str]
    ) -> Response:
        if customer.totp_secret:
            return RedirectResponse("/account/security", status_code=303)
        key = totp.new_key()
        request.session[ENROLLING] = key
        return enrolling(request, session, customer, key)

    def enrolling(
        request: Request,
        session: Session,
        customer: RetailCustomer,
        key: str,
        status: int = 200,
        error: str | None = None,
    ) -> Response:
        uri = totp.provisioning_uri(key, customer.username, settings.utility_name)
        qr = totp.qr_code(uri)
        return page(
            request,
            "account_security.html",
            status,
            enrolling=True,
            key=totp.grouped(key),
            uri=uri,
            qr=qr.data_uri,
            qr_size=qr.size,
            error=error,
            **security_context(session, customer),
        )

    @action("totp/confirm")
    def totp_confirm(
        request: Request, session: Session, customer: RetailCustomer, form: dict[str, str]
    ) -> Response:
        key = request.session.get(ENROLLING)
        if not isinstance(key, str) or customer.totp_secret:
            return RedirectResponse("/account/security", status_code=303)
        if not totp.fresh_code(key, form.get("code", "")):
            return enrolling(
                request,
                session,
                customer,
                key,
                400,
                _("That code is not right. Type the 6 digits your app shows now."),
            )
        codes, digests = totp.recovery_codes()
        customer.totp_secret = key
        customer.totp_recovery = digests
        audit_customer(session, request, settings, customer.id, "account.second_factor_on")
        session.commit()
        request.session.pop(ENROLLING, None)
        return page(
            request, "account_security.html", recovery=codes, **security_context(session, customer)
        )

    @action("totp/off")
    def totp_off(
        request: Request, session: Session, customer: RetailCustomer, form: dict[str, str]
    ) -> Response:
        if not customer.totp_secret:
            return RedirectResponse("/account/security", status_code=303)
        if not check_code(customer, form.get("code", "")):
            session.commit()  # a recovery code tried is not given back
            return page(
                request,
                "account_security.html",
                400,
                error=_("That code is not right; the second step stays on."),
                **security_context(session, customer),
            )
        customer.totp_secret = None
        customer.totp_recovery = None
        audit_customer(session, request, settings, customer.id, "account.second_factor_off")
        session.commit()
        return RedirectResponse("/account/security?done=totp-off", status_code=303)

    return router


__all__ = [
    "CODE_ATTEMPTS",
    "build_router",
    "check_code",
    "record_sign_in",
    "start_second_factor",
]
