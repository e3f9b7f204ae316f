"""ESPI REST resources of Connect My Data (REQ.21 FB_3, FB_41, FB_44; STANDARD.md
section 1): ReadServiceStatus, ApplicationInformation and Authorization.

Which token classes may call what is written once, in :data:`ACCESS`; the
authorization-matrix test reads the same table.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from typing import Any

from anyio import CapacityLimiter
from fastapi import APIRouter, Request
from fastapi.responses import Response, StreamingResponse
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker
from starlette.concurrency import run_in_threadpool

from gbconnect.api import documents
from gbconnect.api.customer import CUSTOMER_ACCESS, add_customer_routes
from gbconnect.api.management import MANAGEMENT_ACCESS, add_management_routes
from gbconnect.api.sample import sample_feed
from gbconnect.api.usage import USAGE_ACCESS, add_usage_routes
from gbconnect.config import Settings
from gbconnect.db.rowreader import RowReader
from gbconnect.espi.atom import MEDIA_TYPE, entry, feed
from gbconnect.oauth import models as om
from gbconnect.oauth import services
from gbconnect.oauth.guard import NOT_FOUND, AccessDenied, Caller, authenticate
from gbconnect.registration import models as rm
from gbconnect.registration.errors import RegistrationError
from gbconnect.registration.services import set_status, update_application
from gbconnect.resource import now
from gbconnect.web.serving import XML_DECLARATION, Prepared, Responder, standalone

C, DC, R = om.CLIENT, om.ADMIN, om.REGISTRATION

#: (method, path under the resource base) -> token classes admitted.
ACCESS: dict[tuple[str, str], set[str]] = {
    ("GET", "/ReadServiceStatus"): {C, DC},
    ("GET", "/DownloadSampleData"): {C},
    ("GET", "/ApplicationInformation"): {DC},
    ("GET", "/ApplicationInformation/{id}"): {R, DC},
    ("PUT", "/ApplicationInformation/{id}"): {R, DC},
    ("DELETE", "/ApplicationInformation/{id}"): {R, DC},
    ("GET", "/Authorization"): {C, DC},
    ("GET", "/Authorization/{id}"): {C, DC},
    ("PUT", "/Authorization/{id}"): {C, DC},
    ("DELETE", "/Authorization/{id}"): {C, DC},
    **USAGE_ACCESS,
    **CUSTOMER_ACCESS,
    **MANAGEMENT_ACCESS,
}


def build_router(
    settings: Settings, sessions: sessionmaker[Session], reader: RowReader | None = None
) -> APIRouter:
    base = settings.resource_base.rstrip("/")
    router = APIRouter(prefix=base, tags=["espi"])
    public = settings.base_url.rstrip("/") + base
    responder = Responder(sessions, ACCESS, reader, CapacityLimiter(settings.feed_streams))
    # First: the usage routes begin with the hot path (route matching is a scan).
    add_usage_routes(router, settings, responder)

    def xml(body: str, status: int = 200) -> Response:
        return Response(body, status_code=status, media_type=MEDIA_TYPE)

    def validated(request: Request, caller: Caller, body: str, modified: int | None) -> Response:
        """A GET's small document with ``ETag``/``Last-Modified``; 304 when the client
        has it. The ETag covers the document itself: a change within the second of
        ``updated`` (a revocation right after the grant) still moves it."""
        digest = hashlib.sha256(body.encode()).hexdigest()[:16]
        key = f"{caller.token_class}:{caller.application_id}:{digest}"
        return responder.answer(
            request, Prepared(lambda s: iter(()), modified, grant_key=key, body=body)
        )

    def validated_feed(
        request: Request, caller: Caller, kind: str, items: list[Any], write: Any
    ) -> Response:
        """The feed ``{base}/{kind}`` of ``items`` written by ``write``, validated."""
        modified = max((i.updated for i in items), default=None)
        body = "".join(
            feed(
                self_href=f"{public}/{kind}",
                title=kind,
                updated=modified or now(),
                entries=[write(i) for i in items],
            )
        )
        return validated(request, caller, body, modified)

    async def guarded(request: Request, key: tuple[str, str], work: object) -> Response:
        def run() -> Response:
            with sessions() as session:
                try:
                    caller = authenticate(request, session, ACCESS[key])
                    response: Response = work(session, caller)  # type: ignore[operator]
                    session.commit()
                    return response
                except AccessDenied as denied:
                    session.rollback()
                    return denied.response()

        return await run_in_threadpool(run)

    def app_entry(app: rm.ApplicationInformation) -> str:
        return entry(
            self_href=f"{public}/ApplicationInformation/{app.id}",
            up_href=f"{public}/ApplicationInformation",
            title=app.client_name,
            published=app.published,
            updated=app.updated,
            content=documents.application_information(app, settings),
        )

    def auth_entry(auth: om.Authorization) -> str:
        return entry(
            self_href=f"{public}/Authorization/{auth.id}",
            up_href=f"{public}/Authorization",
            title=auth.title,
            published=auth.published,
            updated=auth.updated,
            content=documents.authorization(auth, settings),
        )

    def stream(parts: Iterator[str]) -> Response:
        return StreamingResponse((p.encode() for p in parts), media_type=MEDIA_TYPE)

    @router.get("/ReadServiceStatus")
    async def read_service_status(request: Request) -> Response:
        """FND006: the service's status (1 = up)."""

        def work(session: Session, caller: Caller) -> Response:
            return xml(XML_DECLARATION + documents.service_status())

        return await guarded(request, ("GET", "/ReadServiceStatus"), work)

    @router.get("/DownloadSampleData")
    async def download_sample_data(request: Request) -> Response:
        """PG&E's connectivity test, last step: a sample Green Button feed (synthetic)."""

        def work(session: Session, caller: Caller) -> Response:
            body = sample_feed(public, settings.timezone)
            return Response(body, media_type=MEDIA_TYPE)

        return await guarded(request, ("GET", "/DownloadSampleData"), work)

    @router.get("/ApplicationInformation")
    async def application_feed(request: Request) -> Response:
        def work(session: Session, caller: Caller) -> Response:
            apps = list(
                session.scalars(
                    select(rm.ApplicationInformation).order_by(rm.ApplicationInformation.id)
                )
            )
            return validated_feed(request, caller, "ApplicationInformation", apps, app_entry)

        return await guarded(request, ("GET", "/ApplicationInformation"), work)

    def own_application(session: Session, caller: Caller, app_id: int) -> rm.ApplicationInformation:
        app = session.get(rm.ApplicationInformation, app_id)
        if app is None or (caller.token_class == R and caller.application_id != app.id):
            raise NOT_FOUND
        return app

    @router.get("/ApplicationInformation/{app_id}")
    async def application_get(request: Request, app_id: int) -> Response:
        """FND002 (with a registration token)."""

        def work(session: Session, caller: Caller) -> Response:
            app = own_application(session, caller, app_id)
            return validated(request, caller, standalone(app_entry(app)), app.updated)

        return await guarded(request, ("GET", "/ApplicationInformation/{id}"), work)

    @router.put("/ApplicationInformation/{app_id}")
    async def application_put(request: Request, app_id: int) -> Response:
        """MGT001: a third party updates its registration with its registration
        access token (FB_44); the body is an ApplicationInformation (bare or in an
        Atom entry) holding the elements to change."""
        body = await request.body()

        def work(session: Session, caller: Caller) -> Response:
            app = own_application(session, caller, app_id)
            fields = _application_fields(body)
            if fields is None:
                raise AccessDenied(
                    400, "invalid_request", "the body must be an ApplicationInformation document"
                )
            try:
                update_application(session, settings, app, fields)
            except RegistrationError as exc:
                raise AccessDenied(400, exc.error, str(exc)) from None
            return xml(standalone(app_entry(app)))

        return await guarded(request, ("PUT", "/ApplicationInformation/{id}"), work)

    @router.delete("/ApplicationInformation/{app_id}")
    async def application_delete(request: Request, app_id: int) -> Response:
        """MGT: a third party withdraws its registration (or the utility revokes it):
        every token and authorization of it ends at once."""

        def work(session: Session, caller: Caller) -> Response:
            app = own_application(session, caller, app_id)
            if caller.token_class == R:
                app.third_party_status = 4  # retired
            set_status(session, app, rm.REVOKED)
            return Response(status_code=204)

        return await guarded(request, ("DELETE", "/ApplicationInformation/{id}"), work)

    def visible_authorizations(session: Session, caller: Caller) -> list[om.Authorization]:
        if caller.token_class == DC:
            return services.authorizations_of(session)
        return services.authorizations_of(session, application_id=caller.application_id)

    def own_authorization(session: Session, caller: Caller, auth_id: int) -> om.Authorization:
        auth = session.get(om.Authorization, auth_id)
        if auth is None or (
            caller.token_class == C and auth.application_id != caller.application_id
        ):
            raise NOT_FOUND
        return auth

    @router.get("/Authorization")
    async def authorization_feed(request: Request) -> Response:
        """FND003: the third party's authorizations (all of them for the admin)."""

        def work(session: Session, caller: Caller) -> Response:
            auths = visible_authorizations(session, caller)
            return validated_feed(request, caller, "Authorization", auths, auth_entry)

        return await guarded(request, ("GET", "/Authorization"), work)

    @router.get("/Authorization/{auth_id}")
    async def authorization_get(request: Request, auth_id: int) -> Response:
        """FND004 and OFA001."""

        def work(session: Session, caller: Caller) -> Response:
            auth = own_authorization(session, caller, auth_id)
            return validated(request, caller, standalone(auth_entry(auth)), auth.updated)

        return await guarded(request, ("GET", "/Authorization/{id}"), work)

    @router.put("/Authorization/{auth_id}")
    async def authorization_put(request: Request, auth_id: int) -> Response:
        """MGA001: a third party updates an Authorization. What it may change is what
        narrows the grant: ``status`` 0 revokes it; anything else is refused."""
        body = await request.body()

        def work(session: Session, caller: Caller) -> Response:
            auth = own_authorization(session, caller, auth_id)
            status = _status_of(body)
            if status is None:
                raise AccessDenied(
                    400, "invalid_request", "the body must be an Authorization with a status"
                )
            if status == om.REVOKED:
                if auth.status == om.ACTIVE:
                    services.revoke_authorization(
                        session,
                        auth,
                        "third party" if caller.token_class == C else "data custodian",
                    )
            elif status != auth.status:
                raise AccessDenied(
                    400, "invalid_request", "an Authorization can only be revoked this way"
                )
            return xml(standalone(auth_entry(auth)))

        return await guarded(request, ("PUT", "/Authorization/{id}"), work)

    @router.delete("/Authorization/{auth_id}")
    async def authorization_delete(request: Request, auth_id: int) -> Response:
        """MGA002: revocation by the third party; its tokens fail at once."""

        def work(session: Session, caller: Caller) -> Response:
            auth = own_authorization(session, caller, auth_id)
            if auth.status == om.ACTIVE:
                services.revoke_authorization(
                    session, auth, "third party" if caller.token_class == C else "data custodian"
                )
            return Response(status_code=204)

        return await guarded(request, ("DELETE", "/Authorization/{id}"), work)

    add_customer_routes(router, settings, responder)
    add_management_routes(router, settings, responder)
    return router


def _application_fields(body: bytes) -> dict[str, list[str]] | None:
    """Element name -> texts of an ApplicationInformation document, or None."""
    from gbconnect.espi.xmlreader import parse_small

    root = parse_small(body)
    if root is None:
        return None
    tag = "{http://naesb.org/espi}ApplicationInformation"
    info = root if root.tag == tag else next(root.iter(tag), None)
    if info is None:
        return None
    fields: dict[str, list[str]] = {}
    for child in info:
        if isinstance(child.tag, str) and child.tag.startswith("{http://naesb.org/espi}"):
            name = child.tag.split("}", 1)[1]
            fields.setdefault(name, []).append((child.text or "").strip())
    return fields


def _status_of(body: bytes) -> int | None:
    """The ``status`` of an Authorization (bare or inside an Atom entry), or None."""
    from gbconnect.espi.xmlreader import parse_small

    root = parse_small(body)
    if root is None:
        return None
    for el in root.iter("{http://naesb.org/espi}status"):
        text = (el.text or "").strip()
        if text in ("0", "1", "2"):
            return int(text)
        return None
    return None
