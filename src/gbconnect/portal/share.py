"""Share My Data from the utility's side (STANDARD.md section 7, PG&E's flow).

A signed-in customer picks a company from the list of third parties the utility has
approved, chooses what to share on the same choices as the consent page (services,
kinds of data, history, period up to "until I take it back"), and confirms. Then, as
PG&E does, the customer is sent to the company's ``thirdPartyUserPortalScreenURI``
with ``?scope=...&ThirdPartyID=...`` (the scope narrowed to the choices, the company's
client id); the company starts the ordinary authorization-code request (REQ.21 FB_3)
with that scope, and the consent page opens already filled with the customer's
choices (:func:`remembered`). A company without that URI is not in the list: there is
nowhere to send the customer.

Nothing is granted here: the grant is made on the consent page, as for a request
that starts at the company.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlencode, urlsplit

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker
from starlette.concurrency import run_in_threadpool

from gbconnect.config import Settings
from gbconnect.customer.models import RetailCustomer
from gbconnect.espi import scope as espi_scope
from gbconnect.i18n import gettext as _
from gbconnect.oauth.services import GrantError
from gbconnect.oauth.starlette import FormTooLarge, read_form
from gbconnect.portal import consent
from gbconnect.portal.pages import error_page, expired_form
from gbconnect.registration import models as rm
from gbconnect.web import access  # noqa: F401  (registers the espiid path convertor)
from gbconnect.web.security import csrf_ok, csrf_token, current_customer

#: Where the customer's choices wait for the consent page, by client id.
SESSION_KEY = "share"
#: Choices kept for at most this many companies at once (the session cookie is small).
MAX_REMEMBERED = 5


def approved_companies(session: Session) -> list[rm.ApplicationInformation]:
    """Third parties in production with a portal screen to send the customer to."""
    return list(
        session.scalars(
            select(rm.ApplicationInformation)
            .where(
                rm.ApplicationInformation.data_custodian_status == rm.PRODUCTION,
                rm.ApplicationInformation.portal_uri.is_not(None),
                rm.ApplicationInformation.portal_uri != "",
            )
            .order_by(rm.ApplicationInformation.client_name)
        )
    )


def offered_scope(app: rm.ApplicationInformation, settings: Settings) -> espi_scope.Scope:
    """What the customer may choose from: the company's registered scope (the first;
    the utility's default when it registered none)."""
    for text in app.scopes or ():
        try:
            return espi_scope.parse(text)
        except espi_scope.ScopeError:
            continue
    return espi_scope.parse(settings.default_scope)


def portal_redirect(app: rm.ApplicationInformation, scope: espi_scope.Scope) -> str:
    """The company's portal screen with PG&E's two parameters added to its query."""
    uri = app.portal_uri or ""
    joiner = "&" if urlsplit(uri).query else "?"
    return uri + joiner + urlencode({"scope": str(scope), "ThirdPartyID": app.client_id})


def remembered(request: Request, client_id: str) -> dict[str, Any] | None:
    """The choices the customer made for ``client_id`` on the share page, if any."""
    kept = request.session.get(SESSION_KEY)
    if not isinstance(kept, dict):
        return None
    choice = kept.get(client_id)
    return choice if isinstance(choice, dict) else None


def forget(request: Request, client_id: str) -> None:
    kept = request.session.get(SESSION_KEY)
    if isinstance(kept, dict) and client_id in kept:
        kept = dict(kept)
        del kept[client_id]
        request.session[SESSION_KEY] = kept


def _remember(request: Request, client_id: str, choice: dict[str, Any]) -> None:
    kept = request.session.get(SESSION_KEY)
    kept = dict(kept) if isinstance(kept, dict) else {}
    kept.pop(client_id, None)
    kept[client_id] = choice
    while len(kept) > MAX_REMEMBERED:
        kept.pop(next(iter(kept)))
    request.session[SESSION_KEY] = kept


