"""Dynamic third-party registration (REQ.21 FB_36): RFC 7591 and RFC 7592 on Authlib.

- ``POST /oauth/register`` with an *initial access token* the utility issued
  (``gbconnect thirdparty invite``; RFC 7591 section 3) registers a client in review
  status and answers 201 with its credentials and a registration access token;
- ``GET``, ``PUT`` and ``DELETE /oauth/register/{client_id}`` with that registration
  access token read, replace and withdraw the registration (RFC 7592 section 2).

ESPI additions ride along as extension members: ``thirdPartyNotifyUri`` and the ESPI
``scope`` string (one string without spaces; several are space-separated).
"""

from __future__ import annotations

from typing import Any, Protocol

from authlib.oauth2.rfc6749.errors import OAuth2Error
from authlib.oauth2.rfc6750 import InvalidTokenError
from authlib.oauth2.rfc7591 import ClientRegistrationEndpoint
from authlib.oauth2.rfc7592 import ClientConfigurationEndpoint

from gbconnect.audit import Actor
from gbconnect.audit.record import THIRD_PARTY
from gbconnect.config import Settings
from gbconnect.oauth import clients, revocation, services
from gbconnect.oauth import models as om
from gbconnect.oauth.bearer import bearer_token
from gbconnect.oauth.context import current_session
from gbconnect.registration import models as rm
from gbconnect.registration import services as registry
from gbconnect.registration.errors import RegistrationError
from gbconnect.resource import now

GRANT_TYPES = ["authorization_code", "refresh_token", "client_credentials"]


class AppClient(Protocol):
    """An OAuth client made of an ApplicationInformation
    (:class:`gbconnect.oauth.server.Client`)."""

    app: rm.ApplicationInformation


def _bearer(request: Any) -> str | None:
    return bearer_token(request.headers.get("Authorization"))


class Forbidden(OAuth2Error):  # type: ignore[misc]
    """RFC 7592 section 2: a token that may not act on this client."""

    error = "access_denied"
    status_code = 403


class _Credential:
    """A registration access token as Authlib's endpoints see it."""

    def __init__(self, row: om.Token) -> None:
        self.row = row

    def check_client(self, client: AppClient) -> bool:
        return self.row.application_id == client.app.id


def server_metadata(settings: Settings) -> dict[str, Any]:
    return {
        "response_types_supported": ["code"],
        "grant_types_supported": GRANT_TYPES,
        "token_endpoint_auth_methods_supported": ["client_secret_basic", "none"],
    }


def client_view(app: rm.ApplicationInformation, settings: Settings) -> dict[str, Any]:
    """RFC 7591 section 3.2.1 client information (without secrets)."""
    view: dict[str, Any] = {
        "client_id": app.client_id,
        "client_id_issued_at": app.client_id_issued_at,
        "client_secret_expires_at": app.client_secret_expires_at,
        "client_name": app.client_name,
        "redirect_uris": app.redirect_uris,
        "grant_types": app.grant_types,
        "response_types": app.response_types,
        "token_endpoint_auth_method": app.token_endpoint_auth_method,
        "scope": " ".join(app.scopes),
        "thirdPartyNotifyUri": app.notify_uri,
        "dataCustodianApplicationStatus": app.data_custodian_status,
        "registration_client_uri": settings.site_url(f"/oauth/register/{app.client_id}"),
    }
    for key in (
        "logo_uri",
        "client_uri",
        "tos_uri",
        "policy_uri",
        "software_id",
        "software_version",
        "contacts",
    ):
        value = getattr(app, key)
        if value:
            view[key] = value
    if app.description:
        view["thirdPartyApplicationDescription"] = app.description
    return view


