"""Security headers on every answer (gbconnect.web.headers): the sign-in and consent
pages cannot be framed (CSP ``frame-ancestors 'none'``, ``X-Frame-Options``), nothing
is sniffed, no referrer leaves, the session cookie is ``Secure`` on an https base URL."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy import Engine

from gbconnect.config import load_settings
from tests.factories.app import SECRET_KEY, app_client
from tests.factories.world import World


def assert_unframeable(headers: object) -> None:
    h = dict(headers)  # type: ignore[call-overload]
    assert "frame-ancestors 'none'" in h["content-security-policy"]
    assert "default-src 'self'" in h["content-security-policy"]
    assert h["x-frame-options"] == "DENY"
    assert h["x-content-type-options"] == "nosniff"
    assert h["referrer-policy"] == "no-referrer"


def test_sign_in_and_consent_pages_cannot_be_framed(world: World) -> None:
    assert_unframeable(world.client.get("/login").headers)
    world.login()
    page = world.client.get(world.authorize_url())
    assert page.status_code == 200
    assert_unframeable(page.headers)
    assert_unframeable(world.client.get("/account").headers)
    assert_unframeable(world.client.get("/").headers)


def test_api_and_error_answers_carry_nosniff(world: World) -> None:
    r = world.client.get(world.url("/ReadServiceStatus"))
    assert r.status_code == 401 and r.headers["x-content-type-options"] == "nosniff"
    r = world.client.get("/login?next=x", headers={"Accept": "text/html"})
    assert r.headers["x-content-type-options"] == "nosniff"


def test_docs_page_runs_its_own_script_and_loads_nothing_from_elsewhere(world: World) -> None:
    policy = world.client.get("/docs").headers["content-security-policy"]
    assert "'unsafe-inline'" in policy and "frame-ancestors 'none'" in policy
    assert "http" not in policy  # served by the application itself, no CDN


def test_session_cookie_is_secure_when_base_url_is_https(db_url: str, engine: Engine) -> None:
    settings = load_settings(
        database_url=db_url, secret_key=SECRET_KEY, base_url="https://data.example.com"
    )
    with app_client(settings, engine) as client:
        r = client.get("/login")
        cookie = r.headers["set-cookie"].lower()
        assert "secure" in cookie and "httponly" in cookie
        assert r.headers["strict-transport-security"].startswith("max-age=")


def test_session_cookie_is_not_secure_on_plain_http(world: World) -> None:
    client: TestClient = world.client
    client.cookies.clear()
    cookie = client.get("/login").headers["set-cookie"].lower()
    assert "secure" not in cookie


def test_error_pages_carry_the_utility_name(db_url: str, engine: Engine) -> None:
    settings = load_settings(database_url=db_url, secret_key=SECRET_KEY, utility_name="Sunny Power")
    html = {"Accept": "text/html"}
    with app_client(settings, engine) as client:
        for r in (
            client.get("/no/such/page", headers=html),
            client.put("/login", headers=html),
            client.post("/oauth/authorize", data={"decision": "approve"}),
        ):
            assert 400 <= r.status_code < 500
            assert "Sunny Power" in r.text and "gbconnect" not in r.text
            assert "<title>Something went wrong · Sunny Power</title>" in r.text
        assert client.get("/no/such/page").json() == {"detail": "Not Found"}


def test_home_page_says_what_is_served(db_url: str, engine: Engine) -> None:
    settings = load_settings(database_url=db_url, secret_key=SECRET_KEY, utility_name="Sunny Power")
    with app_client(settings, engine) as client:
        text = client.get("/").text
        assert "not served yet" not in text
        assert "Batch/Subscription" in text and "IntervalBlock" in text and "Sunny Power" in text
