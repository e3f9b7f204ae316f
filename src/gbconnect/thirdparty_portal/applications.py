"""A company's applications on the third-party portal (REQ.21 ApplicationInformation,
FB_3/FB_36; STANDARD.md sections 4 and 7).

- list, create (:func:`gbconnect.oauth.clients.register`: it starts in review) and
  edit (:func:`gbconnect.registration.services.update_application`) with a form for
  every field that matters (:mod:`gbconnect.thirdparty_portal.forms`), and a logo
  (uploaded, checked by :func:`gbconnect.registration.logos.check`);
- the credentials, each shown once on a page that is never cached: the client secret
  (stored as a SHA-256 hash), the notification signing key
  (:mod:`gbconnect.registration.signing_keys`) and the RFC 7592 registration access
  token; each can be rotated (the old client secret is refused at ``/oauth/token``
  at once; the old registration token is revoked; the old signing key keeps signing
  for its grace period), audited as ``credential.rotated``;
- the connectivity test (:mod:`gbconnect.thirdparty_portal.connectivity`) and the
  view of production (:mod:`gbconnect.thirdparty_portal.production`, the delivery
  log with resend and replay, API usage).

A company sees and changes only its own applications: another's id is 404, like an
id that does not exist.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile

from gbconnect.audit import record
from gbconnect.config import Settings
from gbconnect.espi.schema import INT64_MAX
from gbconnect.notify import admin as notify_admin
from gbconnect.notify.models import Notification
from gbconnect.oauth import clients
from gbconnect.oauth import models as om
from gbconnect.oauth.secrets import digest, new_secret
from gbconnect.oauth.services import issue_token
from gbconnect.oauth.starlette import FormTooLarge, read_form
from gbconnect.portal.pages import form_fields
from gbconnect.registration import logos
from gbconnect.registration import models as rm
from gbconnect.registration.errors import RegistrationError
from gbconnect.registration.services import update_application
from gbconnect.registration.signing_keys import DEFAULT_GRACE_HOURS, ensure_key, rotate_key
from gbconnect.resource import now
from gbconnect.thirdparty_portal import connectivity, forms, production, usage
from gbconnect.thirdparty_portal.accounts import PortalInputError
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

APPS = f"{PREFIX}/applications"
#: What can be rotated, as the page and the audit log name it.
CREDENTIALS = {
    "client-secret": "client secret",
    "notify-secret": "notification signing secret",
    "registration-token": "registration access token",
}
NOT_FOUND = "There is no such application."


def parse_id(text: str) -> int | None:
    """A path id, or None when it is not one (then 404)."""
    if text.isascii() and text.isdigit() and len(text) <= 19 and int(text) <= INT64_MAX:
        return int(text)
    return None


def own_application(
    session: Session, user: CompanyUser, text: str
) -> rm.ApplicationInformation | None:
    """The application ``text`` names if it is the user's company's, else None."""
    app_id = parse_id(text)
    if app_id is None:
        return None
    app = session.get(rm.ApplicationInformation, app_id)
    if app is None or app.company_id != user.company_id:
        return None
    return app


def _reason(exc: Exception) -> str:
    text = str(exc).strip()
    return text[:1].upper() + text[1:] + ("" if text.endswith(".") else ".")


def build_router(settings: Settings, sessions: sessionmaker[Session]) -> APIRouter:
    router = APIRouter(include_in_schema=False)

    def signed_in(
        fn: Callable[[Request, Session, CompanyUser, Company], Response],
    ) -> Callable[[Request], Response]:
        def run(request: Request) -> Response:
            with sessions() as session:
                user = current_user(request, session)
                if user is None:
                    return RedirectResponse(f"{PREFIX}/login", status_code=303)
                company = session.get(Company, user.company_id)
                assert company is not None
                return fn(request, session, user, company)

        return run

    def form_page(
        request: Request,
        company: Company,
        user: CompanyUser,
        form: forms.ApplicationForm,
        app: rm.ApplicationInformation | None,
        status: int = 200,
        message: str | None = None,
        field: str | None = None,
    ) -> Response:
        groups, services = forms.choices(settings)
        return page(
            request,
            settings,
            "application_form.html",
            status,
            user=user,
            company=company,
            app=app,
            values=form.values,
            chosen=form.chosen,
            groups=groups,
            services=services,
            types=forms.APPLICATION_TYPES,
            uses=forms.APPLICATION_USES,
            error=message,
            field=field,
        )

    def credentials_page(
        request: Request,
        company: Company,
        user: CompanyUser,
        app: rm.ApplicationInformation,
        shown: dict[str, str],
    ) -> Response:
        return page(
            request,
            settings,
            "credentials.html",
            user=user,
            company=company,
            app=app,
            shown=shown,
            names=CREDENTIALS,
        )

    # -- the list --

    @router.get(APPS, response_class=HTMLResponse)
    def application_list(request: Request) -> Response:
        def show(
            request: Request, session: Session, user: CompanyUser, company: Company
        ) -> Response:
            apps = session.scalars(
                select(rm.ApplicationInformation)
                .where(rm.ApplicationInformation.company_id == company.id)
                .order_by(rm.ApplicationInformation.id)
            ).all()
            return page(
                request,
                settings,
                "applications.html",
                user=user,
                company=company,
                apps=apps,
                dc_status=rm.STATUS_NAMES,
                tp_status=forms.THIRD_PARTY_STATUS,
                passed={a.id: connectivity.is_passed(a) for a in apps},
                deadline={
                    a.id: time.strftime("%Y-%m-%d", time.gmtime(connectivity.deadline(a)))
                    for a in apps
                },
            )

        return signed_in(show)(request)

    # -- create --

    @router.get(f"{APPS}/new", response_class=HTMLResponse)
    def new_form(request: Request) -> Response:
        def show(
            request: Request, session: Session, user: CompanyUser, company: Company
        ) -> Response:
            blank = forms.ApplicationForm.read({})
            blank.values["redirect_uris"] = ""
            return form_page(request, company, user, blank, None)

        return signed_in(show)(request)

    @router.post(f"{APPS}/new")
    async def create(request: Request) -> Response:
        fields = await read_form_lists(request)
        if not csrf_ok(request, (fields.get("csrf") or [""])[-1]):
            return expired(request, settings)
        form = forms.ApplicationForm.read(fields)

        def make(
            request: Request, session: Session, user: CompanyUser, company: Company
        ) -> Response:
            try:
                name = form.name()
                description = form.description()
                redirect_uris = form.redirect_uris(settings)
                notify_uri = form.notify_uri(settings)
                uris = form.uris(settings)
                app_type = form.application_type()
                app_use = form.application_use()
                scope = form.scope(settings)
            except PortalInputError as exc:
                return form_page(request, company, user, form, None, 400, str(exc), exc.field)
            try:
                done = clients.register(
                    session,
                    settings,
                    name=name,
                    redirect_uris=redirect_uris,
                    notify_uri=notify_uri,
                    scopes=[scope],
                    approve=False,
                    description=description,
                    client_uri=uris["client_uri"],
                    tos_uri=uris["tos_uri"],
                    policy_uri=uris["policy_uri"],
                    logo_uri=uris["logo_uri"],
                    portal_uri=uris["portal_uri"],
                )
            except RegistrationError as exc:
                session.rollback()
                return form_page(request, company, user, form, None, 400, _reason(exc))
            app = done.application
            app.company_id = company.id
            app.application_type = app_type
            app.application_use = app_use
            app.contacts = [company.technical_email, company.business_email]
            notify_key = ensure_key(app)
            record(
                session,
                "application.created",
                actor(request, settings, user, company),
                ("application", app.id),
                {"client_id": app.client_id, "name": app.client_name},
            )
            session.commit()
            assert done.client_secret is not None
            return credentials_page(
                request,
                company,
                user,
                app,
                {
                    "client-secret": done.client_secret,
                    "notify-secret": notify_key,
                    "registration-token": done.registration_access_token,
                },
            )

        return await run_in_threadpool(signed_in(make), request)

    # -- one application --

    def owned(
        fn: Callable[[Request, Session, CompanyUser, Company, rm.ApplicationInformation], Response],
        app_id: str,
    ) -> Callable[[Request], Response]:
        def run(
            request: Request, session: Session, user: CompanyUser, company: Company
        ) -> Response:
            app = own_application(session, user, app_id)
            if app is None:
                return error(request, settings, NOT_FOUND, 404, user=user, company=company)
            return fn(request, session, user, company, app)

        return signed_in(run)

    def detail_page(
        request: Request,
        session: Session,
        user: CompanyUser,
        company: Company,
        app: rm.ApplicationInformation,
        status: int = 200,
        **context: Any,
    ) -> Response:
        logo = session.get(rm.ApplicationLogo, app.id)
        return page(
            request,
            settings,
            "application.html",
            status,
            user=user,
            company=company,
            app=app,
            logo=logo,
            dc_status=rm.STATUS_NAMES[app.data_custodian_status],
            tp_status=forms.THIRD_PARTY_STATUS.get(app.third_party_status, "?"),
            passed=connectivity.is_passed(app),
            passed_on=_day(app.connectivity_passed_at),
            deadline=_day(connectivity.deadline(app)),
            days_left=max(0, int((connectivity.deadline(app) - time.time()) // 86400)),
            report=app.connectivity_report,
            names=CREDENTIALS,
            **context,
        )

    @router.get(f"{APPS}/{{app_id}}", response_class=HTMLResponse)
    def application(request: Request, app_id: str) -> Response:
        def show(
            request: Request,
            session: Session,
            user: CompanyUser,
            company: Company,
            app: rm.ApplicationInformation,
        ) -> Response:
            notice = {
                "saved": "The application is saved.",
                "cleared": "The application is saved. Its redirect, notify or portal URI "
                "changed: pass the connectivity test again.",
                "logo": "The logo is saved.",
            }.get(request.query_params.get("done", ""))
            return detail_page(request, session, user, company, app, notice=notice)

        return owned(show, app_id)(request)

    # -- edit --

    @router.get(f"{APPS}/{{app_id}}/edit", response_class=HTMLResponse)
    def edit_form(request: Request, app_id: str) -> Response:
        def show(
            request: Request,
            session: Session,
            user: CompanyUser,
            company: Company,
            app: rm.ApplicationInformation,
        ) -> Response:
            return form_page(request, company, user, forms.ApplicationForm.of(app, settings), app)

        return owned(show, app_id)(request)

    @router.post(f"{APPS}/{{app_id}}/edit")
    async def edit(request: Request, app_id: str) -> Response:
        fields = await read_form_lists(request)
        if not csrf_ok(request, (fields.get("csrf") or [""])[-1]):
            return expired(request, settings)
        form = forms.ApplicationForm.read(fields)

        def save(
            request: Request,
            session: Session,
            user: CompanyUser,
            company: Company,
            app: rm.ApplicationInformation,
        ) -> Response:
            try:
                name = form.name()
                description = form.description()
                redirect_uris = form.redirect_uris(settings)
                notify_uri = form.notify_uri(settings)
                uris = form.uris(settings)
                app_type = form.application_type()
                app_use = form.application_use()
                scope = form.scope(settings)
            except PortalInputError as exc:
                return form_page(request, company, user, form, app, 400, str(exc), exc.field)
            changes = {
                "client_name": [name],
                "thirdPartyApplicationDescription": [description or ""],
                "redirect_uri": redirect_uris,
                "thirdPartyNotifyUri": [notify_uri or ""],
                "logo_uri": [uris["logo_uri"] or ""],
                "client_uri": [uris["client_uri"] or ""],
                "tos_uri": [uris["tos_uri"] or ""],
                "policy_uri": [uris["policy_uri"] or ""],
                "thirdPartyUserPortalScreenURI": [uris["portal_uri"] or ""],
                "scope": [scope],
            }
            was_passed = app.connectivity_passed_at is not None
            try:
                update_application(session, settings, app, changes, by="third party")
            except RegistrationError as exc:
                session.rollback()
                message = _reason(exc)
                if "wider" in message:
                    message = (
                        "The function blocks asked for can only be narrowed once registered: "
                        "register a new application to ask for more."
                    )
                return form_page(request, company, user, form, app, 400, message, "block")
            app.application_type = app_type
            app.application_use = app_use
            # update_application clears a pass whose URIs changed.
            cleared = was_passed and app.connectivity_passed_at is None
            record(
                session,
                "application.updated",
                actor(request, settings, user, company),
                ("application", app.id),
                {"client_id": app.client_id, "connectivity_cleared": cleared},
            )
            session.commit()
            done = "cleared" if cleared else "saved"
            return RedirectResponse(f"{APPS}/{app.id}?done={done}", status_code=303)

        return await run_in_threadpool(owned(save, app_id), request)

    # -- the logo --

    @router.post(f"{APPS}/{{app_id}}/logo")
    async def upload_logo(request: Request, app_id: str) -> Response:
        data: bytes | None = None
        problem: str | None = None
        token = ""
        try:
            async with request.form(max_files=1, max_fields=5) as submitted:
                token = str(submitted.get("csrf") or "")
                upload = submitted.get("logo")
                if isinstance(upload, UploadFile):
                    data = await upload.read(logos.MAX_BYTES + 1)
        except Exception:  # a malformed multipart body (python-multipart's errors vary)
            problem = "The upload could not be read; choose a PNG, JPEG, GIF or WebP file."
        if not problem and not csrf_ok(request, token):
            return expired(request, settings)

        def save(
            request: Request,
            session: Session,
            user: CompanyUser,
            company: Company,
            app: rm.ApplicationInformation,
        ) -> Response:
            message = problem
            if message is None:
                try:
                    logo = logos.check(data or b"")
                except logos.LogoError as exc:
                    message = _reason(exc)
                else:
                    logos.store(session, app, logo, logos.FROM_FILE)
                    record(
                        session,
                        "application.logo",
                        actor(request, settings, user, company),
                        ("application", app.id),
                        {"content_type": logo.content_type, "bytes": len(logo.data)},
                    )
                    session.commit()
                    return RedirectResponse(f"{APPS}/{app.id}?done=logo", status_code=303)
            return detail_page(request, session, user, company, app, 400, error=message)

        return await run_in_threadpool(owned(save, app_id), request)

    # -- credentials --

    @router.post(f"{APPS}/{{app_id}}/rotate/{{credential}}")
    async def rotate(request: Request, app_id: str, credential: str) -> Response:
        form = await form_fields(request)
        if not csrf_ok(request, form.get("csrf")):
            return expired(request, settings)

        def run(
            request: Request,
            session: Session,
            user: CompanyUser,
            company: Company,
            app: rm.ApplicationInformation,
        ) -> Response:
            if credential not in CREDENTIALS:
                return error(request, settings, "There is no such credential.", 404)
            if credential == "client-secret":
                value = new_secret()
                app.client_secret_hash = digest(value)
            elif credential == "notify-secret":
                value = rotate_key(app, time.time(), DEFAULT_GRACE_HOURS * 3600)
            else:
                t = now()
                session.execute(
                    update(om.Token)
                    .where(om.Token.application_id == app.id)
                    .where(om.Token.token_class == om.REGISTRATION)
                    .where(om.Token.revoked_at.is_(None))
                    .values(revoked_at=t)
                )
                value, _row = issue_token(
                    session,
                    kind="access",
                    token_class=om.REGISTRATION,
                    application_id=app.id,
                    authorization_id=None,
                    scope=clients.REGISTRATION_SCOPE,
                    lifetime=None,
                )
            app.updated = now()
            record(
                session,
                "credential.rotated",
                actor(request, settings, user, company),
                ("application", app.id),
                {"client_id": app.client_id, "credential": credential},
            )
            session.commit()
            return credentials_page(request, company, user, app, {credential: value})

        return await run_in_threadpool(owned(run, app_id), request)

    # -- the connectivity test --

    @router.post(f"{APPS}/{{app_id}}/connectivity")
    async def connectivity_test(request: Request, app_id: str) -> Response:
        form = await form_fields(request)
        if not csrf_ok(request, form.get("csrf")):
            return expired(request, settings)
        secret = form.get("client_secret", "").strip()[:200]

        def prepare(
            request: Request,
            session: Session,
            user: CompanyUser,
            company: Company,
            app: rm.ApplicationInformation,
        ) -> Response | connectivity.Subject:
            if not secret:
                return detail_page(
                    request,
                    session,
                    user,
                    company,
                    app,
                    400,
                    error="Enter the application's client secret to run the test.",
                )
            subject = connectivity.subject_of(session, app)
            session.commit()  # a signing key made now is kept
            return subject

        prepared = await run_in_threadpool(owned_any(prepare, app_id), request)
        if isinstance(prepared, Response):
            return prepared
        report = await connectivity.Run(request.app, settings, prepared, secret).run()

        def finish(
            request: Request,
            session: Session,
            user: CompanyUser,
            company: Company,
            app: rm.ApplicationInformation,
        ) -> Response:
            connectivity.record_result(app, report)
            record(
                session,
                "connectivity.passed" if report.passed else "connectivity.failed",
                actor(request, settings, user, company),
                ("application", app.id),
                {
                    "client_id": app.client_id,
                    "steps": {s.key: s.passed for s in report.steps},
                },
            )
            session.commit()
            return detail_page(
                request,
                session,
                user,
                company,
                app,
                200 if report.passed else 422,
                notice="The connectivity test passed: the application is awaiting approval."
                if report.passed
                else None,
                error=None if report.passed else "The connectivity test did not pass.",
            )

        return await run_in_threadpool(owned(finish, app_id), request)

    def owned_any(
        fn: Callable[
            [Request, Session, CompanyUser, Company, rm.ApplicationInformation],
            Response | connectivity.Subject,
        ],
        app_id: str,
    ) -> Callable[[Request], Response | connectivity.Subject]:
        def run(request: Request) -> Response | connectivity.Subject:
            with sessions() as session:
                user = current_user(request, session)
                if user is None:
                    return RedirectResponse(f"{PREFIX}/login", status_code=303)
                company = session.get(Company, user.company_id)
                assert company is not None
                app = own_application(session, user, app_id)
                if app is None:
                    return error(request, settings, NOT_FOUND, 404, user=user, company=company)
                return fn(request, session, user, company, app)

        return run

    # -- production --

    def production_page(
        request: Request,
        session: Session,
        user: CompanyUser,
        company: Company,
        app: rm.ApplicationInformation,
        status: int = 200,
        **context: Any,
    ) -> Response:
        jobs = notify_admin.list_notifications(session, application_id=app.id, limit=50)
        return page(
            request,
            settings,
            "production.html",
            status,
            user=user,
            company=company,
            app=app,
            counts=production.authorization_counts(session, app),
            grants=production.grants(session, settings, app),
            jobs=jobs,
            dead=sum(1 for j in jobs if j.state == "dead"),
            usage=usage.api_usage(session, app, settings),
            when=_time,
            **context,
        )

    @router.get(f"{APPS}/{{app_id}}/production", response_class=HTMLResponse)
    def production_view(request: Request, app_id: str) -> Response:
        def show(
            request: Request,
            session: Session,
            user: CompanyUser,
            company: Company,
            app: rm.ApplicationInformation,
        ) -> Response:
            notice = {
                "resent": "The notification is queued again, as a new one.",
                "replayed": "The failed notifications are queued again.",
            }.get(request.query_params.get("done", ""))
            return production_page(request, session, user, company, app, notice=notice)

        return owned(show, app_id)(request)

    @router.post(f"{APPS}/{{app_id}}/notifications/{{action}}")
    async def notifications(request: Request, app_id: str, action: str) -> Response:
        form = await form_fields(request)
        if not csrf_ok(request, form.get("csrf")):
            return expired(request, settings)

        def run(
            request: Request,
            session: Session,
            user: CompanyUser,
            company: Company,
            app: rm.ApplicationInformation,
        ) -> Response:
            who = actor(request, settings, user, company)
            at = time.time()
            if action == "replay":
                count = notify_admin.replay(session, application_id=app.id, now=at)
                record(
                    session, "notification.replayed", who, ("application", app.id), {"count": count}
                )
                session.commit()
                return RedirectResponse(
                    f"{APPS}/{app.id}/production?done=replayed", status_code=303
                )
            if action != "resend":
                return error(request, settings, "There is no such page.", 404)
            job_id = parse_id(form.get("notification", ""))
            job = None if job_id is None else session.get(Notification, job_id)
            if job is None or job.application_id != app.id:
                return error(request, settings, "There is no such notification.", 404)
            try:
                new_id = notify_admin.resend(session, job.id, at)
            except notify_admin.NotifyAdminError as exc:
                session.rollback()
                return production_page(
                    request, session, user, company, app, 409, error=_reason(exc)
                )
            record(
                session,
                "notification.resent",
                who,
                ("application", app.id),
                {"notification": job.id, "new": new_id},
            )
            session.commit()
            return RedirectResponse(f"{APPS}/{app.id}/production?done=resent", status_code=303)

        return await run_in_threadpool(owned(run, app_id), request)

    return router


async def read_form_lists(request: Request) -> dict[str, list[str]]:
    """A posted urlencoded form with every value of each field; empty when it cannot
    be read (its CSRF check then fails)."""
    try:
        pairs = await read_form(request)
    except FormTooLarge:
        return {}
    out: dict[str, list[str]] = {}
    for key, value in pairs:
        out.setdefault(key, []).append(value)
    return out


def _day(at: float | None) -> str | None:
    return None if at is None else time.strftime("%Y-%m-%d", time.gmtime(at))


def _time(at: float | None) -> str:
    return "" if at is None else time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime(at))


__all__ = ["CREDENTIALS", "build_router", "own_application", "parse_id"]
