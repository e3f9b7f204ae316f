"""The token endpoint's common successes without an ORM session (RFC 6749 sections
4.4 and 6; issue: performance).

A third party asks ``POST /oauth/token`` for a client access token
(``client_credentials``, section 4.4) or rotates its refresh token
(``refresh_token``, section 6) many times a day; through Authlib and the ORM each
such request cost about 5 ms of CPU (a profile: 1.2 ms client authentication and its
ORM query, 2.4 ms ``save_token``'s flushes) and, on PostgreSQL, a round trip per
flush. :class:`TokenFastPath` answers those two grants when everything about the
request is in order, in one worker-thread hop with one pooled connection: one Core
``SELECT`` finds the client (and, for a refresh, the token with its grant,
subscription and customer), the checks are made on that row, then the tokens are
written:

* on PostgreSQL, on the event loop through the application's row reader
  (:mod:`gbconnect.db.rowreader`: no thread hop, the read batched with the other reads
  of its loop turn), then in autocommit as one data-modifying ``WITH`` statement
  (retire the old refresh token, insert the new ones only if it was retired, extend
  the grant): atomic, and two round trips instead of eight (ping, BEGIN, SELECT,
  UPDATE, INSERT, INSERT, UPDATE, COMMIT). Without a reader (or when it cannot reach
  the database) the same statements run in a worker thread, or the reference answers;
* on SQLite, as Core ``INSERT``/``UPDATE`` in one short transaction, the process's
  writers queued on a lock (SQLite's busy handler sleeps 1, 2, 5, 10 ... ms when the
  file is locked: at c=32 that alone made a p99 of 150-230 ms).

Measured (``benchmarks/token_load.py``, wrk c=32 for 10 s, ratio to ``/livez`` of
the same server, a quiet 2-core machine): client_credentials 0.38 of ``/livez`` on
SQLite (p99 54 ms) and 0.85 on PostgreSQL (p99 30 ms); refresh_token 0.33 (p99 62 ms)
and 0.64 (p99 41 ms). Through Authlib and the ORM they were 0.11-0.20. SQLite's writes
stay in a worker thread: on the event loop a write waiting for the file's lock (held
by a worker process, say) would stop every request. The route is matched first
(:func:`gbconnect.oauth.routes.build_token_router`).

It decides only successes. Anything else (an unknown client, a wrong secret, a
refresh token unknown, expired, revoked or reused, a grant no longer active, a scope
not allowed, a third party on hold, a client certificate missing or not current
when GBCONNECT_MTLS asks for one, a form with a repeated field, a query string)
returns None, and the request goes the reference way
(:meth:`gbconnect.oauth.server.EspiAuthorizationServer.create_token_response`), which
answers it exactly as before: every refusal keeps its RFC 6749 section 5.2 status and
body, a reused refresh token still ends its family (RFC 9700 section 4.14.2), and the
first client_credentials request of a third party still creates its Authorization.
Only a request that the reference would answer 200 is answered here, with the same
body (the same fields in the same order:
:meth:`~gbconnect.oauth.server.EspiAuthorizationServer.generate_token_shape`,
:meth:`~gbconnect.oauth.server.EspiAuthorizationServer.add_resource_uris`) and the
same headers (``Cache-Control: no-store``, ``Pragma: no-cache``; Authlib's own
``default_json_headers`` through the server's ``handle_response``).

The checks are those of the reference, made once on the row:

* client authentication (RFC 6749 section 2.3.1) in Authlib's order:
  ``client_secret_basic`` (Authlib's own header parser), else ``client_secret_post``,
  else, for a refresh by a public client, ``none``; the secret compared with its
  stored SHA-256 in constant time (:func:`gbconnect.oauth.secrets.matches`); the
  third party neither on hold nor revoked; the grant type registered to it;
* ``client_credentials``: the scope (:func:`~gbconnect.oauth.server.check_client_scope`)
  and the third party's active client Authorization;
* ``refresh_token``: the refresh token of this client, live, of an active grant of a
  customer who may authorize the third party
  (:func:`gbconnect.oauth.services.may_authorize`), a scope within the granted one
  (:func:`~gbconnect.oauth.server.check_refresh_scope`). The old refresh token is
  retired by ``UPDATE ... WHERE revoked_at IS NULL``: of two requests racing with the
  same refresh token only one rotates it; the other goes the reference way, which
  sees a reused token and ends the family;
* the client certificate (GBCONNECT_MTLS, RFC 8705 section 2), read in the same
  ``SELECT`` and checked by :func:`gbconnect.oauth.mtls.token_request_refusal`, the
  reference's own rule; the access token is bound to it (``cnf_thumbprint``,
  section 3) as the reference binds it;
* then the client's rate limits (:mod:`gbconnect.ratelimit`), counted once, at the
  same point as the reference (after authentication, before anything is issued);
  beyond a limit :class:`~gbconnect.ratelimit.limits.RateLimited` is raised, the 429
  of the reference.

Tokens are stored as the reference stores them (SHA-256 of a 256-bit random value,
:func:`gbconnect.oauth.secrets.new_secret`), with the same columns.
"""

