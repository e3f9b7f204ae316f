"""Changing the phone on the account: a code texted to the new number, the number
saved once it is typed, the old number told. Every refusal explained; a gateway that
fails is a page, never a 500. SQLite and PostgreSQL."""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest
from sqlalchemy import Engine, select, update

from gbconnect.config import load_settings
from gbconnect.customer.models import OneTimeCode, RetailCustomer
from tests.factories.app import SECRET_KEY, app_client
from tests.factories.world import World
from tests.integration.portal.test_guest_access import as_guest
from tests.integration.portal.texting import PHONE, csrf, last_code, texting_world, texts
from tests.receiver import answer, receiving

NEW = "+66812345678"


@pytest.fixture
def signed_in(world: World, engine: Engine, tmp_path: Path) -> Iterator[World]:
    with texting_world(world, engine, tmp_path / "sms") as w:
        w.login()
        yield w


def ask(world: World, phone: str) -> tuple[int, str]:
    r = world.client.post(
        "/account/security/phone",
        data={"csrf": csrf(world, "/account/security/phone"), "phone": phone},
        follow_redirects=False,
    )
    return r.status_code, r.text


def confirm(world: World, code: str) -> tuple[int, str]:
    r = world.client.post(
        "/account/security/phone/code",
        data={"csrf": csrf(world, "/account/security/phone"), "code": code},
        follow_redirects=False,
    )
    return r.status_code, r.headers.get("location", r.text)


def phone_of(world: World) -> str | None:
    with world.factory() as s:
        return s.scalar(select(RetailCustomer.phone).where(RetailCustomer.username == "alice"))


def test_the_new_number_is_confirmed_by_a_code_and_the_old_one_told(signed_in: World) -> None:
    world = signed_in
    security = world.client.get("/account/security").text
    assert "•••• 0123" in security and 'href="/account/security/phone"' in security
    status, text = ask(world, "+66 81 234 5678")
    assert status == 200 and "We texted a code to •••• 5678" in text
    assert 'autocomplete="one-time-code"' in text
    (sent,) = texts(world)
    assert sent["to"] == NEW and "confirm this phone" in sent["text"]
    assert phone_of(world) == PHONE  # not before the code
    assert confirm(world, last_code(world)) == (303, "/account/security?done=phone-changed")
    assert phone_of(world) == NEW
    told = texts(world)[-1]
    assert told["to"] == PHONE and "was changed to •••• 5678" in told["text"]
    page = world.client.get("/account/security?done=phone-changed").text
    assert "Your phone number is changed." in page and "•••• 5678" in page


def test_bad_numbers_are_refused_with_a_sentence_and_kept(signed_in: World) -> None:
    status, text = ask(signed_in, "call me maybe")
    assert status == 400 and "That is not a phone number." in text
    assert 'value="call me maybe"' in text
    status, text = ask(signed_in, "")
    assert status == 400 and "Enter your new phone number." in text
    status, text = ask(signed_in, "(415) 555-0123")
    assert status == 400 and "That is already the phone number on your account." in text
    assert texts(signed_in) == []


def test_wrong_expired_used_and_too_many_codes(signed_in: World) -> None:
    world = signed_in
    assert ask(world, NEW)[0] == 200
    code = last_code(world)
    status, text = confirm(world, "abc")
    assert status == 400 and "Type the 6 digits" in text
    wrong = "000000" if code != "000000" else "111111"
    status, text = confirm(world, wrong)
    assert status == 401 and "That code is not right." in text
    with world.factory() as s:
        s.execute(update(OneTimeCode).values(expires=time.time() - 1))
        s.commit()
    status, text = confirm(world, code)
    assert status == 400 and "That code has expired." in text
    assert ask(world, NEW)[0] == 200
    code = last_code(world)
    for _ in range(5):
        assert confirm(world, wrong)[0] == 401
    status, text = confirm(world, code)
    assert status == 400 and "Too many wrong tries for this code." in text
    assert ask(world, NEW)[0] == 200
    code = last_code(world)
    assert confirm(world, code)[0] == 303
    status, text = confirm(world, code)
    assert status == 400 and "That code was already used." in text
    # Three codes this hour already: the fourth is refused, saying why.
    status, text = ask(world, "+1 212 555 0100")
    assert status == 429 and "We already sent 3 codes in the last hour." in text
    assert phone_of(world) == NEW


def test_signed_out_guest_and_forged_are_refused(
    signed_in: World, engine: Engine, tmp_path: Path
) -> None:
    world = signed_in
    r = world.client.post("/account/security/phone", data={"csrf": "x", "phone": NEW})
    assert r.status_code == 403 and "This form has expired" in r.text
    r = world.client.post("/account/security/phone/code", data={"code": "123456"})
    assert r.status_code == 403
    world.client.cookies.clear()
    r = world.client.get("/account/security/phone", follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"].startswith("/login")
    as_guest(world)  # a guest session is no sign-in here
    r = world.client.get("/account/security/phone", follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"].startswith("/login")
    status, _ = ask(world, NEW)
    assert status == 303
    assert len(texts(world)) == 1  # the guest code only


def test_a_failing_gateway_is_a_page_not_a_500(world: World, engine: Engine) -> None:
    with receiving() as gateway:
        gateway.behaviour = lambda h: answer(h, 500)
        settings = load_settings(
            database_url=world.settings.database_url,
            secret_key=SECRET_KEY,
            sms_webhook=gateway.url,
        )
        with app_client(settings, engine) as client:
            w = replace(world, client=client, settings=settings)
            w.login()
            status, text = ask(w, NEW)
            assert status == 503 and "We could not send the text message just now." in text
            assert len(gateway.received) == 1
        with w.factory() as s:
            assert s.scalars(select(OneTimeCode)).all() == []
