"""Changing the account's email address, confirmed by a link mailed to the new
address (the demo's ``.eml`` folder); the old address is told. SQLite and
PostgreSQL."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import replace
from email import message_from_bytes
from pathlib import Path

import pytest
from sqlalchemy import Engine

from gbconnect.config import load_settings
from gbconnect.customer.models import RetailCustomer
from tests.factories.app import SECRET_KEY, app_client
from tests.factories.world import World, _csrf


@pytest.fixture
def mailed(world: World, engine: Engine, tmp_path: Path) -> Iterator[World]:
    settings = load_settings(
        database_url=world.settings.database_url,
        secret_key=SECRET_KEY,
        mail_dir=tmp_path / "mail",
    )
    with world.factory() as s:
        s.query(RetailCustomer).filter_by(username="alice").one().email = "old@example.com"
        s.commit()
    with app_client(settings, engine) as client:
        yield replace(world, client=client, settings=settings)


def ask(world: World, email: str) -> tuple[int, str]:
    page = world.client.get("/account/security")
    r = world.client.post(
        "/account/security/email",
        data={"csrf": _csrf(page.text), "email": email},
        follow_redirects=False,
    )
    return r.status_code, r.headers.get("location", r.text)


def mails(world: World) -> list[tuple[str, str]]:
    out = []
    for path in sorted(world.settings.mail_dir.glob("*.eml")):
        msg = message_from_bytes(path.read_bytes())
        body = msg.get_payload(decode=True)
        assert isinstance(body, bytes)
        out.append((str(msg["To"]), body.decode()))
    return out


def email_of(world: World) -> str | None:
    with world.factory() as s:
        return s.query(RetailCustomer).filter_by(username="alice").one().email


def test_a_new_address_is_confirmed_from_itself_and_the_old_one_told(mailed: World) -> None:
    mailed.login()
    assert ask(mailed, "new@example.org") == (303, "/account/security?done=email-sent")
    assert email_of(mailed) == "old@example.com"  # not before it is confirmed
    ((to, body),) = mails(mailed)
    assert to == "new@example.org"
    link = re.search(r"http\S+(/account/security/email/confirm\?token=\S+)", body)
    assert link
    r = mailed.client.get(link.group(1), follow_redirects=False)
    assert r.headers["location"] == "/account/security?done=email-changed"
    assert email_of(mailed) == "new@example.org"
    assert [to for to, _ in mails(mailed)] == ["new@example.org", "old@example.com"]
    again = mailed.client.get(link.group(1))
    assert again.status_code == 400 and "already used" in again.text


def test_bad_addresses_forged_forms_and_other_accounts_are_refused(mailed: World) -> None:
    mailed.login()
    status, text = ask(mailed, "not an address")
    assert status == 400 and "not an email address" in text
    status, text = ask(mailed, "OLD@example.com")
    assert status == 400 and "already your email address" in text
    r = mailed.client.post("/account/security/email", data={"csrf": "x", "email": "a@b.org"})
    assert r.status_code == 403
    bad = mailed.client.get("/account/security/email/confirm?token=forged")
    assert bad.status_code == 400 and "not valid" in bad.text
    ask(mailed, "new@example.org")
    link = re.search(r"http\S+(/account/security/email/confirm\?token=\S+)", mails(mailed)[0][1])
    assert link
    mailed.client.post("/logout", data={"csrf": _csrf(mailed.client.get("/account").text)})
    signed_out = mailed.client.get(link.group(1), follow_redirects=False)
    assert signed_out.status_code == 303 and signed_out.headers["location"].startswith(
        "/login?next="
    )
    mailed.login("bob")
    other = mailed.client.get(link.group(1))
    assert other.status_code == 400 and "another account" in other.text
    assert email_of(mailed) == "old@example.com"
