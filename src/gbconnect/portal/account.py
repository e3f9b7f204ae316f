"""The signed-in customer's pages: home and "My authorizations" (REQ.21 FB_3
Authorization; STANDARD.md section 7, PG&E's Share My Data account pages).

=====================================================  ======================================
``GET /account``                                       home: name, services by agreement and
                                                       address, what is shared with whom, the
                                                       latest bill, links to everything
``GET /account/authorizations``                        active, expired and revoked grants
``GET /account/authorizations/{id}/revoke``            confirmation naming what stops
``POST /account/authorizations/{id}/revoke``           revoke at once
                                                       (:func:`gbconnect.oauth.revocation.
                                                       revoke_authorization`, by "customer")
``GET /account/authorizations/{id}/end``               the end-date form of an active grant
``POST /account/authorizations/{id}/end``              store it; the third party is notified
                                                       (:class:`~gbconnect.notify.events.
                                                       AuthorizationChanged`)
=====================================================  ======================================

A visitor not signed in is sent to ``/login`` and back. Every form carries the
session's CSRF token; a forged or expired one is a 403 page, as on the consent page.
An id that is not the customer's own grant (unknown, another customer's, or no number
the store can hold) is a 404 page: nothing is learnt of other customers.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any, TypeVar
from urllib.parse import quote

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates
from sqlalchemy.orm import Session, sessionmaker
from starlette.concurrency import run_in_threadpool

from gbconnect.config import Settings
from gbconnect.customer.models import RetailCustomer
from gbconnect.i18n import N_
from gbconnect.i18n import gettext as _
from gbconnect.oauth.revocation import revoke_authorization
from gbconnect.oauth.services import GrantError
from gbconnect.portal import grants, home
from gbconnect.portal.consent import parse_end
from gbconnect.portal.pages import customer_actor, error_page, expired_form, form_fields
from gbconnect.resource import now
from gbconnect.web import access  # noqa: F401  (registers the espiid path convertor)
from gbconnect.web.security import csrf_ok, csrf_token, current_customer

LIST = "/account/authorizations"
T = TypeVar("T")


def _sentence(error: Exception) -> str:
    text = str(error).strip().rstrip(".")
    return (text[:1].upper() + text[1:] + ".") if text else _("That could not be done.")


def build_router(
    settings: Settings, sessions: sessionmaker[Session], templates: Jinja2Templates
) -> APIRouter:
    router = APIRouter(include_in_schema=False)

    def to_login(path: str) -> Response:
        return RedirectResponse(f"/login?next={quote(path, safe='')}", status_code=303)

    def render(request: Request, template: str, status: int = 200, **context: Any) -> Response:
        context.update(settings=settings, csrf=csrf_token(request))
        return templates.TemplateResponse(request, template, context, status_code=status)

    def not_found(request: Request) -> Response:
        return error_page(templates, request, settings, _("There is no such authorization."), 404)

    def with_customer(
        request: Request, work: Callable[[Session, RetailCustomer], T]
    ) -> Callable[[], T | None]:
        """``work`` in a session of its own for the signed-in customer; None when no
        one is signed in."""

        def run() -> T | None:
            with sessions() as session:
                customer = current_customer(request, session)
                if customer is None:
                    return None
                return work(session, customer)

        return run

    @router.get("/account", response_class=HTMLResponse)
    def account(request: Request) -> Response:
        """Home: who the customer is, their services, what they share, their bill."""
        with sessions() as session:
            customer = current_customer(request, session)
            if customer is None:
                return to_login("/account")
            at = now()
            active = [
                grants.grant_view(session, settings, a, at)
                for a in grants.customer_grants(session, customer.id)
                if grants.state_of(a, at) == grants.ACTIVE
            ]
            return render(
                request,
                "account.html",
                name=home.display_name(session, customer),
                services=home.services(session, customer.id),
                shared=active,
                bill=home.latest_bill(session, customer.id, settings.zone),
            )

    @router.get(LIST, response_class=HTMLResponse)
    def authorizations(request: Request) -> Response:
        """My authorizations: active, expired and revoked grants."""
        with sessions() as session:
            customer = current_customer(request, session)
            if customer is None:
                return to_login(LIST)
            groups = grants.grouped(session, settings, customer.id, now())
            return render(
                request,
                "authorizations.html",
                groups=groups,
                notice=_notice(request.query_params.get("done")),
            )

    @router.get(LIST + "/{auth_id:espiid}/revoke", response_class=HTMLResponse)
    def confirm_revoke(request: Request, auth_id: int) -> Response:
        """The confirmation step: what stops, and the button that stops it."""
        with sessions() as session:
            customer = current_customer(request, session)
            if customer is None:
                return to_login(f"{LIST}/{auth_id}/revoke")
            auth = grants.customer_grant(session, customer.id, auth_id)
            if auth is None:
                return not_found(request)
            at = now()
            if grants.state_of(auth, at) != grants.ACTIVE:
                return RedirectResponse(LIST, status_code=303)
            return render(
                request, "revoke.html", grant=grants.grant_view(session, settings, auth, at)
            )

    # An id the store cannot hold, or no number at all, matches no route: a 404 page.
    @router.post(LIST + "/{auth_id:espiid}/revoke")
    async def revoke(request: Request, auth_id: int) -> Response:
        """Revocation by the customer takes effect at once: every token of the grant
        fails from the next call (REQ.21 Authorization status 0)."""
        form = await form_fields(request)

        def work(session: Session, customer: RetailCustomer) -> str:
            auth = grants.customer_grant(session, customer.id, auth_id)
            if auth is None:
                return "unknown"
            if not csrf_ok(request, form.get("csrf")):
                return "csrf"
            if grants.state_of(auth, now()) != grants.ACTIVE:
                return "ended"
            revoke_authorization(
                session, auth, "customer", actor=customer_actor(request, settings, customer.id)
            )
            session.commit()
            return "revoked"

        done = await run_in_threadpool(with_customer(request, work))
        if done is None:
            return to_login(LIST)
        if done == "unknown":
            return not_found(request)
        if done == "csrf":
            return expired_form(templates, request, settings)
        return RedirectResponse(f"{LIST}?done={done}", status_code=303)

    def end_form(
        request: Request,
        view: grants.GrantView,
        status: int = 200,
        error: str | None = None,
        kind: str | None = None,
        typed: str | None = None,
    ) -> Response:
        if kind is None:
            kind = "date" if view.until is not None else "revoke"
            typed = view.until.isoformat() if view.until is not None else ""
        return render(
            request,
            "end.html",
            status,
            grant=view,
            error=error,
            kind=kind,
            typed=typed or "",
            tomorrow=(datetime.now(settings.zone).date() + timedelta(days=1)).isoformat(),
        )

    @router.get(LIST + "/{auth_id:espiid}/end", response_class=HTMLResponse)
    def end_page(request: Request, auth_id: int) -> Response:
        """The form that changes when an active grant ends."""
        with sessions() as session:
            customer = current_customer(request, session)
            if customer is None:
                return to_login(f"{LIST}/{auth_id}/end")
            auth = grants.customer_grant(session, customer.id, auth_id)
            if auth is None:
                return not_found(request)
            at = now()
            if grants.state_of(auth, at) != grants.ACTIVE:
                return RedirectResponse(LIST, status_code=303)
            return end_form(request, grants.grant_view(session, settings, auth, at))

    @router.post(LIST + "/{auth_id:espiid}/end")
    async def change_end(request: Request, auth_id: int) -> Response:
        """Store the new end the way consent does (the next midnight after the chosen
        day in the utility's zone) and tell the third party, in one transaction."""
        form = await form_fields(request)
        kind = (form.get("end") or "").strip()
        typed = (form.get("end_date") or "").strip()[:32]

        def work(session: Session, customer: RetailCustomer) -> Response:
            auth = grants.customer_grant(session, customer.id, auth_id)
            if auth is None:
                return not_found(request)
            if not csrf_ok(request, form.get("csrf")):
                return expired_form(templates, request, settings)
            at = now()
            if grants.state_of(auth, at) != grants.ACTIVE:
                return error_page(
                    templates,
                    request,
                    settings,
                    _("This authorization has already ended; it can no longer be changed."),
                    409,
                )
            view = grants.grant_view(session, settings, auth, at)
            if kind not in ("date", "revoke"):
                message = _("Choose a last day, or until you take it back.")
                return end_form(request, view, 400, message, "date", typed)
            zone = settings.zone
            try:
                end = parse_end(kind, typed, datetime.now(zone).date(), zone)
            except GrantError as exc:
                return end_form(request, view, 400, _sentence(exc), kind, typed)
            changed = grants.change_end(session, auth, end, at)
            session.commit()
            return RedirectResponse(
                f"{LIST}?done={'changed' if changed else 'unchanged'}", status_code=303
            )

        answer = await run_in_threadpool(with_customer(request, work))
        return to_login(LIST) if answer is None else answer

    return router


def _notice(done: str | None) -> str | None:
    """The line that says what the last action did."""
    notice = NOTICES.get(done or "")
    return _(notice) if notice else None


NOTICES = {
    "revoked": N_("Done: that company can no longer get your data."),
    "ended": N_("That authorization had already ended; nothing was changed."),
    "changed": N_("Done: the new end date is saved, and the company has been told."),
    "unchanged": N_("The end date was already that; nothing was changed."),
}


__all__ = ["LIST", "build_router"]
