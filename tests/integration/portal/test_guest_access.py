"""Guest access (STANDARD.md section 7, PG&E): a signed-out customer sent to the
consent page types the account number and the phone on the account, then the code
texted to it, and authorizes the third party as a guest; the grant is the retail
customer's. Every refusal is explained; nothing tells whether an account matched.
SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from urllib.parse import quote

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, select, update

from gbconnect.config import load_settings
from gbconnect.customer.models import OneTimeCode, RetailCustomer
from gbconnect.oauth import models as om
from gbconnect.registration import models as rm
from gbconnect.web import security
from tests.factories.app import SECRET_KEY, app_client
from tests.factories.world import REDIRECT, World, _csrf
from tests.integration.portal.texting import (
    ACCOUNT,
    PHONE,
    csrf,
    last_code,
    texting_world,
    texts,
)
from tests.receiver import answer, receiving


@pytest.fixture
def guest_world(world: World, engine: Engine, tmp_path: Path) -> Iterator[World]:
    with texting_world(world, engine, tmp_path / "sms") as w:
        yield w


def guest_url(world: World) -> str:
    return "/guest?next=" + quote(world.authorize_url(), safe="")


def start(
    world: World, account: str = "44-55", phone: str = "(415) 555-0123", **extra: str
) -> tuple[int, str]:
    data = {
        "csrf": csrf(world, guest_url(world)),
        "account": account,
        "phone": phone,
        "next": world.authorize_url(),
    }
    data.update(extra)
    r = world.client.post("/guest", data=data, follow_redirects=False)
    return r.status_code, r.headers.get("location", r.text)


def send_code(world: World, code: str, client: TestClient | None = None) -> tuple[int, str]:
    client = client or world.client
    page = client.get("/guest/code")
    r = client.post(
        "/guest/code", data={"csrf": _csrf(page.text), "code": code}, follow_redirects=False
    )
    return r.status_code, r.headers.get("location", r.text)


def as_guest(world: World) -> None:
    assert start(world) == (303, "/guest/code")
    assert send_code(world, last_code(world)) == (303, world.authorize_url())


def test_the_sign_in_page_offers_guest_access_to_the_consent_page_only(
    guest_world: World,
) -> None:
    r = guest_world.client.get(guest_world.authorize_url(), follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"].startswith("/login?next=")
    login = guest_world.client.get(r.headers["location"]).text
    assert 'id="guest"' in login and "Continue as a guest" in login
    assert 'href="/guest?next=/oauth/authorize%3Fresponse_type%3Dcode%26' in login
    plain = guest_world.client.get("/login").text
    assert 'id="guest"' not in plain and 'href="/register"' in plain


def test_a_guest_authorizes_and_the_grant_is_the_customer_s(guest_world: World) -> None:
    world = guest_world
    page = world.client.get(guest_url(world))
    assert page.status_code == 200 and 'autocomplete="tel"' in page.text
    assert start(world) == (303, "/guest/code")
    (text,) = texts(world)
    assert text["to"] == PHONE
    assert text["text"].startswith(f"Your {world.settings.utility_name} code is ")
    code_page = world.client.get("/guest/code").text
    assert "•••• 0123" in code_page and 'autocomplete="one-time-code"' in code_page
    assert send_code(world, last_code(world)) == (303, world.authorize_url())
    # A guest session is good for the consent page only.
    for path in ("/account", "/account/authorizations", "/account/security"):
        r = world.client.get(path, follow_redirects=False)
        assert r.status_code == 303 and r.headers["location"].startswith("/login"), path
    query = world.consent()
    assert "code" in query and query["state"] == ["xyz-42"]
    # The decision ends the guest session.
    r = world.client.get(world.authorize_url(), follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"].startswith("/login")
    r = world.client.post(
        "/oauth/token",
        data={
            "grant_type": "authorization_code",
            "code": query["code"][0],
            "redirect_uri": REDIRECT,
        },
        headers=world.basic(),
    )
    assert r.status_code == 200, r.text
    with world.factory() as s:
        alice = s.scalars(select(RetailCustomer).where(RetailCustomer.username == "alice")).one()
        (auth,) = s.scalars(select(om.Authorization)).all()
        assert auth.retail_customer_id == alice.id


def test_a_guest_who_denies_is_signed_out_too(guest_world: World) -> None:
    as_guest(guest_world)
    query = guest_world.consent(decision="deny")
    assert query["error"] == ["access_denied"]
    r = guest_world.client.get(guest_world.authorize_url(), follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"].startswith("/login")


def test_no_match_is_answered_the_same_and_texts_nothing(guest_world: World) -> None:
    world = guest_world
    for account, phone in [("9999", "(415) 555-0123"), ("4455", "(415) 555-0124")]:
        assert start(world, account, phone) == (303, "/guest/code")
        page = world.client.get("/guest/code")
        assert page.status_code == 200 and "If the account number and phone match" in page.text
        status, text = send_code(world, "123456")
        assert status == 401 and "That code is not right." in text
    assert texts(world) == []


def test_fields_are_checked_with_sentences_and_kept(guest_world: World) -> None:
    status, text = start(guest_world, account="", phone="call me")
    assert status == 400
    assert "Enter your account number, as it is on your bill." in text
    assert "That is not a phone number." in text
    assert 'value="call me"' in text and 'aria-invalid="true"' in text
    status, text = start(guest_world, account="44#55", phone="")
    assert status == 400 and "only digits and letters" in text
    assert "Enter the phone number on your account." in text and 'value="44#55"' in text
    status, text = start(guest_world, phone="555-0123")
    assert status == 400 and "too short" in text
    assert texts(guest_world) == []


def test_guest_access_is_for_the_consent_page_only(guest_world: World) -> None:
    r = guest_world.client.get("/guest")
    assert r.status_code == 400 and "Guest access is for sharing your data" in r.text
    status, text = start(guest_world, next="/account")
    assert status == 400 and "Guest access is for sharing your data" in text
    assert texts(guest_world) == []


def test_wrong_expired_and_used_codes_are_told_apart(guest_world: World) -> None:
    world = guest_world
    assert start(world)[0] == 303
    code = last_code(world)
    status, text = send_code(world, "12 34")
    assert status == 400 and "Type the 6 digits" in text
    wrong = "000000" if code != "000000" else "111111"
    status, text = send_code(world, wrong)
    assert status == 401 and "That code is not right." in text
    with world.factory() as s:
        s.execute(update(OneTimeCode).values(expires=OneTimeCode.created))
        s.commit()
    status, text = send_code(world, code)
    assert status == 400 and "That code has expired. Ask for a new one." in text
    # A new code; a second browser holding the same first step brings it again.
    assert start(world)[0] == 303
    other = TestClient(world.client.app)
    other.cookies.update(world.client.cookies)
    code = last_code(world)
    assert send_code(world, code)[0] == 303
    status, text = send_code(world, code, other)
    assert status == 400 and "That code was already used." in text


def test_five_wrong_codes_start_over_and_the_code_is_dead(guest_world: World) -> None:
    world = guest_world
    assert start(world)[0] == 303
    other = TestClient(world.client.app)
    other.cookies.update(world.client.cookies)
    code = last_code(world)
    wrong = "000000" if code != "000000" else "111111"
    for _ in range(4):
        assert send_code(world, wrong)[0] == 401
    status, location = send_code(world, wrong)
    assert status == 303 and location.startswith("/guest?next=") and "tries=1" in location
    assert "Too many wrong codes. Ask for a new code." in world.client.get(location).text
    assert world.client.get("/guest/code", follow_redirects=False).status_code == 303
    status, text = send_code(world, code, other)
    assert status == 400 and "Too many wrong tries for this code." in text


def test_three_codes_an_hour_then_none_and_the_answer_is_the_same(guest_world: World) -> None:
    for _ in range(4):
        assert start(guest_world) == (303, "/guest/code")
    assert len(texts(guest_world)) == 3
    # The newest code sent still works.
    assert send_code(guest_world, last_code(guest_world))[0] == 303


def test_the_first_step_is_throttled_by_address(guest_world: World) -> None:
    attempts = guest_world.settings.login_attempts
    for _ in range(attempts):
        assert start(guest_world, account="12345")[0] == 303
    status, text = start(guest_world, account="12345")
    assert status == 429 and "Too many tries from here." in text
    assert 'value="12345"' in text


def test_forms_without_their_csrf_token_are_refused(guest_world: World) -> None:
    r = guest_world.client.post(
        "/guest", data={"account": ACCOUNT, "phone": PHONE, "next": guest_world.authorize_url()}
    )
    assert r.status_code == 403 and "This form has expired" in r.text
    assert start(guest_world)[0] == 303
    r = guest_world.client.post("/guest/code", data={"csrf": "x", "code": last_code(guest_world)})
    assert r.status_code == 403
    assert guest_world.client.get("/guest/code", follow_redirects=False).status_code == 200


def test_a_guest_may_authorize_approved_third_parties_only(guest_world: World) -> None:
    world = guest_world
    with world.factory() as s:
        s.execute(
            update(rm.ApplicationInformation)
            .where(rm.ApplicationInformation.id == world.app_id)
            .values(data_custodian_status=rm.REVIEW)
        )
        s.execute(update(RetailCustomer).values(is_test=True))
        s.commit()
    as_guest(world)
    page = world.client.get(world.authorize_url())
    assert page.status_code == 403
    r = world.client.post(
        world.authorize_url(),
        data={"csrf": csrf(world, guest_url(world)), "decision": "approve"},
        follow_redirects=False,
    )
    assert r.status_code == 403
    with world.factory() as s:
        assert s.scalars(select(om.Authorization)).all() == []


def test_a_failing_gateway_answers_the_same(world: World, engine: Engine) -> None:
    with receiving() as gateway:
        gateway.behaviour = lambda h: answer(h, 503)
        with world.factory() as s:
            s.execute(update(RetailCustomer).values(phone=PHONE))
            s.commit()
        settings = load_settings(
            database_url=world.settings.database_url,
            secret_key=SECRET_KEY,
            sms_webhook=gateway.url,
        )
        with app_client(settings, engine) as client:
            w = replace(world, client=client, settings=settings)
            assert start(w) == (303, "/guest/code")
            assert len(gateway.received) == 1


def test_a_guest_session_lasts_half_an_hour(
    guest_world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    as_guest(guest_world)
    assert guest_world.client.get(guest_world.authorize_url()).status_code == 200
    monkeypatch.setattr(security, "GUEST_LIFETIME", 0)
    r = guest_world.client.get(guest_world.authorize_url(), follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"].startswith("/login?next=")