from __future__ import annotations

import threading
from collections.abc import Awaitable
from dataclasses import dataclass
from typing import Any

from authlib.consts import default_json_headers
from authlib.oauth2.rfc6749.errors import InvalidScopeError
from authlib.oauth2.rfc6749.util import extract_basic_authorization
from sqlalchemy import (
    BigInteger,
    Connection,
    Engine,
    Select,
    String,
    and_,
    bindparam,
    exists,
    func,
    insert,
    literal,
    select,
    union_all,
    update,
)
from starlette.concurrency import run_in_threadpool
from starlette.responses import Response

from gbconnect.config import Settings
from gbconnect.customer.models import RetailCustomer
from gbconnect.db.rowreader import DatabaseUnavailable, RowReader, Rows
from gbconnect.oauth import models as om
from gbconnect.oauth import mtls
from gbconnect.oauth.secrets import digest, matches, new_secret
from gbconnect.oauth.server import (
    EspiAuthorizationServer,
    check_client_scope,
    check_refresh_scope,
)
from gbconnect.oauth.services import CLIENT_SCOPE
from gbconnect.oauth.starlette import StarletteOAuth2Request
from gbconnect.ratelimit.limits import RateLimited, limiter_for
from gbconnect.registration import models as rm
from gbconnect.resource import now

CLIENT_CREDENTIALS, REFRESH_TOKEN = "client_credentials", "refresh_token"

_App = rm.ApplicationInformation
_Auth = om.Authorization
_Token = om.Token

_Cert = rm.ApplicationCertificate

_APP_COLUMNS = (
    _App.id.label("app_id"),
    _App.client_id,
    _App.client_secret_hash,
    _App.grant_types,
    _App.data_custodian_status,
    _App.company_id,
    # RFC 8705: the presented client certificate, as registered to the client.
    _Cert.id.label("cert_id"),
    _Cert.not_before.label("cert_not_before"),
    _Cert.not_after.label("cert_not_after"),
    _Cert.revoked_at.label("cert_revoked_at"),
)
_CERT_JOIN = and_(_Cert.application_id == _App.id, _Cert.thumbprint == bindparam("thumbprint"))

#: The client and its active client Authorization (the oldest, when there are several).
CLIENT_ROW = (
    select(
        *_APP_COLUMNS,
        _App.bulk_id,
        select(_Auth.id)
        .where(
            _Auth.application_id == _App.id,
            _Auth.token_class == om.CLIENT,
            _Auth.status == om.ACTIVE,
        )
        .order_by(_Auth.id)
        .limit(1)
        .scalar_subquery()
        .label("authorization_id"),
    )
    .select_from(_App.__table__.outerjoin(_Cert, _CERT_JOIN))
    .where(_App.client_id == bindparam("client_id"))
)

#: The refresh token of the client, with its grant, subscription and customer.
REFRESH_ROW = (
    select(
        *_APP_COLUMNS,
        _Token.id.label("token_id"),
        _Token.revoked_at.label("token_revoked_at"),
        _Token.expires_at.label("token_expires_at"),
        _Token.scope.label("token_scope"),
        _Auth.id.label("authorization_id"),
        _Auth.status.label("authorization_status"),
        _Auth.authorized_start,
        _Auth.authorized_duration,
        om.Subscription.id.label("subscription_id"),
        RetailCustomer.id.label("customer_id"),
        RetailCustomer.is_test,
    )
    .select_from(_Token)
    .join(_App, _App.id == _Token.application_id)
    .outerjoin(_Cert, _CERT_JOIN)
    .join(_Auth, _Auth.id == _Token.authorization_id)
    .outerjoin(om.Subscription, om.Subscription.authorization_id == _Auth.id)
    .outerjoin(RetailCustomer, RetailCustomer.id == _Auth.retail_customer_id)
    .where(
        _Token.token_hash == bindparam("token_hash"),
        _Token.kind == "refresh",
        _App.client_id == bindparam("client_id"),
    )
)

