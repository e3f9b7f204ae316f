"""The Connect My Data resources of a third party and of the data custodian (REQ.21
FB_3, FB_41, FB_44; STANDARD.md section 1): ReadServiceStatus, PG&E's
DownloadSampleData, ApplicationInformation and Authorization.

A registration token (FB_44) reads and manages its own ApplicationInformation; a
client token reads its third party's Authorizations and revokes them (MGA001/MGA002);
the admin token sees every one of both.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from fastapi import Request
from fastapi.responses import Response
from sqlalchemy import select

from gbconnect.api import documents, rowpath
from gbconnect.api.sample import sample_feed
from gbconnect.audit import Actor
from gbconnect.audit.record import OPERATOR, THIRD_PARTY
from gbconnect.config import Settings
from gbconnect.espi.atom import MEDIA_TYPE, entry, feed
from gbconnect.espi.xmlreader import parse_small
from gbconnect.oauth import models as om
from gbconnect.oauth import revocation, services
from gbconnect.oauth.clients import set_status
from gbconnect.oauth.guard import AccessDenied, Caller, NotFound
from gbconnect.registration import models as rm
from gbconnect.registration.errors import RegistrationError
from gbconnect.registration.services import UPDATABLE, update_application
from gbconnect.resource import now
from gbconnect.web.access import ADMIN, CLIENT, REGISTRATION, EspiRoutes
from gbconnect.web.serving import (
    XML_DECLARATION,
    Call,
    Prepared,
    page,
    serve,
    serve_row,
    standalone,
    whole,
)

ESPI_NS = "{http://naesb.org/espi}"

#: The third party's and the data custodian's resources.
routes = EspiRoutes()


def invalid(description: str) -> AccessDenied:
    """400 ``invalid_request``: a body that is not what the resource takes."""
    return AccessDenied(400, "invalid_request", description)


def xml(body: str) -> Response:
    return Response(body, media_type=MEDIA_TYPE)


def small_feed(
    call: Call, kind: str, items: Sequence[Any], write: Callable[[Any], str]
) -> Prepared:
    """The feed ``{base}/{kind}`` of ``items`` written by ``write``, paged by
    ``start-index`` and ``max-results`` (FB_37): small, so made whole (its ETag then
    covers its body)."""
    modified = max((i.updated for i in items), default=None)
    body = "".join(
        feed(
            self_href=call.settings.resource_url(kind),
            title=kind,
            updated=modified or now(),
            entries=[write(i) for i in page(iter(items), call.query)],
        )
    )
    return whole(body, modified)


# -- ReadServiceStatus and DownloadSampleData ---------------------------------------------


@routes.get("/ReadServiceStatus", allow={CLIENT, ADMIN})
async def get_service_status(request: Request) -> Response:
    """FND006: the service's status (1 = up)."""
    return await serve(request, lambda call: whole(XML_DECLARATION + documents.service_status()))


@routes.get("/DownloadSampleData", allow={CLIENT})
async def get_sample_data(request: Request) -> Response:
    """PG&E's connectivity test, last step: a sample Green Button feed (synthetic)."""
    return await serve(
        request,
        lambda call: whole(sample_feed(call.settings.public_resource_base, call.settings.timezone)),
    )


# -- ApplicationInformation ---------------------------------------------------------------


def application_entry(settings: Settings, app: rm.ApplicationInformation) -> str:
    return entry(
        self_href=settings.resource_url(f"ApplicationInformation/{app.id}"),
        up_href=settings.resource_url("ApplicationInformation"),
        title=app.client_name,
        published=app.published,
        updated=app.updated,
        content=documents.application_information(app, settings),
    )


#: espi.xsd TokenEndPointMethod and GrantType: the values an ESPI document can state.
ESPI_AUTH_METHOD = "client_secret_basic"
ESPI_GRANT_TYPES = frozenset({"authorization_code", "client_credentials", "refresh_token"})


def described_by_espi(app: rm.ApplicationInformation) -> bool:
    """True when espi.xsd can describe ``app`` truthfully: a confidential client
    (``token_endpoint_auth_method`` has the one value ``client_secret_basic``) with at
    least two ESPI grant types (``grant_types`` minOccurs 2).

    A public client (RFC 8252 native application, PKCE only: method ``none``) is not
    an ESPI third party: its registration is read and managed only through RFC 7592
    (``registration_client_uri`` of its RFC 7591 answer, ``/oauth/register/...``),
    which states its method truthfully; the ESPI ApplicationInformation resource
    leaves it out (404, not in the feed) rather than serve an invalid document."""
    return (
        app.token_endpoint_auth_method == ESPI_AUTH_METHOD
        and len(set(app.grant_types) & ESPI_GRANT_TYPES) >= 2
    )


