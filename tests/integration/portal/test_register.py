"""Creating an online account with the account number, the phone on the account and
a texted code, then a username, an optional email address and a password; a grant
made as a guest is then in "My authorizations". SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, select

from gbconnect.customer.models import RetailCustomer
from tests.factories.world import PASSWORD, World, _csrf
from tests.integration.portal.helpers import grant_ids
from tests.integration.portal.test_guest_access import as_guest
from tests.integration.portal.texting import csrf, last_code, texting_world, texts

NEW = "a long new passphrase"


@pytest.fixture
def enrolling(world: World, engine: Engine, tmp_path: Path) -> Iterator[World]:
    """alice has data and a phone on file but no online account yet."""
    with texting_world(world, engine, tmp_path / "sms", password_hash=None) as w:
        yield w


def start(world: World, account: str = "4455", phone: str = "415 555 0123") -> tuple[int, str]:
    r = world.client.post(
        "/register",
        data={"csrf": csrf(world, "/register"), "account": account, "phone": phone},
        follow_redirects=False,
    )
    return r.status_code, r.headers.get("location", r.text)


def send_code(world: World, code: str) -> tuple[int, str]:
    page = world.client.get("/register/code")
    r = world.client.post(
        "/register/code", data={"csrf": _csrf(page.text), "code": code}, follow_redirects=False
    )
    return r.status_code, r.headers.get("location", r.text)


def choose(world: World, **fields: str) -> tuple[int, str]:
    data = {"username": "alice.doe", "email": "", "password": NEW, "confirm": NEW}
    data.update(fields)
    data["csrf"] = csrf(world, "/register/account")
    r = world.client.post("/register/account", data=data, follow_redirects=False)
    return r.status_code, r.headers.get("location", r.text)


def test_a_guest_grant_shows_once_the_customer_creates_an_online_account(
    enrolling: World,
) -> None:
    world = enrolling
    as_guest(world)
    world.consent()
    login = world.client.get("/login").text
    assert 'href="/register"' in login
    page = world.client.get("/register")
    assert page.status_code == 200 and "Create an online account" in page.text
    assert start(world) == (303, "/register/code")
    assert texts(world)[-1]["to"] == "+14155550123"
    assert send_code(world, last_code(world)) == (303, "/register/account")
    form = world.client.get("/register/account").text
    assert 'value="alice"' in form and 'autocomplete="new-password"' in form
    assert choose(world, email="alice@example.com") == (303, "/account")
    assert world.client.get("/account", follow_redirects=False).status_code == 200
    mine = world.client.get("/account/authorizations").text
    assert len(grant_ids(mine, "active")) == 1
    # The new username and password sign in; the email address is kept.
    world.client.cookies.clear()
    world.login("alice.doe", NEW)
    with world.factory() as s:
        alice = s.scalars(select(RetailCustomer).where(RetailCustomer.username == "alice.doe"))
        assert alice.one().email == "alice@example.com"


def test_each_field_is_checked_and_kept(enrolling: World) -> None:
    world = enrolling
    assert start(world)[0] == 303
    assert send_code(world, last_code(world))[0] == 303
    status, text = choose(world, username="two words", email="not-an-address", password="short")
    assert status == 400
    assert "without spaces" in text and 'value="two words"' in text
    assert "That is not an email address" in text and 'value="not-an-address"' in text
    assert "at least 10 characters" in text
    status, text = choose(world, confirm="another passphrase")
    assert status == 400 and "The two passwords are not the same." in text
    status, text = choose(world, username="bob")
    assert status == 400 and "That username is taken." in text
    assert choose(world)[0] == 303


def test_an_account_with_a_password_is_told_to_sign_in(
    world: World, engine: Engine, tmp_path: Path
) -> None:
    with texting_world(world, engine, tmp_path / "sms") as w:
        assert start(w) == (303, "/register/code")
        status, text = send_code(w, last_code(w))
        assert status == 200 and 'id="has-account"' in text and "alice" in text
        assert 'href="/password/forgot"' in text
        w.login("alice", PASSWORD)


def test_no_match_wrong_code_and_forms_are_refused(enrolling: World) -> None:
    world = enrolling
    assert start(world, phone="415 555 0999") == (303, "/register/code")
    assert texts(world) == []
    status, text = send_code(world, "123456")
    assert status == 401 and "That code is not right." in text
    status, text = start(world, account="", phone="12")
    assert status == 400 and "Enter your account number" in text and "too short" in text
    # Without a right code there is nothing to choose.
    r = world.client.get("/register/account", follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/register"
    r = world.client.post("/register", data={"account": "4455", "phone": "4155550123"})
    assert r.status_code == 403
    r = world.client.post("/register/account", data={"csrf": "x", "username": "x"})
    assert r.status_code == 403
    r = world.client.post(
        "/register/account",
        data={"csrf": csrf(world, "/register"), "username": "x"},
        follow_redirects=False,
    )
    assert r.status_code == 303 and r.headers["location"] == "/register"