RETIRE = (
    update(_Token)
    .where(_Token.id == bindparam("old_id"), _Token.revoked_at.is_(None))
    .values(revoked_at=bindparam("at"))
)
SET_EXPIRY = (
    update(_Auth).where(_Auth.id == bindparam("auth_id")).values(expires_at=bindparam("expires"))
)


def _token_values(
    prefix: str, kind: str, token_class: str
) -> Select[str, str, str, int, int, str, int, int, str]:
    """One token row of bound values (``{prefix}_hash``, ``{prefix}_expires``)."""
    return select(
        bindparam(f"{prefix}_hash", type_=String),
        literal(kind, String),
        literal(token_class, String),
        bindparam("app_id", type_=BigInteger),
        bindparam("auth_id", type_=BigInteger),
        bindparam("new_scope", type_=String),
        bindparam("at", type_=BigInteger),
        bindparam(f"{prefix}_expires", type_=BigInteger),
        bindparam(f"{prefix}_cnf", type_=String),
    )


_TOKEN_COLUMNS = [
    "token_hash",
    "kind",
    "token_class",
    "application_id",
    "authorization_id",
    "scope",
    "issued_at",
    "expires_at",
    "cnf_thumbprint",
]


def _rotation_pg() -> Select[Any]:
    """PostgreSQL: the whole rotation as one statement (one round trip, atomic in
    autocommit): retire the old refresh token if it is still live, and only then
    insert the new access and refresh tokens and extend the grant. Returns how many
    refresh tokens were retired (0: another request rotated it first)."""
    retired = RETIRE.returning(_Token.id).cte("retired")
    claimed = exists(select(retired.c.id))
    rows = union_all(
        _token_values("access", "access", om.CUSTOMER).where(claimed),
        _token_values("refresh", "refresh", om.CUSTOMER).where(claimed),
    )
    issued = insert(_Token).from_select(_TOKEN_COLUMNS, rows).returning(_Token.id).cte("issued")
    extended = SET_EXPIRY.where(claimed).returning(_Auth.id).cte("extended")
    return select(func.count()).select_from(retired).add_cte(issued).add_cte(extended)


def _issue_pg() -> Select[Any]:
    """PostgreSQL: a client access token and the grant's new expiry as one statement."""
    issued = (
        insert(_Token)
        .from_select(_TOKEN_COLUMNS, _token_values("access", "access", om.CLIENT))
        .returning(_Token.id)
        .cte("issued")
    )
    extended = SET_EXPIRY.returning(_Auth.id).cte("extended")
    return select(func.count()).select_from(issued).add_cte(extended)


ROTATION_PG = _rotation_pg()
ISSUE_PG = _issue_pg()
#: The reads as the row reader takes them (PostgreSQL, on the event loop).
CLIENT_ROWS = Rows(CLIENT_ROW)  # type: ignore[arg-type]
REFRESH_ROWS = Rows(REFRESH_ROW)  # type: ignore[arg-type]


@dataclass(frozen=True)
class _Caller:
    """Who the rate limits count (:class:`gbconnect.ratelimit.limits.HasClientId`)."""

    client_id: str
    company_id: int | None


@dataclass(frozen=True)
class _Credentials:
    client_id: str
    secret: str | None  # None: a public client ("none")
    #: RFC 8705 ``x5t#S256`` of the client certificate presented (None: none, or
    #: GBCONNECT_MTLS off).
    presented: str | None = None


@dataclass(frozen=True)
class _Certificate:
    not_before: int
    not_after: int
    revoked_at: int | None