class Registration(ClientRegistrationEndpoint):  # type: ignore[misc]
    """RFC 7591, gated by an initial access token."""

    def __init__(self, server: Any, settings: Settings) -> None:
        super().__init__(server)
        self.settings = settings

    def authenticate_token(self, request: Any) -> om.Token | None:
        row = services.find_token(current_session(), _bearer(request), kind="access")
        if row is None or row.token_class != om.INITIAL or not row.is_live(now()):
            return None
        return row

    def create_registration_response(self, request: Any) -> Any:
        if self.authenticate_token(request) is None:
            raise InvalidTokenError(description="an unused initial access token is required")
        return super().create_registration_response(request)

    def get_server_metadata(self) -> dict[str, Any]:
        return server_metadata(self.settings)

    def save_client(
        self, client_info: dict[str, Any], client_metadata: dict[str, Any], request: Any
    ) -> AppClient:
        data = request.payload.data
        scope_text = client_metadata.get("scope") or data.get("scope")
        done = clients.register(
            current_session(),
            self.settings,
            name=str(client_metadata.get("client_name") or ""),
            redirect_uris=list(client_metadata.get("redirect_uris") or []),
            notify_uri=data.get("thirdPartyNotifyUri"),
            description=data.get("thirdPartyApplicationDescription"),
            scopes=str(scope_text).split() if scope_text else None,
            public=client_metadata.get("token_endpoint_auth_method") == "none",
            grant_types=client_metadata.get("grant_types"),
            logo_uri=client_metadata.get("logo_uri"),
            client_uri=client_metadata.get("client_uri"),
            tos_uri=client_metadata.get("tos_uri"),
            policy_uri=client_metadata.get("policy_uri"),
            software_id=client_metadata.get("software_id"),
            software_version=client_metadata.get("software_version"),
        )
        if client_metadata.get("contacts"):
            done.application.contacts = list(client_metadata["contacts"])
        # An initial access token registers one client (RFC 7591 section 3).
        revocation.end_token(current_session(), request.credential)
        request.registered = done
        client: AppClient = self.server.client_for(done.application)
        return client

    def generate_client_registration_info(self, client: AppClient, request: Any) -> dict[str, Any]:
        done: clients.Registered = request.registered
        info = client_view(done.application, self.settings)
        info["registration_access_token"] = done.registration_access_token
        if done.client_secret is not None:
            info["client_secret"] = done.client_secret
        else:
            info.pop("client_secret", None)
        return info

    def generate_client_info(self, request: Any) -> dict[str, Any]:
        return {}  # made by registry.register; see generate_client_registration_info


class Configuration(ClientConfigurationEndpoint):  # type: ignore[misc]
    """RFC 7592 with the registration access token (REQ.21 FB_36, FB_44)."""

    def __init__(self, server: Any, settings: Settings) -> None:
        super().__init__(server)
        self.settings = settings

    def authenticate_token(self, request: Any) -> _Credential | None:
        row = services.find_token(current_session(), _bearer(request), kind="access")
        if row is None or row.token_class != om.REGISTRATION or not row.is_live(now()):
            return None
        return _Credential(row)

    def create_configuration_response(self, request: Any) -> Any:
        token = self.authenticate_token(request)
        if token is None:
            raise InvalidTokenError(description="the registration access token is required")
        client = self.authenticate_client(request)
        if client is not None and not token.check_client(client):
            raise Forbidden(description="this registration access token is for another client")
        return super().create_configuration_response(request)

    def authenticate_client(self, request: Any) -> AppClient | None:
        app = registry.find_application(current_session(), request.client_id_in_path)
        if app is None or app.data_custodian_status == rm.REVOKED:
            return None
        client: AppClient = self.server.client_for(app)
        return client

    def revoke_access_token(self, *args: Any) -> None:
        for arg in args:
            if isinstance(arg, _Credential):
                revocation.end_token(current_session(), arg.row)

    def check_permission(self, client: AppClient, request: Any) -> bool:
        return True

    def introspect_client(self, client: AppClient) -> dict[str, Any]:
        return client_view(client.app, self.settings)

    def generate_client_registration_info(self, client: AppClient, request: Any) -> dict[str, Any]:
        return {}

    def get_server_metadata(self) -> dict[str, Any]:
        return server_metadata(self.settings)

    def delete_client(self, client: AppClient, request: Any) -> None:
        client.app.third_party_status = 4  # retired
        clients.set_status(
            current_session(),
            client.app,
            rm.REVOKED,
            "withdrawn by the third party (RFC 7592)",
            Actor(THIRD_PARTY, client.app.client_id),
        )

    def update_client(
        self, client: AppClient, client_metadata: dict[str, Any], request: Any
    ) -> AppClient:
        data = request.payload.data
        fields: dict[str, list[str]] = {}
        if "client_name" in client_metadata:
            fields["client_name"] = [str(client_metadata["client_name"])]
        if "redirect_uris" in client_metadata:
            fields["redirect_uri"] = [str(u) for u in client_metadata["redirect_uris"]]
        for key in ("logo_uri", "client_uri", "tos_uri", "policy_uri", "software_version"):
            if key in client_metadata:
                fields[key] = [str(client_metadata[key] or "")]
        if "contacts" in client_metadata:
            fields["contacts"] = [str(c) for c in client_metadata["contacts"] or []]
        if "thirdPartyNotifyUri" in data:
            fields["thirdPartyNotifyUri"] = [str(data["thirdPartyNotifyUri"] or "")]
        if "thirdPartyApplicationDescription" in data:
            text = data["thirdPartyApplicationDescription"]
            if text is not None and not isinstance(text, str):
                raise RegistrationError("thirdPartyApplicationDescription must be a string")
            fields["thirdPartyApplicationDescription"] = [text or ""]
        if data.get("scope"):
            fields["scope"] = str(data["scope"]).split()
        registry.update_application(current_session(), self.settings, client.app, fields)
        return client


__all__ = ["Configuration", "Registration", "RegistrationError", "client_view"]
