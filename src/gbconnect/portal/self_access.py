"""Self access: a customer reads their own data through the API as their own third
party (STANDARD.md section 7: PG&E's "self-access" kind of third party).

``/account/self-access`` registers, once, an application for the signed-in customer:
approved at once (the customer needs no review to read their own data), with the
utility's default scope and the client_credentials grant only, and an authorization
covering all the customer's services until they take it back (read with the client
token, as an offline grant is: REQ.21 FB_40's ``grant_type`` client_credentials). The
client secret is shown once, on the page that follows the registration (REQ.21 FB_13:
only its hash is stored); the page then shows the client id, the Bulk URL (FB_35) and
the calls of the connectivity test: a client token, ``ReadServiceStatus``,
``Authorization``, ``Batch/Bulk/{bulkId}``.
"""

from __future__ import annotations

from typing import Any

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
from gbconnect.oauth import models as om
from gbconnect.oauth.clients import register
from gbconnect.oauth.services import GrantRequest, grant_customer_authorization
from gbconnect.portal.pages import error_page, expired_form, form_fields
from gbconnect.registration import models as rm
from gbconnect.usage.points import customer_usage_points
from gbconnect.web.security import csrf_ok, csrf_token, current_customer

#: The ``software_id`` that marks a self-access application.
SOFTWARE_ID = "gbconnect-self-access"


def self_access_app(session: Session, customer: RetailCustomer) -> rm.ApplicationInformation | None:
    """The customer's own application, if they registered one."""
    return session.scalars(
        select(rm.ApplicationInformation)
        .join(om.Authorization, om.Authorization.application_id == rm.ApplicationInformation.id)
        .where(
            rm.ApplicationInformation.software_id == SOFTWARE_ID,
            om.Authorization.retail_customer_id == customer.id,
        )
        .order_by(rm.ApplicationInformation.id)
        .limit(1)
    ).first()


def register_self_access(
    session: Session, settings: Settings, customer: RetailCustomer
) -> tuple[rm.ApplicationInformation, str]:
    """Register the customer's own application and its authorization; the app and
    its client secret (readable only now)."""
    points = [up.id for up in customer_usage_points(session, customer.id)]
    if not points:
        raise ValueError(_("your account has no services to read yet"))
    name = f"{customer.name or customer.username} (self access)"
    registered = register(
        session,
        settings,
        name=name[:256],
        redirect_uris=[settings.site_url("/account/self-access")],
        scopes=[settings.default_scope],
        approve=True,
        grant_types=["client_credentials"],
        software_id=SOFTWARE_ID,
    )
    grant_customer_authorization(
        session,
        settings,
        registered.application,
        customer,
        GrantRequest(espi_scope.parse(settings.default_scope), points, None),
        offline=True,
    )
    assert registered.client_secret is not None
    return registered.application, registered.client_secret


def build_router(
    settings: Settings, sessions: sessionmaker[Session], templates: Jinja2Templates
) -> APIRouter:
    router = APIRouter(include_in_schema=False)

    def page(request: Request, status: int = 200, **context: Any) -> Response:
        context.setdefault("secret", None)
        context.setdefault("error", None)
        app = context.get("app")
        if app is not None:
            context["bulk_url"] = settings.resource_url(f"Batch/Bulk/{app.bulk_id}")
        context.update(
            settings=settings,
            csrf=csrf_token(request),
            token_url=settings.site_url("/oauth/token"),
            resource_base=settings.public_resource_base,
        )
        response = templates.TemplateResponse(
            request, "self_access.html", context, status_code=status
        )
        response.headers["Cache-Control"] = "no-store"  # the secret, once
        return response

    @router.get("/account/self-access", response_class=HTMLResponse)
    def show(request: Request) -> Response:
        with sessions() as session:
            customer = current_customer(request, session)
            if customer is None:
                return RedirectResponse("/login?next=%2Faccount%2Fself-access", status_code=303)
            return page(request, customer=customer, app=self_access_app(session, customer))

    @router.post("/account/self-access")
    async def create(request: Request) -> Response:
        form = await form_fields(request)
        if not csrf_ok(request, form.get("csrf")):
            return expired_form(templates, request, settings)

        def run() -> Response:
            with sessions() as session:
                customer = current_customer(request, session)
                if customer is None:
                    return error_page(templates, request, settings, _("Please sign in again."), 401)
                existing = self_access_app(session, customer)
                if existing is not None:
                    return page(request, customer=customer, app=existing)
                try:
                    app, secret = register_self_access(session, settings, customer)
                except ValueError as exc:
                    session.rollback()
                    message = f"{str(exc)[:1].upper()}{str(exc)[1:]}."
                    return page(request, 400, customer=customer, app=None, error=message)
                session.commit()
                return page(request, customer=customer, app=app, secret=secret)

        return await run_in_threadpool(run)

    return router


__all__ = ["SOFTWARE_ID", "build_router", "register_self_access", "self_access_app"]