def own_application(call: Call, app_id: int) -> rm.ApplicationInformation:
    """ApplicationInformation ``app_id``: any for the admin token, its own for a
    registration token (404 otherwise, and for one espi.xsd cannot describe)."""
    app = call.session.get(rm.ApplicationInformation, app_id)
    caller = call.caller
    if app is None or (caller.token_class == REGISTRATION and caller.application_id != app.id):
        raise NotFound()
    if not described_by_espi(app):
        raise NotFound()
    return app


def application_fields(body: bytes) -> dict[str, list[str]] | None:
    """Element name -> texts of an ApplicationInformation document (bare or in an Atom
    entry), or None when the body is not one."""
    root = parse_small(body)
    if root is None:
        return None
    tag = ESPI_NS + "ApplicationInformation"
    info = root if root.tag == tag else next(root.iter(tag), None)
    if info is None:
        return None
    fields: dict[str, list[str]] = {}
    for child in info:
        if isinstance(child.tag, str) and child.tag.startswith(ESPI_NS):
            name = child.tag.split("}", 1)[1]
            fields.setdefault(name, []).append((child.text or "").strip())
    return fields


#: ApplicationInformation elements a third party may write (MGT001, RFC 7592 section
#: 2.2); every other element the document shows is read-only.
WRITABLE = frozenset(UPDATABLE) | {
    "redirect_uri",
    "contacts",
    "thirdPartyApplicationStatus",
    "scope",
}
#: Secrets shown empty (never readable again): :func:`update_application` judges them.
SECRETS = frozenset({"client_secret", "registration_access_token"})


def unchanged_read_only_removed(
    fields: dict[str, list[str]], app: rm.ApplicationInformation, settings: Settings
) -> dict[str, list[str]]:
    """``fields`` without the read-only elements that repeat what the document shows
    (MGT001: a PUT of the unchanged GET body is accepted, RFC 7592 section 2.2 asks
    the client to send every field); 400 ``invalid_client_metadata`` naming a
    read-only element whose value differs."""
    served = application_fields(documents.application_information(app, settings).encode())
    assert served is not None
    kept: dict[str, list[str]] = {}
    for name, values in fields.items():
        if name in WRITABLE or name in SECRETS or name not in served:
            kept[name] = values
        elif values != served[name]:
            raise AccessDenied(400, "invalid_client_metadata", f"{name} cannot be changed")
    return kept


def application_feed(call: Call) -> Prepared:
    model = rm.ApplicationInformation
    rows = call.session.scalars(select(model).order_by(model.id))
    apps = [app for app in rows if described_by_espi(app)]
    settings = call.settings
    return small_feed(
        call, "ApplicationInformation", apps, lambda a: application_entry(settings, a)
    )


def application_document(call: Call, app_id: int) -> Prepared:
    """FND002 (with a registration token)."""
    app = own_application(call, app_id)
    return whole(standalone(application_entry(call.settings, app)), app.updated)


def update_registration(call: Call, app_id: int, body: bytes) -> Response:
    """MGT001: a third party updates its registration with its registration access
    token (FB_44); the body is an ApplicationInformation (bare or in an Atom entry)
    holding the elements to change."""
    app = own_application(call, app_id)
    fields = application_fields(body)
    if fields is None:
        raise invalid("the body must be an ApplicationInformation document")
    fields = unchanged_read_only_removed(fields, app, call.settings)
    try:
        by = "third party" if call.caller.token_class == REGISTRATION else "data custodian"
        update_application(call.session, call.settings, app, fields, by=by)
    except RegistrationError as exc:
        raise AccessDenied(400, exc.error, str(exc)) from None
    return xml(standalone(application_entry(call.settings, app)))


def withdraw_registration(call: Call, app_id: int) -> Response:
    """MGT: a third party withdraws its registration (or the utility revokes it):
    every token and authorization of it ends at once."""
    app = own_application(call, app_id)
    if call.caller.token_class == REGISTRATION:
        app.third_party_status = 4  # retired
        actor = Actor(THIRD_PARTY, app.client_id)
        reason = "withdrawn by the third party"
    else:
        actor, reason = Actor(OPERATOR, "admin token"), None
    set_status(call.session, app, rm.REVOKED, reason, actor)
    return Response(status_code=204)


@routes.get("/ApplicationInformation", allow={ADMIN})
async def get_application_feed(request: Request) -> Response:
    return await serve(request, application_feed)


