"""The SDK against a real gbconnect in-process: the app's test client is the SDK's
``http=`` client (an httpx.Client), so every request goes through the real app."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy import Engine

from gbconnect.client import Endpoints, OAuthClient, TokenSet
from gbconnect.config import load_settings
from tests.factories.app import SECRET_KEY, app_client
from tests.factories.world import REDIRECT, SCOPE, World


def endpoints_of(world: World) -> Endpoints:
    return Endpoints.discover("http://testserver", http=world.client)


def oauth_of(world: World, secret: str | None = None) -> OAuthClient:
    return OAuthClient(
        endpoints_of(world),
        world.client_id,
        secret or world.client_secret,
        redirect_uri=REDIRECT,
        http=world.client,
    )


def path_of(url: str) -> str:
    """The path and query of ``url`` (the test client keeps cookies per host)."""
    parts = urlsplit(url)
    return parts.path + ("?" + parts.query if parts.query else "")


def customer_tokens(world: World, oauth: OAuthClient | None = None) -> TokenSet:
    """alice's tokens through the SDK: authorization URL (PKCE S256), consent, code
    exchange."""
    oauth = oauth or oauth_of(world)
    request = oauth.authorization_url(SCOPE)
    world.login()
    query = world.consent(url=path_of(request.url))
    assert query["state"] == [request.state]
    return oauth.exchange_code(query["code"][0], request.code_verifier)


@contextmanager
def served_with(world: World, engine: Engine, **overrides: Any) -> Iterator[World]:
    """The world served by a second application on the same database, with
    ``overrides`` of the settings (rate limits, asynchronous batches...)."""
    settings = load_settings(
        database_url=world.settings.database_url, secret_key=SECRET_KEY, **overrides
    )
    with app_client(settings, engine) as client:
        yield replace(world, client=client, settings=settings)