def build_router(
    settings: Settings, sessions: sessionmaker[Session], templates: Jinja2Templates
) -> APIRouter:
    router = APIRouter(include_in_schema=False)

    def choice_context(
        session: Session, customer: RetailCustomer, app: rm.ApplicationInformation
    ) -> dict[str, Any]:
        offered = offered_scope(app, settings)
        return {
            "app": app,
            "customer": customer,
            "groups": consent.groups_of(offered),
            "intervals": consent.interval_labels(offered),
            "histories": consent.history_choices(offered),
            "services": consent.service_choices(session, customer, offered),
        }

    def choice_page(
        request: Request, context: dict[str, Any], status: int = 200, **extra: Any
    ) -> Response:
        context = {**context, **extra, "settings": settings, "csrf": csrf_token(request)}
        context.setdefault("error", None)
        context.setdefault("chosen", None)
        context.setdefault("default_end", None)
        return templates.TemplateResponse(request, "share_choose.html", context, status_code=status)

    @router.get("/account/share", response_class=HTMLResponse)
    def share_list(request: Request) -> Response:
        """The approved companies a customer can share with."""
        with sessions() as session:
            customer = current_customer(request, session)
            if customer is None:
                return RedirectResponse("/login?next=%2Faccount%2Fshare", status_code=303)
            companies = approved_companies(session)
            with_logo = set(
                session.scalars(
                    select(rm.ApplicationLogo.application_id).where(
                        rm.ApplicationLogo.application_id.in_([c.id for c in companies]),
                        rm.ApplicationLogo.data.is_not(None),
                    )
                )
            )
            return templates.TemplateResponse(
                request,
                "share_list.html",
                {
                    "settings": settings,
                    "customer": customer,
                    "companies": companies,
                    "with_logo": with_logo,
                },
            )

    @router.get("/companies/{app_id:espiid}/logo")
    def logo(app_id: int) -> Response:
        """The logo of an approved company, kept by the utility
        (:mod:`gbconnect.registration.logos`); 404 for any other."""
        with sessions() as session:
            row = session.get(rm.ApplicationLogo, app_id)
            app = session.get(rm.ApplicationInformation, app_id)
            if (
                row is None
                or row.data is None
                or app is None
                or app.data_custodian_status != rm.PRODUCTION
            ):
                return Response(status_code=404)
            return Response(
                row.data,
                media_type=row.content_type or "application/octet-stream",
                headers={
                    "Cache-Control": "public, max-age=3600",
                    # An image, never a document: nothing in it may run.
                    "Content-Security-Policy": "default-src 'none'; sandbox",
                    "Content-Disposition": "inline",
                },
            )

    def find(session: Session, app_id: int) -> rm.ApplicationInformation | None:
        app = session.get(rm.ApplicationInformation, app_id)
        if app is None or app.data_custodian_status != rm.PRODUCTION or not app.portal_uri:
            return None
        return app

    @router.get("/account/share/{app_id:espiid}", response_class=HTMLResponse)
    def share_choose(request: Request, app_id: int) -> Response:
        """The choices: the same as the consent page's."""
        with sessions() as session:
            customer = current_customer(request, session)
            if customer is None:
                target = f"/account/share/{app_id}".replace("/", "%2F")
                return RedirectResponse(f"/login?next={target}", status_code=303)
            app = find(session, app_id)
            if app is None:
                return error_page(templates, request, settings, _("There is no such company."), 404)
            return choice_page(request, choice_context(session, customer, app))

    @router.post("/account/share/{app_id:espiid}")
    async def share_confirm(request: Request, app_id: int) -> Response:
        """Check the choices, keep them for the consent page and send the customer to
        the company's portal screen (303)."""
        try:
            pairs = await read_form(request)
        except FormTooLarge:
            pairs = []
        fields: dict[str, list[str]] = {}
        for name, value in pairs:
            fields.setdefault(name, []).append(value)
        csrf = fields["csrf"][0] if fields.get("csrf") else None
        if not csrf_ok(request, csrf):
            return expired_form(templates, request, settings)

        def decide(session: Session) -> Response:
            customer = current_customer(request, session)
            if customer is None:
                return error_page(templates, request, settings, _("Please sign in again."), 401)
            app = find(session, app_id)
            if app is None:
                return error_page(templates, request, settings, _("There is no such company."), 404)
            context = choice_context(session, customer, app)
            yours = {i for s in context["services"] for i, _label in s.usage_points}
            try:
                decision = consent.read_decision(
                    fields, offered_scope(app, settings), datetime.now(UTC).date()
                )
                if not decision.usage_point_ids:
                    raise GrantError(_("choose at least one service to share"))
                if not set(decision.usage_point_ids) <= yours:
                    raise GrantError(_("a chosen service is not one of yours"))
            except ValueError as exc:  # GrantError and ScopeError are ValueErrors
                return choice_page(
                    request,
                    context,
                    400,
                    error=f"{str(exc)[:1].upper()}{str(exc)[1:]}.",
                    chosen=_typed(fields),
                )
            _remember(
                request,
                app.client_id,
                {
                    "services": decision.usage_point_ids,
                    "groups": [g.key for g in consent.groups_of(decision.scope)],
                    "history": (fields.get("history") or [""])[0],
                    "end": (fields.get("end") or ["revoke"])[0],
                    "end_date": (fields.get("end_date") or [""])[0],
                },
            )
            return RedirectResponse(portal_redirect(app, decision.scope), status_code=303)

        return await run_in_threadpool(lambda: _in_session(sessions, decide))

    return router


def _typed(fields: Mapping[str, list[str]]) -> dict[str, Any]:
    """What the customer submitted, to show the form as they left it (in the shape
    of :func:`remembered`'s choices)."""
    return {
        "groups": list(fields.get("group", ())),
        "services": [int(v) for v in fields.get("service", ()) if v.isascii() and v.isdigit()],
        "history": (fields.get("history") or [""])[0],
        "end": (fields.get("end") or ["revoke"])[0],
        "end_date": (fields.get("end_date") or [""])[0][:20],
    }


def _in_session(sessions: sessionmaker[Session], work: Any) -> Response:
    with sessions() as session:
        result: Response = work(session)
        return result


__all__ = [
    "SESSION_KEY",
    "approved_companies",
    "build_router",
    "forget",
    "offered_scope",
    "portal_redirect",
    "remembered",
]
