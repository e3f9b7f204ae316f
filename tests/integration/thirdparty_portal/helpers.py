"""Steps the third-party portal's tests share: signing a company up, confirming it
through the mail folder, signing in, registering an application."""

from __future__ import annotations

import re
from email import message_from_bytes
from pathlib import Path
from urllib.parse import urlsplit

from fastapi.testclient import TestClient

from tests.factories.world import World, _csrf

PASSWORD = "a long third-party password"
REDIRECT = "https://tp.example.com/callback"


def csrf(client: TestClient, path: str) -> str:
    return _csrf(client.get(path).text)


def signup_form(email: str = "dev@acme.example", **changes: str) -> dict[str, str]:
    form = {
        "legal_name": "Acme Energy Analytics, Inc.",
        "kind": "standard",
        "technical_email": "tech@acme.example",
        "technical_phone": "+1 415 555 0100",
        "business_email": "biz@acme.example",
        "business_phone": "+1 415 555 0101",
        "name": "Dana Developer",
        "email": email,
        "password": PASSWORD,
        "confirm": PASSWORD,
    }
    form.update(changes)
    return form


def sign_up(world: World, email: str = "dev@acme.example", **changes: str) -> tuple[int, str]:
    data = signup_form(email, **changes)
    data["csrf"] = csrf(world.client, "/thirdparty/signup")
    r = world.client.post("/thirdparty/signup", data=data)
    return r.status_code, r.text


def mails(world: World) -> list[Path]:
    folder = world.settings.mail_dir
    return sorted(folder.glob("*.eml")) if folder.exists() else []


def last_link(world: World) -> str:
    """The path and query of the confirmation link in the newest mail."""
    path = mails(world)[-1]
    body = message_from_bytes(path.read_bytes()).get_payload(decode=True)
    assert isinstance(body, bytes)
    m = re.search(r"https?://\S+/thirdparty/confirm\?token=\S+", body.decode())
    assert m, body
    parts = urlsplit(m.group(0))
    return f"{parts.path}?{parts.query}"


def sign_in(client: TestClient, email: str = "dev@acme.example", password: str = PASSWORD) -> int:
    data = {"email": email, "password": password, "csrf": csrf(client, "/thirdparty/login")}
    r = client.post("/thirdparty/login", data=data, follow_redirects=False)
    return r.status_code


def company(world: World, email: str = "dev@acme.example") -> None:
    """A company signed up, confirmed and signed in on ``world.client``."""
    status, _ = sign_up(world, email)
    assert status == 200
    r = world.client.get(last_link(world), follow_redirects=False)
    assert r.status_code == 303
    assert sign_in(world.client, email) == 303


def app_form(**changes: object) -> dict[str, object]:
    form: dict[str, object] = {
        "client_name": "Acme Insights",
        "description": "Shows your hourly usage and how to save.",
        "redirect_uris": REDIRECT,
        "notify_uri": "",
        "client_uri": "https://acme.example",
        "tos_uri": "https://acme.example/terms",
        "policy_uri": "https://acme.example/privacy",
        "logo_uri": "",
        "portal_uri": "https://acme.example/start",
        "application_type": "1",
        "application_use": "1",
        "block": ["electric", "billing", "fb39"],
    }
    form.update(changes)
    return form


def register(world: World, **changes: object) -> tuple[int, str]:
    data = app_form(**changes)
    data["csrf"] = csrf(world.client, "/thirdparty/applications/new")
    r = world.client.post("/thirdparty/applications/new", data=data)
    return r.status_code, r.text


def shown(html: str, key: str) -> str:
    m = re.search(rf'<code class="secret" id="{key}">([^<]+)</code>', html)
    assert m, html
    return m.group(1)


def app_id_of(html: str) -> int:
    m = re.search(r'href="/thirdparty/applications/(\d+)"', html)
    assert m, html
    return int(m.group(1))