@routes.get("/ApplicationInformation/{app_id}", allow={REGISTRATION, ADMIN})
async def get_application(request: Request, app_id: int) -> Response:
    return await serve(request, lambda call: application_document(call, app_id))


@routes.put("/ApplicationInformation/{app_id}", allow={REGISTRATION, ADMIN})
async def put_application(request: Request, app_id: int) -> Response:
    body = await request.body()
    return await serve(request, lambda call: update_registration(call, app_id, body))


@routes.delete("/ApplicationInformation/{app_id}", allow={REGISTRATION, ADMIN})
async def delete_application(request: Request, app_id: int) -> Response:
    return await serve(request, lambda call: withdraw_registration(call, app_id))


# -- Authorization ------------------------------------------------------------------------


def authorization_entry(settings: Settings, auth: om.Authorization) -> str:
    """The Atom entry of a stored Authorization."""
    return documents.authorization_entry(
        settings,
        auth,
        bulk_id=auth.application.bulk_id if auth.token_class == CLIENT else None,
        subscription_id=auth.subscription.id if auth.subscription is not None else None,
    )


def own_authorization(call: Call, auth_id: int) -> om.Authorization:
    """Authorization ``auth_id``: any for the admin token, its third party's for a
    client token (404 otherwise)."""
    auth = call.session.get(om.Authorization, auth_id)
    caller = call.caller
    if auth is None or (
        caller.token_class == CLIENT and auth.application_id != caller.application_id
    ):
        raise NotFound()
    return auth


def status_of(body: bytes) -> int | None:
    """The ``status`` of an Authorization (bare or inside an Atom entry), or None."""
    root = parse_small(body)
    if root is None:
        return None
    for el in root.iter(ESPI_NS + "status"):
        text = (el.text or "").strip()
        return int(text) if text in ("0", "1", "2") else None
    return None


def revoked_by(caller: Caller) -> str:
    return "third party" if caller.token_class == CLIENT else "data custodian"


def authorization_feed(call: Call) -> Prepared:
    """FND003: the third party's authorizations (all of them for the admin)."""
    if call.caller.token_class == ADMIN:
        auths = services.authorizations_of(call.session)
    else:
        auths = services.authorizations_of(call.session, application_id=call.caller.application_id)
    settings = call.settings
    return small_feed(call, "Authorization", auths, lambda a: authorization_entry(settings, a))


def authorization_document(call: Call, auth_id: int) -> Prepared:
    """FND004 and OFA001."""
    auth = own_authorization(call, auth_id)
    return whole(standalone(authorization_entry(call.settings, auth)), auth.updated)


def update_authorization(call: Call, auth_id: int, body: bytes) -> Response:
    """MGA001: a third party updates an Authorization. What it may change is what
    narrows the grant: ``status`` 0 revokes it; anything else is refused."""
    auth = own_authorization(call, auth_id)
    status = status_of(body)
    if status is None:
        raise invalid("the body must be an Authorization with a status")
    if status == om.REVOKED:
        revocation.revoke_authorization(call.session, auth, revoked_by(call.caller))
    elif status != auth.status:
        raise invalid("an Authorization can only be revoked this way")
    return xml(standalone(authorization_entry(call.settings, auth)))


def revoke_authorization(call: Call, auth_id: int) -> Response:
    """MGA002: revocation by the third party; its tokens fail at once."""
    auth = own_authorization(call, auth_id)
    revocation.revoke_authorization(call.session, auth, revoked_by(call.caller))
    return Response(status_code=204)


@routes.get("/Authorization", allow={CLIENT, ADMIN})
async def get_authorization_feed(request: Request) -> Response:
    return await serve(request, authorization_feed)


@routes.get("/Authorization/{auth_id}", allow={CLIENT, ADMIN})
async def get_authorization(request: Request, auth_id: int) -> Response:
    """FND004: on the row path for a client token, the session path for the admin's."""
    settings = request.app.state.settings
    return await serve_row(
        request,
        rowpath.AUTHORIZATION,
        {"auth": auth_id},
        lambda caller, row, _: rowpath.authorization(settings, caller, row),
        lambda call: authorization_document(call, auth_id),
        {CLIENT},
    )


@routes.put("/Authorization/{auth_id}", allow={CLIENT, ADMIN})
async def put_authorization(request: Request, auth_id: int) -> Response:
    body = await request.body()
    return await serve(request, lambda call: update_authorization(call, auth_id, body))


@routes.delete("/Authorization/{auth_id}", allow={CLIENT, ADMIN})
async def delete_authorization(request: Request, auth_id: int) -> Response:
    return await serve(request, lambda call: revoke_authorization(call, auth_id))
