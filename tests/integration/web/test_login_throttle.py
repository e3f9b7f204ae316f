"""Sign-in throttling through the application (gbconnect.web.security.LoginThrottle):
wrong passwords from one address do not lock the customer out elsewhere nor the
other customers behind that address; X-Forwarded-For counts only from a trusted proxy."""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from gbconnect.app import create_app
from gbconnect.config import ConfigError, load_settings
from tests.factories.app import SECRET_KEY
from tests.factories.world import PASSWORD, World


def sign_in(client: TestClient, username: str, password: str, **headers: str) -> int:
    page = client.get("/login")
    m = re.search(r'name="csrf" value="([^"]+)"', page.text)
    assert m
    r = client.post(
        "/login",
        data={"username": username, "password": password, "csrf": m.group(1)},
        headers=headers,
        follow_redirects=False,
    )
    return r.status_code


def test_wrong_passwords_do_not_lock_the_customer_out(world: World) -> None:
    app = world.client.app
    with TestClient(app, client=("6.6.6.6", 4000)) as attacker:
        for _ in range(5):
            assert sign_in(attacker, "alice", "wrong password") == 401
        assert sign_in(attacker, "alice", PASSWORD) == 429
        assert sign_in(attacker, "bob", PASSWORD) == 303
    with TestClient(app, client=("198.51.100.7", 4000)) as customer:
        assert sign_in(customer, "alice", PASSWORD) == 303


def test_forwarded_for_from_localhost_is_not_believed_by_default(world: World) -> None:
    with TestClient(world.client.app, client=("127.0.0.1", 4000)) as local:
        for n in range(5):
            assert sign_in(local, "alice", "wrong", **{"X-Forwarded-For": f"6.6.6.{n}"}) == 401
        assert sign_in(local, "alice", "wrong", **{"X-Forwarded-For": "6.6.6.9"}) == 429


def test_forwarded_for_from_a_trusted_proxy_names_the_client(world: World, engine: Engine) -> None:
    settings = load_settings(
        database_url=world.settings.database_url,
        secret_key=SECRET_KEY,
        trusted_proxies="127.0.0.1, 10.0.0.0/8",
    )
    with TestClient(create_app(settings, engine), client=("127.0.0.1", 4000)) as proxy:
        for _ in range(5):
            assert sign_in(proxy, "alice", "wrong", **{"X-Forwarded-For": "6.6.6.6"}) == 401
        assert sign_in(proxy, "alice", PASSWORD, **{"X-Forwarded-For": "6.6.6.6"}) == 429
        assert sign_in(proxy, "alice", PASSWORD, **{"X-Forwarded-For": "198.51.100.7"}) == 303


def test_trusted_proxies_setting_refuses_a_bad_network() -> None:
    with pytest.raises(ConfigError, match="GBCONNECT_TRUSTED_PROXIES"):
        load_settings(trusted_proxies="10.0.0.0/8, proxy.example.com")
