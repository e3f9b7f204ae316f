"""The SDK's OAuth client against a real gbconnect (RFC 8414 discovery, RFC 6749
grants, RFC 7636 PKCE S256), on SQLite and PostgreSQL; named after the GBA cases."""

from __future__ import annotations

import base64
import hashlib
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from gbconnect.client import Endpoints, OAuthClient, OAuthError, TokenSet
from tests.factories.world import REDIRECT, SCOPE, World
from tests.integration.client.conftest import customer_tokens, endpoints_of, oauth_of


def test_discovery_rfc8414_names_the_endpoints_and_the_resource_base(world: World) -> None:
    endpoints = endpoints_of(world)
    assert endpoints.authorization.endswith("/oauth/authorize")
    assert endpoints.token.endswith("/oauth/token")
    assert endpoints.revocation and endpoints.revocation.endswith("/oauth/revoke")
    assert endpoints.registration and endpoints.registration.endswith("/oauth/register")
    assert endpoints.resource_base == world.settings.public_resource_base
    assert endpoints.resource("/ReadServiceStatus") == (
        world.settings.public_resource_base + "/ReadServiceStatus"
    )


def test_discovery_without_metadata_is_a_clear_oauth_error(world: World) -> None:
    with pytest.raises(OAuthError) as info:
        Endpoints.discover("http://testserver/nothing-here", http=world.client)
    assert info.value.status == 404 and "no authorization server metadata" in str(info.value)


def test_discovery_of_an_unreachable_host_is_a_network_error() -> None:
    with pytest.raises(OAuthError) as info:
        Endpoints.discover("http://127.0.0.1:9", http=httpx.Client(timeout=2))
    assert info.value.error == "network_error" and info.value.status is None


def test_authorization_url_carries_pkce_s256_and_state(world: World) -> None:
    request = oauth_of(world).authorization_url(SCOPE)
    query = {k: v[0] for k, v in parse_qs(urlsplit(request.url).query).items()}
    assert query["response_type"] == "code" and query["client_id"] == world.client_id
    assert query["redirect_uri"] == REDIRECT and query["scope"] == SCOPE
    assert query["state"] == request.state and len(request.state) >= 22
    assert query["code_challenge_method"] == "S256"
    digest = hashlib.sha256(request.code_verifier.encode()).digest()
    assert query["code_challenge"] == base64.urlsafe_b64encode(digest).rstrip(b"=").decode()
    assert 43 <= len(request.code_verifier) <= 128
    again = oauth_of(world).authorization_url(SCOPE, state="mine")
    assert again.state == "mine" and again.code_verifier != request.code_verifier


def test_oad005_code_exchange_gives_the_espi_uris(world: World) -> None:
    tokens = customer_tokens(world)
    assert tokens.token_type == "Bearer" and tokens.refresh_token
    assert tokens.scope and tokens.scope.startswith("FB=")
    assert tokens.resource_uri and "/Batch/Subscription/" in tokens.resource_uri
    assert tokens.authorization_uri and "/Authorization/" in tokens.authorization_uri
    assert tokens.expires_at is not None and not tokens.expired()
    assert TokenSet.from_dict(tokens.to_dict()) == tokens


def test_oad004_a_wrong_verifier_or_a_reused_code_is_an_oauth_error(world: World) -> None:
    oauth = oauth_of(world)
    request = oauth.authorization_url(SCOPE)
    world.login()
    code = world.consent(url=_path(request.url))["code"][0]
    with pytest.raises(OAuthError) as info:
        oauth.exchange_code(code, "x" * 43)
    assert info.value.error == "invalid_grant" and info.value.status == 400
    request = oauth.authorization_url(SCOPE)
    code = world.consent(url=_path(request.url))["code"][0]
    oauth.exchange_code(code, request.code_verifier)
    with pytest.raises(OAuthError, match="invalid_grant"):
        oauth.exchange_code(code, request.code_verifier)


def test_oad010_oad011_refresh_rotates_and_the_old_refresh_token_dies(world: World) -> None:
    oauth = oauth_of(world)
    tokens = customer_tokens(world, oauth)
    fresh = oauth.refresh(tokens)
    assert fresh.access_token != tokens.access_token
    assert fresh.refresh_token and fresh.refresh_token != tokens.refresh_token
    assert fresh.scope == tokens.scope and fresh.resource_uri == tokens.resource_uri
    with pytest.raises(OAuthError) as info:
        oauth.refresh(tokens.refresh_token or "")
    assert info.value.error == "invalid_grant" and info.value.status == 400
    with pytest.raises(OAuthError, match="invalid_grant"):
        oauth.refresh("bogus")


def test_refresh_without_a_refresh_token_is_refused_before_any_request(world: World) -> None:
    tokens = oauth_of(world).client_credentials()
    with pytest.raises(OAuthError, match="no refresh token"):
        oauth_of(world).refresh(tokens)


def test_oad012_oad014_client_credentials(world: World) -> None:
    tokens = oauth_of(world).client_credentials()
    assert tokens.scope == "FB=34_35" and tokens.refresh_token is None
    assert tokens.resource_uri and "/Batch/Bulk/" in tokens.resource_uri
    assert tokens.authorization_uri and "/Authorization/" in tokens.authorization_uri
    with pytest.raises(OAuthError) as info:
        oauth_of(world).client_credentials("FB=x")
    assert info.value.error == "invalid_scope" and info.value.status == 400


def test_oad003_a_wrong_secret_is_invalid_client_and_the_secret_never_shows(
    world: World,
) -> None:
    oauth = oauth_of(world, secret="wrong-secret-value")
    with pytest.raises(OAuthError) as info:
        oauth.client_credentials()
    assert info.value.error == "invalid_client" and info.value.status == 401
    assert "wrong-secret-value" not in str(info.value) + repr(oauth)


def test_public_client_sends_its_id_in_the_body_with_pkce(world: World) -> None:
    from gbconnect.oauth.clients import register

    with world.factory() as s:
        done = register(
            s,
            world.settings,
            name="Phone App",
            redirect_uris=[REDIRECT],
            scopes=[SCOPE],
            public=True,
            approve=True,
        )
        s.commit()
        public_id = done.application.client_id
    oauth = OAuthClient(endpoints_of(world), public_id, redirect_uri=REDIRECT, http=world.client)
    tokens = customer_tokens(world, oauth)
    assert tokens.resource_uri and tokens.refresh_token


def test_a_token_endpoint_answering_html_is_an_invalid_response(world: World) -> None:
    endpoints = Endpoints.defaults("http://testserver")
    broken = Endpoints(endpoints.authorization, "http://testserver/", endpoints.resource_base)
    with pytest.raises(OAuthError) as info:
        OAuthClient(broken, "id", "secret", http=world.client).client_credentials()
    assert info.value.error == "invalid_response"


def _path(url: str) -> str:
    from tests.integration.client.conftest import path_of

    return path_of(url)
