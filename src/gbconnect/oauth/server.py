"""The authorization server: Authlib's OAuth 2.0 core with ESPI's rules.

- RFC 6749 authorization_code (with PKCE, RFC 7636, S256 only: required of public
  clients, accepted from confidential ones), refresh_token (rotated: the old refresh
  token dies at once; access tokens issued before live until they expire, as GBA
  OAD013 now reads; a rotated refresh token presented again ends its whole family,
  RFC 9700 section 4.14.2) and client_credentials (scope ``FB=34_35``);
- a third party the utility has not approved yet gets customer tokens only for test
  customers (:func:`gbconnect.oauth.services.may_authorize`);
- RFC 7009 revocation and RFC 7662 introspection;
- ESPI token responses carry ``resourceURI`` and ``authorizationURI`` (REQ.21 2.x).

Authlib calls are synchronous; :mod:`gbconnect.oauth.routes` runs them in the thread
pool with a database session current for the call (:mod:`gbconnect.oauth.context`).
Every token or grant that ends here ends through :mod:`gbconnect.oauth.revocation`.
"""

from __future__ import annotations

import threading
from typing import Any, ClassVar

from authlib.oauth2 import rfc6749
from authlib.oauth2.rfc6749 import AuthorizationServer, ClientMixin, TokenMixin, grants
from authlib.oauth2.rfc6749.errors import InvalidRequestError, InvalidScopeError
from authlib.oauth2.rfc7009 import RevocationEndpoint
from authlib.oauth2.rfc7636 import CodeChallenge
from authlib.oauth2.rfc7662 import IntrospectionEndpoint
from sqlalchemy import select
from starlette.responses import JSONResponse, Response

from gbconnect.config import Settings
from gbconnect.customer.models import RetailCustomer
from gbconnect.espi import scope as espi_scope
from gbconnect.espi.blocks import not_offered
from gbconnect.oauth import models as om
from gbconnect.oauth import mtls, revocation, services
from gbconnect.oauth.context import CURRENT_SESSION, current_session
from gbconnect.oauth.secrets import digest, matches
from gbconnect.ratelimit.limits import RateLimited, limiter_for
from gbconnect.registration import models as rm
from gbconnect.resource import now

# -- model adapters -----------------------------------------------------------------------


class Client(ClientMixin):  # type: ignore[misc]
    """An ApplicationInformation seen as an OAuth client."""

    def __init__(self, app: rm.ApplicationInformation) -> None:
        self.app = app
        self.client_id = app.client_id

    def get_client_id(self) -> str:
        return self.app.client_id

    def get_default_redirect_uri(self) -> str | None:
        return self.app.redirect_uris[0] if self.app.redirect_uris else None

    def get_allowed_scope(self, scope: str | None) -> str | None:
        """The requested scope when it falls within a registered one (the first
        registered scope when none is asked); None otherwise."""
        if not scope:
            return self.app.scopes[0] if self.app.scopes else None
        try:
            asked = espi_scope.parse(scope)
        except espi_scope.ScopeError:
            return None
        for registered in self.app.scopes:
            # Registration stores parsed scopes only; one that no longer reads grants nothing.
            try:
                cap = espi_scope.parse(registered)
            except espi_scope.ScopeError:
                continue
            if asked.within(cap):
                return str(asked)
        return None

    def check_redirect_uri(self, redirect_uri: str) -> bool:
        """Exact string match (RFC 6749 section 3.1.2.3; no prefix matching)."""
        return redirect_uri in self.app.redirect_uris

    def check_client_secret(self, client_secret: str) -> bool:
        return matches(client_secret, self.app.client_secret_hash)

    def check_endpoint_auth_method(self, method: str, endpoint: str) -> bool:
        if self.app.is_public:
            return method == "none"
        return method in ("client_secret_basic", "client_secret_post")

    def check_response_type(self, response_type: str) -> bool:
        return response_type in self.app.response_types

    def check_grant_type(self, grant_type: str) -> bool:
        return grant_type in self.app.grant_types


