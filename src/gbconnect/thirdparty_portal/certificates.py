"""A company's client certificates for mutual TLS (PG&E: every API call but browser
redirects; RFC 8705), on the third-party portal:
``/thirdparty/applications/{id}/certificates``.

The company uploads a certificate its own CA issued, or pastes a certificate signing
request that the utility's CA signs (when the utility configured one:
``GBCONNECT_CA_CERT``/``GBCONNECT_CA_KEY``), and revokes one at once. The checks,
the signing and the audit are :mod:`gbconnect.registration.certificates`'s; this
module is the pages.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from types import ModuleType
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy.orm import Session, sessionmaker
from starlette.concurrency import run_in_threadpool

from gbconnect.config import Settings
from gbconnect.portal.pages import form_fields
from gbconnect.registration import models as rm
from gbconnect.thirdparty_portal.applications import own_application
from gbconnect.thirdparty_portal.models import Company, CompanyUser
from gbconnect.thirdparty_portal.pages import (
    PREFIX,
    actor,
    current_user,
    error,
    expired,
    page,
)
from gbconnect.web.security import csrf_ok

#: The longest PEM text a form may carry (a certificate or a request is a few KB).
MAX_PEM = 64 * 1024
NOT_FOUND = "There is no such application or certificate in your company."

Work = Callable[[Request, Session, CompanyUser, Company, rm.ApplicationInformation], Response]


def _certs() -> ModuleType:
    """:mod:`gbconnect.registration.certificates`, loaded on first use: it needs the
    ``cryptography`` package, which a served process otherwise does without."""
    from gbconnect.registration import certificates

    return certificates


def _day(epoch: int | None) -> str:
    return "" if epoch is None else f"{datetime.fromtimestamp(epoch, UTC):%Y-%m-%d}"


def build_router(settings: Settings, sessions: sessionmaker[Session]) -> APIRouter:
    router = APIRouter(include_in_schema=False)
    base = f"{PREFIX}/applications/{{app_id}}/certificates"

    def owned(request: Request, app_id: str, work: Work) -> Response:
        with sessions() as session:
            user = current_user(request, session)
            if user is None:
                return RedirectResponse(f"{PREFIX}/login", status_code=303)
            company = session.get(Company, user.company_id)
            app = own_application(session, user, app_id)
            if app is None or company is None:
                return error(request, settings, NOT_FOUND, 404, user=user, company=company)
            return work(request, session, user, company, app)

    def show(
        request: Request,
        session: Session,
        user: CompanyUser,
        company: Company,
        app: rm.ApplicationInformation,
        status: int = 200,
        **context: Any,
    ) -> Response:
        rows = _certs().certificates_of(session, app)
        return page(
            request,
            settings,
            "certificates.html",
            status,
            user=user,
            company=company,
            app=app,
            rows=rows,
            day=_day,
            can_issue=settings.ca_cert is not None and settings.ca_key is not None,
            mtls=settings.mtls,
            done=request.query_params.get("done", "")[:20],
            **context,
        )

    @router.get(base, response_class=HTMLResponse)
    def certificate_list(request: Request, app_id: str) -> Response:
        return owned(request, app_id, show)

    @router.post(base)
    async def add(request: Request, app_id: str) -> Response:
        """Register an uploaded certificate, or have the utility's CA sign a request."""
        form = await form_fields(request)
        if not csrf_ok(request, form.get("csrf")):
            return expired(request, settings)
        how = form.get("how", "")
        text = form.get("pem", "")

        def work(
            request: Request,
            session: Session,
            user: CompanyUser,
            company: Company,
            app: rm.ApplicationInformation,
        ) -> Response:
            typed = {"how": how, "pem": text[:MAX_PEM]}
            if how not in ("certificate", "request"):
                return show(request, session, user, company, app, 400, error=CHOOSE, typed=typed)
            if not text.strip():
                return show(request, session, user, company, app, 400, error=PASTE, typed=typed)
            if len(text) > MAX_PEM:
                return show(request, session, user, company, app, 400, error=TOO_LONG, typed=typed)
            who = actor(request, settings, user, company)
            try:
                if how == "certificate":
                    row = _certs().add_certificate(session, app, text, who)
                else:
                    row = _certs().issue_from_csr(settings, app, text, who)
            except _certs().CertificateError as exc:
                session.rollback()
                reason = str(exc).strip().rstrip(".")
                message = (reason[:1].upper() + reason[1:] + ".") if reason else PASTE
                return show(request, session, user, company, app, 400, error=message, typed=typed)
            session.commit()
            done = "issued" if how == "request" else "added"
            return RedirectResponse(
                f"{PREFIX}/applications/{app.id}/certificates?done={done}#c-{row.id}",
                status_code=303,
            )

        return await run_in_threadpool(owned, request, app_id, work)

    @router.post(base + "/{thumbprint}/revoke")
    async def revoke(request: Request, app_id: str, thumbprint: str) -> Response:
        """Revoke a certificate at once: tokens bound to it stop at their next call."""
        form = await form_fields(request)
        if not csrf_ok(request, form.get("csrf")):
            return expired(request, settings)

        def work(
            request: Request,
            session: Session,
            user: CompanyUser,
            company: Company,
            app: rm.ApplicationInformation,
        ) -> Response:
            row = _certs().revoke_certificate(
                session, app, thumbprint[:64], actor(request, settings, user, company)
            )
            if row is None:
                return error(request, settings, NOT_FOUND, 404, user=user, company=company)
            session.commit()
            return RedirectResponse(
                f"{PREFIX}/applications/{app.id}/certificates?done=revoked", status_code=303
            )

        return await run_in_threadpool(owned, request, app_id, work)

    @router.get(base + "/{thumbprint}.pem")
    def download(request: Request, app_id: str, thumbprint: str) -> Response:
        """A registered certificate as a PEM file (an issued one is fetched here)."""

        def work(
            request: Request,
            session: Session,
            user: CompanyUser,
            company: Company,
            app: rm.ApplicationInformation,
        ) -> Response:
            row = _certs().find(session, app, thumbprint[:64])
            if row is None:
                return error(request, settings, NOT_FOUND, 404, user=user, company=company)
            return Response(
                row.pem,
                media_type="application/x-pem-file",
                headers={"Content-Disposition": f'attachment; filename="{app.client_id}.pem"'},
            )

        return owned(request, app_id, work)

    return router


CHOOSE = "Choose whether you paste a certificate or a certificate signing request."
PASTE = "Paste a PEM certificate (-----BEGIN CERTIFICATE-----) or request."
TOO_LONG = "That text is too long for a certificate or a request (64 KB at most)."

__all__ = ["build_router"]