class TokenFastPath:
    """``client_credentials`` and ``refresh_token`` successes on Core statements."""

    def __init__(self, settings: Settings, engine: Engine, server: EspiAuthorizationServer):
        self.settings = settings
        self.engine = engine
        self.server = server
        self.postgres = engine.dialect.name == "postgresql"
        #: SQLite: one writer at a time in this process. A second writer would find
        #: the file locked and sleep in SQLite's busy handler (1, 2, 5, 10, ... ms):
        #: at c=32 that made a p99 of 100-200 ms; queued on a lock it waits a fraction
        #: of a millisecond.
        self._sqlite_writes = threading.Lock()

    async def respond(
        self, oreq: StarletteOAuth2Request, reader: RowReader | None = None
    ) -> Response | None:
        """The 200 answer to ``oreq``, or None: the reference path answers it. On
        PostgreSQL with the application's row ``reader``, on the event loop (no thread
        hop; the read batched with the others of its loop turn); otherwise in one trip
        to a worker thread."""
        on_loop = self.postgres and reader is not None
        if oreq.args or oreq.method != "POST":
            return None
        data = oreq.payload.data
        if any(len(values) > 1 for values in oreq.payload.datalist.values()):
            return None
        grant_type = data.get("grant_type")
        if grant_type not in (CLIENT_CREDENTIALS, REFRESH_TOKEN):
            return None
        credentials = _credentials(
            oreq,
            public_allowed=grant_type == REFRESH_TOKEN,
            presented=oreq.client_thumbprint if self.settings.mtls != mtls.OFF else None,
        )
        if credentials is None or len(credentials.client_id) > 64:
            return None
        asked = data.get("scope")
        if grant_type == CLIENT_CREDENTIALS:
            try:
                check_client_scope(asked)
            except InvalidScopeError:
                return None
            token = (
                await self._on_loop(self.aclient_credentials(reader, credentials))  # type: ignore[arg-type]
                if on_loop
                else await run_in_threadpool(self.client_credentials, credentials)
            )
        else:
            refresh = data.get("refresh_token")
            if not refresh or len(refresh) > 512:
                return None
            token = (
                await self._on_loop(self.arefresh(reader, credentials, refresh, asked))  # type: ignore[arg-type]
                if on_loop
                else await run_in_threadpool(self.refresh, credentials, refresh, asked)
            )
        if token is None:
            return None
        response: Response = self.server.handle_response(200, token, default_json_headers)
        return response

    @staticmethod
    async def _on_loop(grant: Awaitable[dict[str, Any] | None]) -> dict[str, Any] | None:
        """A grant on the event loop; when the database cannot be reached (or the
        reader is not open), None: the reference path answers, as it answers any
        database failure."""
        try:
            return await grant
        except DatabaseUnavailable:
            return None

    # -- the grants, in a worker thread ---------------------------------------------

    def _connect(self) -> Connection:
        """A connection of the engine's pool; on PostgreSQL in autocommit (no BEGIN,
        no COMMIT round trips: the writes are one statement)."""
        conn = self.engine.connect()
        if self.postgres:
            conn = conn.execution_options(isolation_level="AUTOCOMMIT")
        return conn

    def client_credentials(self, credentials: _Credentials) -> dict[str, Any] | None:
        """RFC 6749 section 4.4: a client access token, or None."""
        with self._connect() as conn:
            row = conn.execute(CLIENT_ROW, _client_params(credentials)).first()
            planned = self._client_plan(row, credentials)
            if planned is None:
                return None
            self._count(row)
            token, params = planned
            if self.postgres:
                conn.execute(ISSUE_PG, params)
            else:
                with self._sqlite_writes:
                    _insert(conn, params, "access", "access", om.CLIENT)
                    conn.execute(SET_EXPIRY, _only(params, "auth_id", "expires"))
                    conn.commit()
        return token

    async def aclient_credentials(
        self, reader: RowReader, credentials: _Credentials
    ) -> dict[str, Any] | None:
        """:meth:`client_credentials` on PostgreSQL through the row reader, on the event
        loop: the read batched with the others of its loop turn, the write one
        statement."""
        rows = await reader.all(CLIENT_ROWS, _client_params(credentials))
        row = rows[0] if rows else None
        planned = self._client_plan(row, credentials)
        if planned is None:
            return None
        await self._acount(row)
        token, params = planned
        await reader.execute(ISSUE_PG, params)
        return token

    def _client_plan(
        self, row: Any, credentials: _Credentials
    ) -> tuple[dict[str, Any], dict[str, Any]] | None:
        """The checks of a client_credentials request on its row; the token to answer
        (its resource URIs added) and the parameters of its writes, or None."""
        if row is None or row.authorization_id is None:
            return None
        at = now()
        if not _client_ok(row, credentials, CLIENT_CREDENTIALS):
            return None
        if not self._certificate_ok(row, credentials, at):
            return None
        token = self.server.generate_token_shape(CLIENT_CREDENTIALS, None)
        value = new_secret()
        expires = at + token["expires_in"]
        params = {
            "access_hash": digest(value),
            "app_id": row.app_id,
            "auth_id": row.authorization_id,
            "new_scope": CLIENT_SCOPE,
            "at": at,
            "access_expires": expires,
            "access_cnf": credentials.presented,
            "expires": expires,
        }
        token["access_token"] = value
        self.server.add_resource_uris(
            token, bulk_id=row.bulk_id, subscription_id=None, authorization_id=row.authorization_id
        )
        return token, params

    def refresh(
        self, credentials: _Credentials, refresh: str, asked: str | None
    ) -> dict[str, Any] | None:
        """RFC 6749 section 6 with rotation: new access and refresh tokens, the old
        refresh token retired; or None."""
        with self._connect() as conn:
            row = conn.execute(REFRESH_ROW, _refresh_params(credentials, refresh)).first()
            planned = self._refresh_plan(row, credentials, asked)
            if planned is None:
                return None
            self._count(row)
            token, params = planned
            if not self._rotate(conn, params):
                return None
        return token

    async def arefresh(
        self, reader: RowReader, credentials: _Credentials, refresh: str, asked: str | None
    ) -> dict[str, Any] | None:
        """:meth:`refresh` on PostgreSQL through the row reader, on the event loop."""
        rows = await reader.all(REFRESH_ROWS, _refresh_params(credentials, refresh))
        row = rows[0] if rows else None
        planned = self._refresh_plan(row, credentials, asked)
        if planned is None:
            return None
        await self._acount(row)
        token, params = planned
        if await reader.execute(ROTATION_PG, params) != 1:
            return None
        return token

    def _refresh_plan(
        self, row: Any, credentials: _Credentials, asked: str | None
    ) -> tuple[dict[str, Any], dict[str, Any]] | None:
        """The checks of a refresh on its row; the token to answer and the parameters
        of the rotation, or None."""
        at = now()
        if row is None or not _client_ok(row, credentials, REFRESH_TOKEN):
            return None
        if not self._certificate_ok(row, credentials, at):
            return None
        if not _refresh_ok(row, at):
            return None
        try:
            check_refresh_scope(asked, row.token_scope)
        except InvalidScopeError:
            return None
        scope = asked or row.token_scope
        token = self.server.generate_token_shape(REFRESH_TOKEN, None, scope=scope)
        access, fresh = new_secret(), new_secret()
        expires = at + token["expires_in"]
        params = {
            "old_id": row.token_id,
            "access_hash": digest(access),
            "refresh_hash": digest(fresh),
            "app_id": row.app_id,
            "auth_id": row.authorization_id,
            "new_scope": scope,
            "at": at,
            "access_expires": expires,
            "access_cnf": credentials.presented,
            "refresh_expires": at + self.settings.refresh_token_lifetime,
            "refresh_cnf": None,
            "expires": expires,
        }
        token["access_token"], token["refresh_token"] = access, fresh
        self.server.add_resource_uris(
            token,
            bulk_id=None,
            subscription_id=row.subscription_id,
            authorization_id=row.authorization_id,
        )
        return token, params

    def _rotate(self, conn: Connection, params: dict[str, Any]) -> bool:
        """Retire the old refresh token, issue the new pair and extend the grant, all
        or nothing; False when the old token was retired by another request first."""
        if self.postgres:
            return bool(conn.execute(ROTATION_PG, params).scalar_one() == 1)
        with self._sqlite_writes:
            # Claim the old refresh token first: of two racing requests one rotates it.
            if conn.execute(RETIRE, _only(params, "old_id", "at")).rowcount != 1:
                conn.rollback()
                return False
            _insert(conn, params, "access", "access", om.CUSTOMER)
            _insert(conn, params, "refresh", "refresh", om.CUSTOMER)
            conn.execute(SET_EXPIRY, _only(params, "auth_id", "expires"))
            conn.commit()
        return True

    def _certificate_ok(self, row: Any, credentials: _Credentials, at: int) -> bool:
        """The client certificate as the reference checks it (RFC 8705 section 2,
        :func:`gbconnect.oauth.mtls.token_request_refusal`). The access token issued
        is then bound to the certificate presented (section 3), as the reference
        binds it."""
        cert = (
            None
            if row.cert_id is None
            else _Certificate(row.cert_not_before, row.cert_not_after, row.cert_revoked_at)
        )
        why = mtls.token_request_refusal(
            self.settings.mtls, row.client_secret_hash is None, credentials.presented, cert, at
        )
        return why is None

    def _count(self, row: Any) -> None:
        """The client's rate limits, as the reference counts them; 429 beyond."""
        limiter = limiter_for(self.settings, self.engine)
        if limiter is not None:
            decision = limiter.check(_Caller(row.client_id, row.company_id))
            if not decision.allowed:
                raise RateLimited(decision)

    async def _acount(self, row: Any) -> None:
        """:meth:`_count` without blocking the event loop."""
        limiter = limiter_for(self.settings, self.engine)
        if limiter is not None:
            decision = await limiter.acheck(_Caller(row.client_id, row.company_id))
            if not decision.allowed:
                raise RateLimited(decision)


