"""OAuth 2.0 for a Green Button third party (REQ.21 section 2): discovery (RFC 8414),
the authorization-code grant with PKCE S256 (RFC 6749 section 4.1, RFC 7636), refresh
with rotation (RFC 6749 section 6, RFC 9700 section 4.14.2), client credentials for
bulk and the ReadServiceStatus (RFC 6749 section 4.4), and client certificates
(RFC 8705) when the Data Custodian asks for mutual TLS.

Client authentication is ``client_secret_basic`` (RFC 6749 section 2.3.1); a public
client sends its ``client_id`` in the body and no secret.
"""

from __future__ import annotations

import base64
import hashlib
import secrets
import ssl
import time
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote, urlencode, urlsplit

import httpx

from gbconnect.client.http import make_http

#: RFC 8414 section 3: where the metadata lives.
WELL_KNOWN = "/.well-known/oauth-authorization-server"

#: The resource base of REQ.21 section 1 when the metadata does not name one.
DEFAULT_RESOURCE_BASE = "/DataCustodian/espi/1_1/resource"


class OAuthError(Exception):
    """The authorization server refused a request, or its answer was unusable.

    ``error`` is the RFC 6749 section 5.2 code (``invalid_grant``, ...) or one of the
    SDK's own (``invalid_response``, ``network_error``); ``description`` the server's
    sentence; ``status`` the HTTP status (``None`` when no answer came)."""

    def __init__(self, error: str, description: str = "", status: int | None = None) -> None:
        self.error = error
        self.description = description
        self.status = status
        text = error if not description else f"{error}: {description}"
        if status is not None:
            text += f" (HTTP {status})"
        super().__init__(text)


@dataclass(frozen=True)
class Endpoints:
    """Where a Data Custodian's authorization server and resources are."""

    authorization: str
    token: str
    resource_base: str
    registration: str | None = None
    revocation: str | None = None

    @classmethod
    def discover(cls, data_custodian_url: str, *, http: httpx.Client | None = None) -> Endpoints:
        """Read ``{data_custodian_url}/.well-known/oauth-authorization-server`` (RFC 8414).
        gbconnect adds ``espi_resource_base``; without it the REQ.21 default path is
        used. Raises :class:`OAuthError` when the metadata is missing or malformed."""
        base = data_custodian_url.rstrip("/")
        client = http or make_http()
        try:
            try:
                r = client.get(base + WELL_KNOWN, headers={"Accept": "application/json"})
            except httpx.HTTPError as exc:
                raise OAuthError("network_error", f"{base + WELL_KNOWN}: {exc}") from None
        finally:
            if http is None:
                client.close()
        if r.status_code != 200:
            raise OAuthError(
                "invalid_response",
                f"no authorization server metadata at {base + WELL_KNOWN}",
                r.status_code,
            )
        meta = _json_object(r, "the authorization server metadata")
        try:
            authorization = _str(meta, "authorization_endpoint")
            token = _str(meta, "token_endpoint")
        except KeyError as exc:
            raise OAuthError(
                "invalid_response", f"the metadata has no {exc.args[0]}", r.status_code
            ) from None
        resource = meta.get("espi_resource_base")
        return cls(
            authorization=authorization,
            token=token,
            resource_base=(
                resource.rstrip("/")
                if isinstance(resource, str) and resource
                else base + DEFAULT_RESOURCE_BASE
            ),
            registration=_opt_str(meta, "registration_endpoint"),
            revocation=_opt_str(meta, "revocation_endpoint"),
        )

    @classmethod
    def defaults(
        cls, data_custodian_url: str, resource_base: str = DEFAULT_RESOURCE_BASE
    ) -> Endpoints:
        """The usual paths under ``data_custodian_url`` (gbconnect's layout, REQ.21
        section 1 resource base)."""
        base = data_custodian_url.rstrip("/")
        rb = resource_base if "://" in resource_base else base + "/" + resource_base.strip("/")
        return cls(
            authorization=base + "/oauth/authorize",
            token=base + "/oauth/token",
            resource_base=rb.rstrip("/"),
            registration=base + "/oauth/register",
            revocation=base + "/oauth/revoke",
        )

    def resource(self, path: str) -> str:
        """The URL of ``path`` under the resource base."""
        return self.resource_base.rstrip("/") + "/" + path.lstrip("/")


