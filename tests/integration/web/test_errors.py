"""One handler renders every GbconnectError as its caller expects (gbconnect.web.errors):
OAuth/ESPI JSON (RFC 6749 section 5.2, RFC 6750 section 3) for the API and the OAuth
endpoints, a page under the utility's name for a browser, never a traceback."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from gbconnect.app import TEMPLATES, create_app
from gbconnect.config import Settings, load_settings
from gbconnect.errors import AccessError, InputError, InternalError, UnavailableError
from gbconnect.oauth.starlette import MAX_FORM_BYTES, MAX_FORM_FIELDS
from gbconnect.registration.errors import RegistrationError
from gbconnect.web.errors import SERVER_ERROR, install

UTILITY = "Sunny Valley Power"
BROWSER = {"Accept": "text/html,application/xhtml+xml,*/*;q=0.8"}


class TokenRefused(AccessError):
    status = 401
    error = "invalid_token"


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return load_settings(
        database_url=f"sqlite:///{tmp_path / 'errors.db'}",
        secret_key="k" * 40,
        utility_name=UTILITY,
    )


@pytest.fixture
def client(settings: Settings) -> Iterator[TestClient]:
    app = FastAPI()
    install(app, settings, TEMPLATES)
    raising = {
        "refused": TokenRefused('the access token is "invalid"'),
        "input": RegistrationError("redirect URI 'x' is not a URI", "invalid_redirect_uri"),
        "bug": InternalError("row 12 of interval_block is corrupt at /var/lib/x"),
        "busy": UnavailableError("the database is busy"),
        "plain": InputError("the date must be YYYY-MM-DD"),
    }

    def route(name: str) -> None:
        raise raising[name]

    for prefix in (settings.resource_base, "/oauth", "/account"):
        app.add_api_route(prefix + "/{name}", route, methods=["GET", "POST"])
    with TestClient(app, raise_server_exceptions=False) as c:
        yield c


def test_api_errors_are_json_with_a_bearer_challenge(
    client: TestClient, settings: Settings
) -> None:
    r = client.get(settings.resource_base + "/refused", headers=BROWSER)
    assert r.status_code == 401
    assert r.json() == {
        "error": "invalid_token",
        "error_description": 'the access token is "invalid"',
    }
    assert r.headers["www-authenticate"] == (
        'Bearer realm="espi", error="invalid_token", '
        'error_description="the access token is invalid"'
    )


def test_oauth_errors_are_json_with_their_code(client: TestClient) -> None:
    r = client.post("/oauth/input", headers=BROWSER)
    assert r.status_code == 400
    assert r.json() == {
        "error": "invalid_redirect_uri",
        "error_description": "redirect URI 'x' is not a URI",
    }
    assert "www-authenticate" not in r.headers


def test_a_browser_gets_a_page_under_the_utilitys_name(client: TestClient) -> None:
    r = client.get("/account/plain", headers=BROWSER)
    assert r.status_code == 400 and r.headers["content-type"].startswith("text/html")
    assert UTILITY in r.text and "the date must be YYYY-MM-DD" in r.text
    assert "gbconnect ·" not in r.text


def test_other_callers_get_json(client: TestClient) -> None:
    r = client.get("/account/plain", headers={"Accept": "application/json"})
    assert r.status_code == 400
    assert r.json() == {
        "error": "invalid_request",
        "error_description": "the date must be YYYY-MM-DD",
    }


def test_our_own_bugs_are_500_and_say_nothing_of_our_internals(client: TestClient) -> None:
    for path, headers in (("/oauth/bug", {}), ("/account/bug", BROWSER)):
        r = client.get(path, headers=headers)
        assert r.status_code == 500
        assert SERVER_ERROR in r.text
        assert "interval_block" not in r.text and "Traceback" not in r.text


def test_unavailable_says_when_to_retry(client: TestClient, settings: Settings) -> None:
    r = client.get(settings.resource_base + "/busy")
    assert r.status_code == 503 and r.headers["retry-after"] == "5"
    assert r.json()["error"] == "temporarily_unavailable"


def test_the_application_renders_its_errors_with_the_handler(settings: Settings) -> None:
    big = {"grant_type": "client_credentials", "pad": "x" * MAX_FORM_BYTES}
    many = {"grant_type": "client_credentials", "f": [str(n) for n in range(MAX_FORM_FIELDS)]}
    unreadable = "the form could not be read (too large, too many fields or not UTF-8)"
    with TestClient(create_app(settings)) as c:
        r = c.post("/oauth/token", data=big)
        assert r.status_code == 413
        assert r.json() == {
            "error": "invalid_request",
            "error_description": "the request body is larger than 64 KiB",
        }
        r = c.post("/oauth/token", data=many)
        assert r.status_code == 400
        assert r.json() == {"error": "invalid_request", "error_description": unreadable}
        r = c.post("/oauth/register", content=b"[1, 2]", headers=BROWSER)
        assert r.status_code == 400 and r.json()["error"] == "invalid_client_metadata"
        # The customer's consent page is a page, whoever asks.
        r = c.post("/oauth/authorize", data=big)
        assert r.status_code == 413 and UTILITY in r.text and "larger than 64 KiB" in r.text
        r = c.post("/oauth/authorize", data=many)
        assert r.status_code == 400 and UTILITY in r.text and unreadable in r.text