def _client_params(credentials: _Credentials) -> dict[str, Any]:
    return {"client_id": credentials.client_id, "thumbprint": credentials.presented}


def _refresh_params(credentials: _Credentials, refresh: str) -> dict[str, Any]:
    return {
        "token_hash": digest(refresh),
        "client_id": credentials.client_id,
        "thumbprint": credentials.presented,
    }


def _only(params: dict[str, Any], *names: str) -> dict[str, Any]:
    """The parameters an UPDATE names, and no other: a key named like a column would
    be added to its SET clause."""
    return {n: params[n] for n in names}


def _insert(
    conn: Connection, params: dict[str, Any], prefix: str, kind: str, token_class: str
) -> None:
    """Store one token by its hash (the columns of
    :func:`gbconnect.oauth.services.issue_token`)."""
    conn.execute(
        insert(_Token),
        {
            "token_hash": params[f"{prefix}_hash"],
            "kind": kind,
            "token_class": token_class,
            "application_id": params["app_id"],
            "authorization_id": params["auth_id"],
            "scope": params["new_scope"],
            "issued_at": params["at"],
            "expires_at": params[f"{prefix}_expires"],
            "cnf_thumbprint": params[f"{prefix}_cnf"],
        },
    )


def _credentials(
    oreq: StarletteOAuth2Request, public_allowed: bool, presented: str | None
) -> _Credentials | None:
    """The client's credentials by the first method Authlib would try that applies
    (``client_secret_basic``, ``client_secret_post``, then ``none`` when the grant
    allows public clients); None when none applies."""
    client_id, secret = extract_basic_authorization(oreq.headers)
    if client_id and secret:
        return _Credentials(client_id, secret, presented)
    form = oreq.form
    if form.get("client_id") and form.get("client_secret"):
        return _Credentials(form["client_id"], form["client_secret"], presented)
    data = oreq.payload.data
    if public_allowed and data.get("client_id") and not data.get("client_secret"):
        return _Credentials(data["client_id"], None, presented)
    return None


