"""Password reset by an emailed link: the same answer whether or not an account
matches, a link that works for an hour and once, the new password twice, every bad
link and bad form explained. The mail is the demo's ``.eml`` folder. SQLite and
PostgreSQL."""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from dataclasses import replace
from email import message_from_bytes
from pathlib import Path

import pytest
from itsdangerous import TimestampSigner, URLSafeTimedSerializer
from sqlalchemy import Engine

from gbconnect.config import load_settings
from gbconnect.customer.models import RetailCustomer
from gbconnect.portal import password_reset
from tests.factories.app import SECRET_KEY, app_client
from tests.factories.world import PASSWORD, World, _csrf

NEW = "a brand new passphrase"


@pytest.fixture
def mailed(world: World, engine: Engine, tmp_path: Path) -> Iterator[World]:
    """The world served with its mail written to ``tmp_path/mail``; alice has an
    email address."""
    settings = load_settings(
        database_url=world.settings.database_url,
        secret_key=SECRET_KEY,
        mail_dir=tmp_path / "mail",
    )
    with world.factory() as s:
        alice = s.query(RetailCustomer).filter_by(username="alice").one()
        alice.email = "Alice@Example.com"
        s.commit()
    with app_client(settings, engine) as client:
        yield replace(world, client=client, settings=settings)


def ask(world: World, account: str) -> str:
    page = world.client.get("/password/forgot")
    r = world.client.post("/password/forgot", data={"csrf": _csrf(page.text), "account": account})
    assert r.status_code == 200
    return r.text


def mails(world: World) -> list[Path]:
    folder = world.settings.mail_dir
    return sorted(folder.glob("*.eml")) if folder.exists() else []


def link_in(path: Path) -> str:
    msg = message_from_bytes(path.read_bytes())
    body = msg.get_payload(decode=True)
    assert isinstance(body, bytes)
    m = re.search(r"http\S+/password/reset\?token=(\S+)", body.decode())
    assert m, body
    return "/password/reset?token=" + m.group(1)


def reset(
    world: World, link: str, password: str = NEW, confirm: str | None = None
) -> tuple[int, str]:
    page = world.client.get(link)
    if page.status_code != 200:
        return page.status_code, page.text
    token = re.search(r'name="token" value="([^"]+)"', page.text)
    assert token
    r = world.client.post(
        "/password/reset",
        data={
            "csrf": _csrf(page.text),
            "token": token.group(1),
            "password": password,
            "confirm": password if confirm is None else confirm,
        },
        follow_redirects=False,
    )
    return r.status_code, r.text if r.status_code != 303 else r.headers["location"]


def test_a_customer_resets_their_password_through_the_mailed_link(mailed: World) -> None:
    text = ask(mailed, "alice@example.com")  # the email address, any case
    assert password_reset.SENT in text
    (mail,) = mails(mailed)
    msg = message_from_bytes(mail.read_bytes())
    assert msg["To"] == "Alice@Example.com" and "Reset your" in msg["Subject"]
    link = link_in(mail)
    assert reset(mailed, link) == (303, "/login?reset=1")
    assert "Your new password is saved" in mailed.client.get("/login?reset=1").text
    mailed.login("alice", NEW)
    with pytest.raises(AssertionError):
        mailed.login("alice", PASSWORD)
    # Once only.
    status, text = reset(mailed, link)
    assert status == 400 and "This link was already used." in text


def test_the_answer_is_the_same_for_an_unknown_account_and_nothing_is_sent(
    mailed: World,
) -> None:
    assert password_reset.SENT in ask(mailed, "nobody-here")
    assert password_reset.SENT in ask(mailed, "bob")  # bob has no email address
    assert mails(mailed) == []
    page = mailed.client.get("/password/forgot")
    r = mailed.client.post("/password/forgot", data={"csrf": _csrf(page.text), "account": " "})
    assert r.status_code == 400 and "Enter your username" in r.text


def test_expired_forged_and_mismatched_are_refused_with_a_sentence(mailed: World) -> None:
    ask(mailed, "alice")
    link = link_in(mails(mailed)[0])
    status, text = reset(mailed, link, confirm="something else entirely")
    assert status == 400 and "The two passwords are not the same." in text
    status, text = reset(mailed, link, password="short", confirm="short")
    assert status == 400 and "at least 10 characters" in text
    status, text = reset(mailed, "/password/reset?token=forged.token.here")
    assert status == 400 and "This link is not valid." in text
    status, text = reset(mailed, "/password/reset")
    assert status == 400 and "not valid" in text

    class Old(TimestampSigner):
        def get_timestamp(self) -> int:
            return int(time.time()) - password_reset.LIFETIME - 60

    with mailed.factory() as s:
        alice = s.query(RetailCustomer).filter_by(username="alice").one()
        old = URLSafeTimedSerializer(mailed.settings.secret_key, password_reset.SALT, signer=Old)
        token = old.dumps({"c": alice.id, "f": password_reset._fingerprint(alice)})
    status, text = reset(mailed, "/password/reset?token=" + token)
    assert status == 400 and "This link has expired." in text


def test_forged_forms_are_refused(mailed: World) -> None:
    r = mailed.client.post("/password/forgot", data={"csrf": "x", "account": "alice"})
    assert r.status_code == 403
    r = mailed.client.post("/password/reset", data={"csrf": "x", "token": "t", "password": NEW})
    assert r.status_code == 403
    assert mails(mailed) == []