class CodeRecord(rfc6749.AuthorizationCodeMixin):  # type: ignore[misc]
    def __init__(self, row: om.AuthorizationCode) -> None:
        self.row = row

    def get_redirect_uri(self) -> str | None:
        return self.row.redirect_uri or None

    def get_scope(self) -> str:
        return self.row.scope


class TokenRecord(TokenMixin):  # type: ignore[misc]
    def __init__(self, row: om.Token) -> None:
        self.row = row

    def check_client(self, client: Client) -> bool:
        return self.row.application_id == client.app.id

    def get_scope(self) -> str:
        return self.row.scope

    def get_expires_in(self) -> int:
        if self.row.expires_at is None:
            return 0
        return max(0, self.row.expires_at - self.row.issued_at)

    def is_expired(self) -> bool:
        return self.row.expires_at is not None and now() >= self.row.expires_at

    def is_revoked(self) -> bool:
        return self.row.revoked_at is not None

    def get_user(self) -> RetailCustomer | None:
        auth = self.row.authorization
        if auth is None or auth.retail_customer_id is None:
            return None
        return current_session().get(RetailCustomer, auth.retail_customer_id)

    def get_client(self) -> Client | None:
        app = self.row.application
        return Client(app) if app is not None else None


# -- grants -------------------------------------------------------------------------------


def _authorizing(client: Client, customer: RetailCustomer | None) -> RetailCustomer | None:
    """``customer`` if it may authorize ``client`` (None otherwise: the grant fails)."""
    if customer is None or not services.may_authorize(client.app, customer):
        return None
    return customer


_CONFIDENTIAL = ["client_secret_basic", "client_secret_post"]


def check_refresh_scope(asked: str | None, granted: str) -> None:
    """A refresh may narrow the scope of its grant, never widen it (RFC 6749 section
    6: the scope asked must be within the one granted; none asked is the one
    granted). ``invalid_scope`` otherwise."""
    if not asked:
        return
    try:
        if espi_scope.parse(asked).within(espi_scope.parse(granted)):
            return
    except espi_scope.ScopeError:
        pass
    raise InvalidScopeError()


def check_client_scope(asked: str | None) -> None:
    """The scope a client_credentials request may name: ``FB=34_35`` or part of it,
    or none (:class:`ClientCredentialsGrant`). ``invalid_scope`` otherwise."""
    if not asked:
        return
    try:
        parsed = espi_scope.parse(asked)
    except espi_scope.ScopeError as exc:
        raise InvalidScopeError(str(exc)) from None
    if parsed.get("FB") is None or not parsed.within(espi_scope.parse(services.CLIENT_SCOPE)):
        raise InvalidScopeError(f"a client access token has the scope {services.CLIENT_SCOPE}")


