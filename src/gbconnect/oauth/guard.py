"""Bearer tokens on the ESPI API (RFC 6750) and the token classes of REQ.21.

:func:`authenticate` finds the caller of a request; a route then says which token
classes it admits (STANDARD.md section 1). No token: 401. A malformed, unknown,
expired or revoked token, or one whose grant was revoked: 401 ``invalid_token``. A
token of the wrong class: 403 ``insufficient_scope``. A resource of someone else:
404, so that ids cannot be probed.
"""

from __future__ import annotations

from collections.abc import Set as AbstractSet
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Select, String, and_, bindparam, select
from sqlalchemy.orm import Session
from starlette.requests import Request

from gbconnect.db.rowreader import Pair
from gbconnect.errors import AccessError
from gbconnect.oauth import models as om
from gbconnect.oauth import mtls
from gbconnect.oauth.bearer import bearer_token
from gbconnect.oauth.secrets import digest
from gbconnect.registration import models as rm
from gbconnect.resource import now


class AccessDenied(AccessError):
    """An API request refused (RFC 6750 section 3), rendered by
    :func:`gbconnect.web.errors.api_error`. ``error`` None: a request without a token,
    whose challenge names no error (section 3.1) and whose body says ``unauthorized``."""

    def __init__(self, status: int, error: str | None, description: str) -> None:
        super().__init__(description)
        self.status = status
        self.error = error or "unauthorized"
        self.challenge_error = error


class NotFound(AccessDenied):
    """404: a resource that does not exist or that the token may not see (the same
    answer, so that ids cannot be probed). Raise a new one each time."""

    def __init__(self, description: str = "no such resource") -> None:
        super().__init__(404, "not_found", description)


@dataclass
class GrantView:
    """The Authorization behind a token, as one query read it (no ORM objects).
    ``scope`` is the token's own scope (narrower than the Authorization's after a
    refresh that narrowed it, RFC 6749 section 6), the Authorization's otherwise."""

    id: int
    status: int
    authorized_start: int
    authorized_duration: int | None
    published_start: int | None
    scope: str
    updated: int
    subscription_id: int | None

    def is_active(self, at: int) -> bool:
        end = (
            None
            if self.authorized_duration is None
            else self.authorized_start + self.authorized_duration
        )
        return (
            self.status == om.ACTIVE and self.authorized_start <= at and (end is None or at < end)
        )


@dataclass
class Caller:
    """Who is calling: the token's class, third party and grant."""

    token_id: int
    token_class: str
    application_id: int | None
    grant: GrantView | None
    session: Session | None  # None on the session-less hot path (gbconnect.db.rowreader)
    #: The third party's client id ("" for the utility's own tokens): what the rate
    #: limits count by (gbconnect.ratelimit).
    client_id: str = ""
    #: The company that owns the application (the third-party portal's), if any: the
    #: "vendor" of the per-vendor limit.
    company_id: int | None = None

    @property
    def authorization(self) -> om.Authorization | None:
        """The grant as an ORM object (loaded on first use)."""
        if self.grant is None:
            return None
        if self.session is None:
            raise RuntimeError("no session to load the authorization in")
        return self.session.get(om.Authorization, self.grant.id)


_T, _A, _S, _APP, _CERT = (
    om.Token.__table__,
    om.Authorization.__table__,
    om.Subscription.__table__,
    rm.ApplicationInformation.__table__,
    rm.ApplicationCertificate.__table__,
)
#: The token, its third party and its grant in one row, with the client certificate
#: the request presented (bound as ``cert_thumbprint``, None for none) as registered
#: to the token's application (RFC 8705; :func:`gbconnect.oauth.mtls.refusal`): an
#: outer join on a unique index, no further query. Columns carry a ``token_``,
#: ``app_``, ``grant_``, ``subscription_`` or ``cert_`` prefix so that
#: :func:`with_token` can put a resource's own columns beside them.
_LOOKUP = (
    select(
        _T.c.id.label("token_id"),
        _T.c.token_class.label("token_class"),
        _T.c.application_id.label("token_application_id"),
        _T.c.expires_at.label("token_expires_at"),
        _T.c.revoked_at.label("token_revoked_at"),
        _T.c.scope.label("token_scope"),
        _T.c.cnf_thumbprint.label("token_cnf"),
        _APP.c.data_custodian_status.label("app_status"),
        _APP.c.client_id.label("app_client_id"),
        _APP.c.company_id.label("app_company_id"),
        _A.c.id.label("grant_id"),
        _A.c.status.label("grant_status"),
        _A.c.authorized_start.label("grant_authorized_start"),
        _A.c.authorized_duration.label("grant_authorized_duration"),
        _A.c.published_start.label("grant_published_start"),
        _A.c.scope.label("grant_scope"),
        _A.c.updated.label("grant_updated"),
        _S.c.id.label("subscription_id"),
        _CERT.c.id.label("cert_id"),
        _CERT.c.not_before.label("cert_not_before"),
        _CERT.c.not_after.label("cert_not_after"),
        _CERT.c.revoked_at.label("cert_revoked_at"),
    )
    .select_from(
        _T.outerjoin(_APP, _APP.c.id == _T.c.application_id)
        .outerjoin(_A, _A.c.id == _T.c.authorization_id)
        .outerjoin(_S, _S.c.authorization_id == _A.c.id)
        .outerjoin(
            _CERT,
            and_(
                _CERT.c.thumbprint == bindparam("cert_thumbprint", type_=String(43)),
                _CERT.c.application_id == _T.c.application_id,
            ),
        )
    )
    .where(_T.c.token_hash == bindparam("token_hash"), _T.c.kind == "access")
)