def _client_ok(row: Any, credentials: _Credentials, grant_type: str) -> bool:
    """The client authenticated by ``credentials``, neither held nor revoked, with
    ``grant_type`` registered (Client.check_client_secret, check_endpoint_auth_method
    and check_grant_type of :mod:`gbconnect.oauth.server`)."""
    if row.data_custodian_status in (rm.ON_HOLD, rm.REVOKED):
        return False
    if credentials.secret is None:
        authenticated = row.client_secret_hash is None  # "none": public clients only
    else:
        authenticated = matches(credentials.secret, row.client_secret_hash)
    return authenticated and grant_type in (row.grant_types or ())


def _refresh_ok(row: Any, at: int) -> bool:
    """The refresh token live, its grant active at ``at`` and of a customer who may
    authorize the third party (services.token_is_usable and may_authorize)."""
    if row.token_revoked_at is not None:
        return False
    if row.token_expires_at is not None and at >= row.token_expires_at:
        return False
    if row.authorization_status != om.ACTIVE or row.authorized_start > at:
        return False
    if row.authorized_duration is not None and at >= row.authorized_start + row.authorized_duration:
        return False
    if row.customer_id is None:
        return False
    return bool(row.data_custodian_status == rm.PRODUCTION or row.is_test)


__all__ = ["TokenFastPath"]