class AuthorizationCodeGrant(grants.AuthorizationCodeGrant):  # type: ignore[misc]
    """RFC 6749 section 4.1 with ESPI's consent: the code carries the Authorization
    the customer just created and the scope the customer granted."""

    TOKEN_ENDPOINT_AUTH_METHODS: ClassVar[list[str]] = [*_CONFIDENTIAL, "none"]

    def save_authorization_code(self, code: str, request: Any) -> None:
        consent = request.consent
        t = now()
        settings: Settings = self.server.settings
        current_session().add(
            om.AuthorizationCode(
                code_hash=digest(code),
                application_id=request.client.app.id,
                authorization_id=consent.authorization_id,
                retail_customer_id=request.user.id,
                redirect_uri=request.payload.redirect_uri or "",
                scope=consent.scope,
                code_challenge=request.payload.data.get("code_challenge"),
                code_challenge_method=request.payload.data.get("code_challenge_method"),
                issued_at=t,
                expires_at=t + settings.code_lifetime,
            )
        )
        current_session().flush()

    def query_authorization_code(self, code: str, client: Client) -> CodeRecord | None:
        session = current_session()
        row = session.scalars(
            select(om.AuthorizationCode).where(
                om.AuthorizationCode.code_hash == digest(code),
                om.AuthorizationCode.application_id == client.app.id,
            )
        ).one_or_none()
        if row is None:
            return None
        if row.used_at is not None:
            # RFC 6749 section 4.1.2: a code used twice revokes what it issued.
            revocation.revoke_code_tokens(session, row.id)
            return None
        if now() >= row.expires_at:
            return None
        auth = session.get(om.Authorization, row.authorization_id)
        if auth is None or not auth.is_active(now()):
            return None
        return CodeRecord(row)

    def delete_authorization_code(self, authorization_code: CodeRecord) -> None:
        authorization_code.row.used_at = now()  # kept to detect reuse
        current_session().flush()

    def authenticate_user(self, authorization_code: CodeRecord) -> RetailCustomer | None:
        """The customer who consented, while that customer may still authorize this
        third party (:func:`gbconnect.oauth.services.may_authorize`: a third party not
        approved yet gets tokens only from test customers)."""
        customer = current_session().get(RetailCustomer, authorization_code.row.retail_customer_id)
        return _authorizing(self.request.client, customer)


class S256CodeChallenge(CodeChallenge):  # type: ignore[misc]
    """RFC 7636 with ``S256`` only; public clients must use it."""

    SUPPORTED_CODE_CHALLENGE_METHOD: ClassVar[list[str]] = ["S256"]
    DEFAULT_CODE_CHALLENGE_METHOD = "S256"

    def validate_code_challenge(self, grant: Any, redirect_uri: str) -> None:
        data = grant.request.payload.data
        challenge = data.get("code_challenge")
        if challenge and data.get("code_challenge_method") != "S256":
            raise InvalidRequestError("code_challenge_method must be S256")
        if not challenge and grant.request.client.app.is_public:
            raise InvalidRequestError("public clients must send a code_challenge (PKCE, S256)")
        super().validate_code_challenge(grant, redirect_uri)

    def get_authorization_code_challenge(self, authorization_code: CodeRecord) -> str | None:
        return authorization_code.row.code_challenge

    def get_authorization_code_challenge_method(self, authorization_code: CodeRecord) -> str | None:
        return authorization_code.row.code_challenge_method


class RefreshTokenGrant(grants.RefreshTokenGrant):  # type: ignore[misc]
    """RFC 6749 section 6 with rotation (RFC 9700 section 4.14.2)."""

    TOKEN_ENDPOINT_AUTH_METHODS: ClassVar[list[str]] = [*_CONFIDENTIAL, "none"]
    INCLUDE_NEW_REFRESH_TOKEN = True

    def authenticate_refresh_token(self, refresh_token: str) -> TokenRecord | None:
        """The live refresh token of this client. A rotated (already used or revoked)
        refresh token presented again by its client is a sign that it leaked: the
        whole family of its grant is revoked (RFC 9700 section 4.14.2;
        :func:`gbconnect.oauth.revocation.revoke_token_family`)."""
        session = current_session()
        row = services.find_token(session, refresh_token, kind="refresh")
        if row is None:
            return None
        if row.revoked_at is not None and row.application_id == self.request.client.app.id:
            revocation.revoke_token_family(session, row)
            return None
        if not services.token_is_usable(session, row, now()):
            return None
        record = TokenRecord(row)
        user = record.get_user()
        if user is not None and _authorizing(self.request.client, user) is None:
            return None
        return record

    def authenticate_user(self, refresh_token: TokenRecord) -> RetailCustomer | None:
        return _authorizing(self.request.client, refresh_token.get_user())

    def revoke_old_credential(self, refresh_token: TokenRecord) -> None:
        revocation.retire_refresh_token(current_session(), refresh_token.row)

    def _validate_token_scope(self, token: TokenRecord) -> None:
        check_refresh_scope(self.request.payload.scope, token.get_scope())