#: The token classes a client certificate goes with (PG&E: client and customer
#: access tokens); registration and the utility's own tokens need none.
_CERTIFIED = frozenset({om.CUSTOMER, om.CLIENT})


def with_token(resource: Select[Any]) -> Pair:
    """The token (bound as ``token_hash``, the presented certificate's thumbprint as
    ``cert_thumbprint``) and ``resource`` read as one row
    (:class:`~gbconnect.db.rowreader.Pair`): no row when the token does not exist, the
    resource's columns None when it does not. ``resource`` must not depend on the
    token and its column names must not start with the lookup's prefixes."""
    return Pair(_LOOKUP, resource)


def token_digest(request: Request) -> str:
    """The stored digest of the request's Bearer token (RFC 6750 section 2.1); 401
    when there is none or it is malformed."""
    header = request.headers.get("authorization")
    if not header:
        raise AccessDenied(401, None, "an access token is required")
    token = bearer_token(header)
    if token is None:
        raise AccessDenied(401, "invalid_request", "the Authorization header is not a Bearer token")
    return digest(token)


def caller_of(
    row: Any,
    allowed: AbstractSet[str],
    session: Session | None,
    presented: str | None = None,
    mtls_mode: str = mtls.OFF,
) -> Caller:
    """The caller described by a row of the token lookup, if its token is usable and
    of an ``allowed`` class (REQ.21 token classes; RFC 6750 section 3.1 errors), and
    the client certificate ``presented`` (its thumbprint) fits the token under
    GBCONNECT_MTLS ``mtls_mode`` (RFC 8705: :func:`gbconnect.oauth.mtls.refusal`)."""
    at = now()
    invalid = AccessDenied(401, "invalid_token", "the access token is invalid, expired or revoked")
    if (
        row is None
        or row.token_id is None
        or row.token_revoked_at is not None
        or (row.token_expires_at is not None and at >= row.token_expires_at)
    ):
        raise invalid
    status = row.app_status
    if status in (rm.ON_HOLD, rm.REVOKED) and not (
        row.token_class == om.REGISTRATION and status == rm.ON_HOLD
    ):
        raise invalid
    grant = None
    if row.grant_id is not None:
        grant = GrantView(
            row.grant_id,
            row.grant_status,
            row.grant_authorized_start,
            row.grant_authorized_duration,
            row.grant_published_start,
            # The token's own scope: narrower than the grant's after a narrowing
            # refresh (RFC 6749 section 6); the grant's for a token stored without one.
            row.token_scope or row.grant_scope,
            row.grant_updated,
            row.subscription_id,
        )
        if not grant.is_active(at):
            raise invalid
    if row.token_class in _CERTIFIED:
        refused = mtls.refusal(row, presented, mtls_mode, at)
        if refused is not None:
            raise AccessDenied(401, *refused)
    if row.token_class not in allowed:
        raise AccessDenied(403, "insufficient_scope", "this token class may not use this resource")
    return Caller(
        row.token_id,
        row.token_class,
        row.token_application_id,
        grant,
        session,
        row.app_client_id or "",
        row.app_company_id,
    )


def authenticate(
    request: Request,
    session: Session,
    allowed: AbstractSet[str],
    presented: str | None = None,
    mtls_mode: str = mtls.OFF,
) -> Caller:
    """The caller of ``request`` if its token is usable and of an ``allowed`` class
    and fits the client certificate ``presented`` (one query: token, third party,
    grant and certificate together)."""
    hashed = token_digest(request)
    row = (
        session.connection()
        .execute(_LOOKUP, {"token_hash": hashed, "cert_thumbprint": presented})
        .first()
    )
    return caller_of(row, allowed, session, presented, mtls_mode)
