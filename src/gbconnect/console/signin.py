"""Staff sign-in and sign-out at ``/console/login``: the password, then the optional
second step (a TOTP code, RFC 6238, or a recovery code; :mod:`gbconnect.accounts.totp`)
as the customer's ``/login/code`` does it. Throttled like the customer's sign-in
(:class:`gbconnect.web.security.LoginThrottle`); every try, right or wrong, goes to
the audit log (``sign_in.ok`` / ``sign_in.failed``, actor kind staff)."""

from __future__ import annotations

import asyncio
import time
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from gbconnect.accounts import totp
from gbconnect.audit import Actor, record
from gbconnect.audit.record import STAFF
from gbconnect.console.models import StaffUser
from gbconnect.console.pages import EXPIRED, Console, sign_in, sign_out
from gbconnect.console.staff import authenticate_staff, find_staff, normal_email
from gbconnect.portal.pages import form_fields
from gbconnect.ratelimit.store import store_for
from gbconnect.web.security import LoginThrottle, client_address, csrf_ok, safe_next

PENDING = "staff_pending"
#: Codes tried for one sign-in before starting again with the password.
CODE_ATTEMPTS = 5
#: Seconds a password step waits for its code.
CODE_WINDOW = 300


def _safe(target: str | None) -> str:
    target = safe_next(target, "/console")
    return target if target.startswith("/console") else "/console"


def install(console: Console) -> None:
    settings, sessions = console.settings, console.sessions
    router = console.router
    # Counted where every process of the database counts (gbconnect.ratelimit).
    throttle = LoginThrottle(
        settings.login_attempts, settings.login_window, store=store_for(sessions.kw["bind"])
    )

    def address(request: Request) -> str:
        return client_address(request, settings.trusted_networks)

    def audit(
        session: Session, request: Request, ok: bool, email: str, staff: StaffUser | None, why: str
    ) -> None:
        record(
            session,
            "sign_in.ok" if ok else "sign_in.failed",
            Actor(STAFF, email[:256] or None, address(request)),
            ("staff", staff.id) if staff is not None else None,
            {"console": True, **({} if ok else {"reason": why})},
        )

    def login_page(request: Request, status: int = 200, **context: Any) -> Response:
        context.setdefault("email", "")
        context["next"] = _safe(context.get("next") or request.query_params.get("next"))
        return console.page(request, "login.html", status, **context)

    @router.get("/login", response_class=HTMLResponse)
    def login_form(request: Request) -> Response:
        return login_page(request)

    @router.post("/login")
    async def login(request: Request) -> Response:
        form = await form_fields(request)
        next_url = _safe(form.get("next"))
        email = normal_email(form.get("email", ""))[:256]
        if not csrf_ok(request, form.get("csrf")):
            return login_page(request, 403, error=EXPIRED, email=email, next=next_url)
        where = address(request)
        if await run_in_threadpool(throttle.blocked, email, where):
            return login_page(
                request,
                429,
                error="Too many failed attempts. Wait a few minutes and try again.",
                email=email,
                next=next_url,
            )
        wait = await run_in_threadpool(throttle.delay, email, where)
        if wait:
            await asyncio.sleep(wait)

        def check() -> tuple[int | None, bool]:
            with sessions() as session:
                staff = authenticate_staff(session, email, form.get("password", ""))
                if staff is None:
                    known = find_staff(session, email)
                    why = "disabled" if known and known.disabled_at else "wrong password"
                    audit(session, request, False, email, known, why)
                    session.commit()
                    return None, False
                second = bool(staff.totp_secret)
                if not second:
                    audit(session, request, True, email, staff, "")
                session.commit()
                return staff.id, second

        staff_id, second = await run_in_threadpool(check)
        if staff_id is None:
            await run_in_threadpool(throttle.failed, email, where)
            return login_page(
                request,
                401,
                error="That email and password do not match an active staff account.",
                email=email,
                next=next_url,
            )
        await run_in_threadpool(throttle.succeeded, email, where)
        if second:
            sign_out(request)
            request.session[PENDING] = {"s": staff_id, "next": next_url, "at": time.time(), "n": 0}
            return RedirectResponse("/console/login/code", status_code=303)
        with sessions() as session:
            staff = session.get(StaffUser, staff_id)
            assert staff is not None
            sign_in(request, staff)
        return RedirectResponse(next_url, status_code=303)

    def pending(request: Request) -> dict[str, Any] | None:
        p = request.session.get(PENDING)
        if not isinstance(p, dict) or time.time() - float(p.get("at", 0)) > CODE_WINDOW:
            return None
        return p

    @router.get("/login/code", response_class=HTMLResponse)
    def code_form(request: Request) -> Response:
        if pending(request) is None:
            return RedirectResponse("/console/login", status_code=303)
        return console.page(request, "login_code.html")

    @router.post("/login/code")
    async def code_check(request: Request) -> Response:
        form = await form_fields(request)
        if not csrf_ok(request, form.get("csrf")):
            return console.error(request, EXPIRED, 403)
        p = pending(request)
        if p is None:
            return RedirectResponse("/console/login", status_code=303)

        def run() -> StaffUser | None:
            with sessions() as session:
                staff = session.get(StaffUser, p["s"])
                if staff is None or staff.disabled_at is not None:
                    return None
                ok, left = totp.check(staff.totp_secret, staff.totp_recovery, form.get("code", ""))
                if ok and left != staff.totp_recovery:
                    staff.totp_recovery = left
                audit(session, request, ok, staff.email, staff, "wrong code")
                session.commit()
                return staff if ok else None

        staff = await run_in_threadpool(run)
        if staff is None:
            p["n"] = int(p.get("n", 0)) + 1
            if p["n"] >= CODE_ATTEMPTS:
                request.session.pop(PENDING, None)
                return RedirectResponse("/console/login?code=expired", status_code=303)
            request.session[PENDING] = p
            return console.page(
                request,
                "login_code.html",
                401,
                error="That code is not right. Try the newest code in your app.",
            )
        sign_in(request, staff)
        return RedirectResponse(_safe(p.get("next")), status_code=303)

    @router.post("/logout")
    async def logout(request: Request) -> Response:
        form = await form_fields(request)
        if csrf_ok(request, form.get("csrf")):
            sign_out(request)
        return RedirectResponse("/console/login", status_code=303)


__all__ = ["CODE_ATTEMPTS", "install"]