class ClientCredentialsGrant(grants.ClientCredentialsGrant):  # type: ignore[misc]
    """RFC 6749 section 4.4. A client access token always has the scope ``FB=34_35``
    (bulk; STANDARD.md section 2): a request may name that scope or part of it, or
    none; anything else is ``invalid_scope``. It is not checked against the customer
    scopes the third party registered nor the blocks offered for customer data."""

    TOKEN_ENDPOINT_AUTH_METHODS = _CONFIDENTIAL

    def validate_requested_scope(self) -> None:
        check_client_scope(self.request.payload.scope)


# -- endpoints ----------------------------------------------------------------------------


class Revocation(RevocationEndpoint):  # type: ignore[misc]
    """RFC 7009. Revoking a refresh token also ends the access tokens of its grant
    (section 2.1); revoking a token does not revoke the Authorization itself.

    The answer is 200 alike for a token that is unknown, expired, already revoked or
    another client's (section 2.2: an invalid token is no error), so that the endpoint
    tells a caller nothing about tokens that are not its own; only the caller's live
    customer or client tokens are revoked."""

    CLIENT_AUTH_METHODS: ClassVar[list[str]] = [*_CONFIDENTIAL, "none"]

    def query_token(self, token_string: str, token_type_hint: str | None) -> TokenRecord | None:
        row = services.find_token(current_session(), token_string)
        if row is None or row.token_class not in (om.CUSTOMER, om.CLIENT):
            return None
        if not row.is_live(now()):
            return None
        return TokenRecord(row)

    def authenticate_token(self, request: Any, client: Client) -> TokenRecord | None:
        self.check_params(request, client)
        token: TokenRecord | None = self.query_token(
            request.form["token"], request.form.get("token_type_hint")
        )
        if token is None or not token.check_client(client):
            return None
        return token

    def revoke_token(self, token: TokenRecord, request: Any) -> None:
        revocation.revoke_token(current_session(), token.row)


class Introspection(IntrospectionEndpoint):  # type: ignore[misc]
    """RFC 7662: a third party may introspect its own tokens."""

    CLIENT_AUTH_METHODS: ClassVar[list[str]] = [*_CONFIDENTIAL, "none"]

    def query_token(self, token_string: str, token_type_hint: str | None) -> TokenRecord | None:
        row = services.find_token(current_session(), token_string)
        return TokenRecord(row) if row is not None else None

    def check_permission(self, token: TokenRecord, client: Client, request: Any) -> bool:
        return token.check_client(client)

    def introspect_token(self, token: TokenRecord) -> dict[str, Any]:
        row = token.row
        if not services.token_is_usable(current_session(), row, now()):
            return {"active": False}
        server: EspiAuthorizationServer = self.server
        body: dict[str, Any] = {
            "active": True,
            "client_id": row.application.client_id if row.application else None,
            "scope": row.scope,
            "token_type": "Bearer" if row.kind == "access" else "refresh_token",
            "iat": row.issued_at,
        }
        if row.expires_at is not None:
            body["exp"] = row.expires_at
        if row.authorization_id is not None:
            body["authorizationURI"] = server.resource_url(f"Authorization/{row.authorization_id}")
        if row.cnf_thumbprint is not None:
            # RFC 8705 section 3.2: the certificate the token is bound to.
            body["cnf"] = {"x5t#S256": row.cnf_thumbprint}
        return body


# -- the server ---------------------------------------------------------------------------


#: Authlib's names of the dynamic registration endpoints (RFC 7591, RFC 7592).
REGISTRATION_ENDPOINTS = frozenset({"client_registration", "client_configuration"})