@dataclass
class TokenSet:
    """A token response (RFC 6749 section 5.1) with the ESPI additions
    (``resourceURI``, ``authorizationURI``, ``customerResourceURI``)."""

    access_token: str
    token_type: str
    expires_at: float | None
    refresh_token: str | None
    scope: str | None
    resource_uri: str | None
    authorization_uri: str | None
    customer_resource_uri: str | None
    raw: dict[str, Any] = field(default_factory=dict)

    def expired(self, leeway: float = 30.0) -> bool:
        """Whether the access token has expired, or will within ``leeway`` seconds."""
        return self.expires_at is not None and time.time() + leeway >= self.expires_at

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict (store it; :meth:`from_dict` reads it back)."""
        return {
            "access_token": self.access_token,
            "token_type": self.token_type,
            "expires_at": self.expires_at,
            "refresh_token": self.refresh_token,
            "scope": self.scope,
            "resource_uri": self.resource_uri,
            "authorization_uri": self.authorization_uri,
            "customer_resource_uri": self.customer_resource_uri,
            "raw": dict(self.raw),
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> TokenSet:
        """The token set :meth:`to_dict` wrote."""
        if not isinstance(d.get("access_token"), str):
            raise ValueError("a stored token set needs an access_token string")
        expires = d.get("expires_at")
        return cls(
            access_token=d["access_token"],
            token_type=str(d.get("token_type") or "Bearer"),
            expires_at=float(expires) if expires is not None else None,
            refresh_token=d.get("refresh_token"),
            scope=d.get("scope"),
            resource_uri=d.get("resource_uri"),
            authorization_uri=d.get("authorization_uri"),
            customer_resource_uri=d.get("customer_resource_uri"),
            raw=dict(d.get("raw") or {}),
        )

    @classmethod
    def from_response(
        cls, body: dict[str, Any], *, previous: TokenSet | None = None, now: float | None = None
    ) -> TokenSet:
        """The token set of a token endpoint answer. On a refresh, what the answer
        leaves out (a rotated refresh token, the scope, the ESPI URIs) is kept from
        ``previous``. Raises :class:`OAuthError` when the answer is not a token."""
        token = body.get("access_token")
        if not isinstance(token, str) or not token:
            raise OAuthError("invalid_response", "the token response has no access_token")
        token_type = body.get("token_type")
        if not isinstance(token_type, str) or token_type.lower() != "bearer":
            raise OAuthError(
                "invalid_response", f"unsupported token_type {token_type!r} (expected Bearer)"
            )
        expires_in = body.get("expires_in")
        expires_at: float | None = None
        if expires_in is not None:
            try:
                expires_at = (time.time() if now is None else now) + float(expires_in)
            except (TypeError, ValueError):
                raise OAuthError(
                    "invalid_response", f"expires_in is not a number: {expires_in!r}"
                ) from None

        def keep(key: str, old: str | None) -> str | None:
            value = body.get(key)
            return str(value) if value is not None else old

        return cls(
            access_token=token,
            token_type="Bearer",
            expires_at=expires_at,
            refresh_token=keep("refresh_token", previous.refresh_token if previous else None),
            scope=keep("scope", previous.scope if previous else None),
            resource_uri=keep("resourceURI", previous.resource_uri if previous else None),
            authorization_uri=keep(
                "authorizationURI", previous.authorization_uri if previous else None
            ),
            customer_resource_uri=keep(
                "customerResourceURI", previous.customer_resource_uri if previous else None
            ),
            raw=dict(body),
        )


@dataclass(frozen=True)
class AuthorizationRequest:
    """Where to send the customer, and what to keep until they come back: ``state``
    (compare it with the callback's, RFC 6749 section 10.12) and the PKCE
    ``code_verifier`` (RFC 7636 section 4.1)."""

    url: str
    state: str
    code_verifier: str


def code_challenge(verifier: str) -> str:
    """RFC 7636 section 4.2: ``BASE64URL(SHA256(verifier))`` without padding."""
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


class OAuthClient:
    """A third party's OAuth client of one Data Custodian."""

    def __init__(
        self,
        endpoints: Endpoints,
        client_id: str,
        client_secret: str | None = None,
        *,
        redirect_uri: str | None = None,
        cert: str | tuple[str, str] | None = None,
        verify: bool | str | ssl.SSLContext = True,
        http: httpx.Client | None = None,
        timeout: float = 30.0,
    ) -> None:
        self.endpoints = endpoints
        self.client_id = client_id
        self.client_secret = client_secret
        self.redirect_uri = redirect_uri
        self.http = http or make_http(cert=cert, verify=verify, timeout=timeout)

    def __repr__(self) -> str:  # never show the secret
        return f"OAuthClient(client_id={self.client_id!r}, token={self.endpoints.token!r})"

    def close(self) -> None:
        """Close the HTTP client (also when it was given)."""
        self.http.close()

    def __enter__(self) -> OAuthClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def authorization_url(
        self, scope: str, *, state: str | None = None, redirect_uri: str | None = None
    ) -> AuthorizationRequest:
        """The authorization request (RFC 6749 section 4.1.1) with a PKCE S256
        challenge (RFC 7636 section 4.3) and a random ``state`` unless given."""
        state = state or secrets.token_urlsafe(24)
        verifier = secrets.token_urlsafe(64)  # 86 characters, within 43..128
        params = {"response_type": "code", "client_id": self.client_id}
        redirect = redirect_uri or self.redirect_uri
        if redirect:
            params["redirect_uri"] = redirect
        params.update(
            scope=scope,
            state=state,
            code_challenge=code_challenge(verifier),
            code_challenge_method="S256",
        )
        base = self.endpoints.authorization
        sep = "&" if urlsplit(base).query else "?"
        return AuthorizationRequest(base + sep + urlencode(params), state, verifier)

    def exchange_code(
        self, code: str, code_verifier: str, *, redirect_uri: str | None = None
    ) -> TokenSet:
        """Trade the callback's ``code`` for tokens (RFC 6749 section 4.1.3)."""
        form = {"grant_type": "authorization_code", "code": code, "code_verifier": code_verifier}
        redirect = redirect_uri or self.redirect_uri
        if redirect:
            form["redirect_uri"] = redirect
        return self._token(form)

    def refresh(self, tokens: TokenSet | str) -> TokenSet:
        """A fresh access token (RFC 6749 section 6). The server rotates the refresh
        token (the old one dies); when it returns none the old one is kept."""
        previous = tokens if isinstance(tokens, TokenSet) else None
        value = tokens.refresh_token if isinstance(tokens, TokenSet) else tokens
        if not value:
            raise OAuthError("invalid_request", "this token set has no refresh token")
        return self._token({"grant_type": "refresh_token", "refresh_token": value}, previous)

    def client_credentials(self, scope: str | None = None) -> TokenSet:
        """A client access token (RFC 6749 section 4.4; REQ.21 bulk and
        ReadServiceStatus, scope ``FB=34_35`` by default at gbconnect)."""
        form = {"grant_type": "client_credentials"}
        if scope:
            form["scope"] = scope
        return self._token(form)

    def _token(self, form: dict[str, str], previous: TokenSet | None = None) -> TokenSet:
        headers = {"Accept": "application/json"}
        if self.client_secret is None:
            form = {**form, "client_id": self.client_id}
        else:
            # RFC 6749 section 2.3.1: both parts form-urlencoded before base64.
            raw = f"{quote(self.client_id, safe='')}:{quote(self.client_secret, safe='')}"
            headers["Authorization"] = "Basic " + base64.b64encode(raw.encode()).decode()
        try:
            r = self.http.post(self.endpoints.token, data=form, headers=headers)
        except httpx.HTTPError as exc:
            raise OAuthError("network_error", f"{self.endpoints.token}: {exc}") from None
        body = _json_object(r, "the token response")
        if r.status_code != 200:
            error = body.get("error")
            raise OAuthError(
                str(error) if error else "invalid_response",
                str(body.get("error_description") or ""),
                r.status_code,
            )
        return TokenSet.from_response(body, previous=previous)


def _json_object(r: httpx.Response, what: str) -> dict[str, Any]:
    try:
        body = r.json()
    except ValueError:
        raise OAuthError(
            "invalid_response", f"{what} is not JSON: {r.text[:200]!r}", r.status_code
        ) from None
    if not isinstance(body, dict):
        raise OAuthError("invalid_response", f"{what} is not a JSON object", r.status_code)
    return body


def _str(meta: dict[str, Any], key: str) -> str:
    value = meta.get(key)
    if not isinstance(value, str) or not value:
        raise KeyError(key)
    return value


def _opt_str(meta: dict[str, Any], key: str) -> str | None:
    value = meta.get(key)
    return value if isinstance(value, str) and value else None