class EspiAuthorizationServer(AuthorizationServer):  # type: ignore[misc]
    """Authlib's server wired to our store, token classes and ESPI responses."""

    def __init__(self, settings: Settings) -> None:
        super().__init__()
        self.settings = settings
        self.register_token_generator("default", self.generate_token_shape)
        self.register_grant(AuthorizationCodeGrant, [S256CodeChallenge(required=True)])
        self.register_grant(RefreshTokenGrant)
        self.register_grant(ClientCredentialsGrant)
        self.register_endpoint(Revocation)
        self.register_endpoint(Introspection)
        self._registration_lock = threading.Lock()

    def _with_registration(self, name: str) -> None:
        """Register the RFC 7591/7592 endpoints on their first use: they load Authlib's
        JOSE support and the ``cryptography`` package (about 10 MiB of every served
        process otherwise, issue: performance)."""
        if name not in REGISTRATION_ENDPOINTS or name in self._endpoints:
            return
        from gbconnect.oauth.registration import Configuration, Registration

        with self._registration_lock:
            if name not in self._endpoints:
                self.register_endpoint(Registration(self, self.settings))
                self.register_endpoint(Configuration(self, self.settings))

    def create_endpoint_response(self, name: str, request: Any = None) -> Any:
        self._with_registration(name)
        return super().create_endpoint_response(name, request)

    def validate_endpoint_request(self, name: str, request: Any = None) -> Any:
        self._with_registration(name)
        return super().validate_endpoint_request(name, request)

    def resource_url(self, path: str) -> str:
        return self.settings.resource_url(path)

    def client_for(self, app: rm.ApplicationInformation) -> Client:
        """``app`` as an OAuth client, whatever its status."""
        return Client(app)

    # Authlib hooks -------------------------------------------------------------------

    def query_client(self, client_id: str) -> Client | None:
        if not client_id or len(client_id) > 64:
            return None
        app = (
            current_session()
            .scalars(
                select(rm.ApplicationInformation).where(
                    rm.ApplicationInformation.client_id == client_id
                )
            )
            .one_or_none()
        )
        if app is None or app.data_custodian_status in (rm.ON_HOLD, rm.REVOKED):
            return None
        return Client(app)

    def authenticate_client(self, request: Any, methods: Any, endpoint: str = "token") -> Client:
        """Authlib's client authentication (RFC 6749 section 2.3); then, at the token
        endpoint, the client certificate (GBCONNECT_MTLS;
        :func:`gbconnect.oauth.mtls.check_token_request`), before the grant's code or
        refresh token is touched; then the client's rate limits (gbconnect.ratelimit):
        a call of the token, revocation or introspection endpoint with a client's
        credentials counts like an API request, and beyond a limit is refused (429)
        before its grant is processed. Failed authentications are not counted: nobody
        spends another's quota."""
        client: Client = super().authenticate_client(request, methods, endpoint)
        session = current_session()
        if endpoint == "token":
            mtls.check_token_request(
                session,
                self.settings,
                client.app,
                getattr(request, "client_thumbprint", None),
                now(),
            )
        limiter = limiter_for(self.settings, session.get_bind().engine)
        if limiter is not None:
            decision = limiter.check(client.app)
            if not decision.allowed:
                raise RateLimited(decision)
        return client

    def validate_requested_scope(self, scope: str | None) -> None:
        """A readable scope inside the function blocks this utility offers
        (:func:`gbconnect.espi.blocks.not_offered`); ``invalid_scope`` otherwise."""

        if not scope:
            return
        try:
            parsed = espi_scope.parse(scope)
        except espi_scope.ScopeError as exc:
            raise InvalidScopeError(str(exc)) from None
        extra = not_offered(parsed.function_blocks, self.settings.supported_blocks)
        if extra:
            raise InvalidScopeError(f"the scope asks for function blocks not offered: {extra}")

    def generate_token_shape(
        self,
        grant_type: str,
        client: Client | None,
        user: Any = None,
        scope: str | None = None,
        expires_in: int | None = None,
        include_refresh_token: bool = True,
    ) -> dict[str, Any]:
        """The response's fields in their order, without values: made by save_token
        (or :mod:`gbconnect.oauth.token_fast`), which knows the grant."""
        token: dict[str, Any] = {
            "token_type": "Bearer",
            "expires_in": expires_in or self.settings.access_token_lifetime,
            "scope": services.CLIENT_SCOPE if grant_type == "client_credentials" else scope,
        }
        if include_refresh_token and grant_type != "client_credentials":
            token["refresh_token"] = None
        return token

    def save_token(self, token: dict[str, Any], request: Any) -> None:
        """Store the hashes, link the tokens to their Authorization and add ESPI's
        ``resourceURI`` and ``authorizationURI`` to the response (REQ.21 2.x)."""
        session = current_session()
        client: Client = request.client
        grant_type = request.payload.grant_type
        code_id = None
        if grant_type == "authorization_code":
            auth = session.get(om.Authorization, request.authorization_code.row.authorization_id)
            code_id = request.authorization_code.row.id
        elif grant_type == "refresh_token":
            auth = request.refresh_token.row.authorization
        else:
            auth = services.client_authorization(session, client.app)
        assert auth is not None
        token_class = om.CLIENT if grant_type == "client_credentials" else om.CUSTOMER
        # RFC 8705 section 3: a token issued over a checked client certificate is
        # bound to it (authenticate_client checked it).
        bound = (
            getattr(request, "client_thumbprint", None) if self.settings.mtls != mtls.OFF else None
        )

        def issue(kind: str, lifetime: int) -> tuple[str, om.Token]:
            return services.issue_token(
                session,
                kind=kind,
                token_class=token_class,
                application_id=client.app.id,
                authorization_id=auth.id,
                scope=token["scope"],
                lifetime=lifetime,
                code_id=code_id,
            )

        token["access_token"], access = issue("access", token["expires_in"])
        access.cnf_thumbprint = bound
        if "refresh_token" in token:
            token["refresh_token"], _ = issue("refresh", self.settings.refresh_token_lifetime)
        auth.expires_at = access.expires_at
        self.add_resource_uris(
            token,
            bulk_id=client.app.bulk_id if token_class == om.CLIENT else None,
            subscription_id=auth.subscription.id if auth.subscription is not None else None,
            authorization_id=auth.id,
        )
        session.flush()

    def add_resource_uris(
        self,
        token: dict[str, Any],
        *,
        bulk_id: int | None,
        subscription_id: int | None,
        authorization_id: int,
    ) -> None:
        """ESPI's ``resourceURI`` (a client token's Batch/Bulk, else a customer grant's
        Batch/Subscription, when it has one) and ``authorizationURI`` (REQ.21 2.x)."""
        if bulk_id is not None:
            token["resourceURI"] = self.resource_url(f"Batch/Bulk/{bulk_id}")
        elif subscription_id is not None:
            token["resourceURI"] = self.resource_url(f"Batch/Subscription/{subscription_id}")
        token["authorizationURI"] = self.resource_url(f"Authorization/{authorization_id}")

    def create_oauth2_request(self, request: Any) -> Any:
        return request  # already an OAuth2Request made by our adapter

    def create_json_request(self, request: Any) -> Any:
        return request

    def handle_response(self, status: int, body: Any, headers: Any) -> Response:
        header_map = dict(headers)
        if isinstance(body, dict):
            header_map.pop("Content-Type", None)
            return JSONResponse(body, status_code=status, headers=header_map)
        return Response(body or b"", status_code=status, headers=header_map)

    def send_signal(self, name: str, *args: Any, **kwargs: Any) -> None:
        return None


__all__ = [
    "CURRENT_SESSION",
    "Client",
    "EspiAuthorizationServer",
    "TokenRecord",
    "check_client_scope",
    "check_refresh_scope",
]
