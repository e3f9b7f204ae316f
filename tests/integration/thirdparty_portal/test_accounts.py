"""The third-party portal's sign-up, email confirmation (signed link, 24 hours, once)
and sign-in with and without the second step (TOTP, RFC 6238); each audited.
SQLite and PostgreSQL."""

from __future__ import annotations

import html
import re
import time

import pyotp
import pytest
from itsdangerous import TimestampSigner, URLSafeTimedSerializer
from sqlalchemy import func, select

from gbconnect.audit.models import AuditEvent
from gbconnect.thirdparty_portal import accounts
from gbconnect.thirdparty_portal.models import Company, CompanyUser
from tests.factories.world import World, _csrf
from tests.integration.thirdparty_portal.helpers import (
    PASSWORD,
    company,
    csrf,
    last_link,
    mails,
    sign_in,
    sign_up,
)


def events(world: World, action: str) -> list[AuditEvent]:
    with world.factory() as s:
        return list(s.scalars(select(AuditEvent).where(AuditEvent.action == action)))


def test_sign_up_stores_the_company_and_mails_a_link(portal: World) -> None:
    status, text = sign_up(portal)
    assert status == 200 and "We sent a link to <strong>dev@acme.example</strong>" in text
    assert len(mails(portal)) == 1
    with portal.factory() as s:
        c = s.scalars(select(Company)).one()
        u = s.scalars(select(CompanyUser)).one()
        assert (c.legal_name, c.kind, c.technical_phone) == (
            "Acme Energy Analytics, Inc.",
            "standard",
            "+1 415 555 0100",
        )
        assert u.confirmed_at is None and u.password_hash.startswith("$argon2id$")
    (event,) = events(portal, "company.signed_up")
    assert event.actor_kind == "third party"
    assert event.actor == "dev@acme.example (Acme Energy Analytics, Inc.)"
    # Not confirmed: the right password does not sign in, and a new link is sent.
    assert sign_in(portal.client) == 403
    assert len(mails(portal)) == 2


@pytest.mark.parametrize(
    ("field", "value", "sentence"),
    [
        ("legal_name", "  ", "Enter the company's legal name."),
        ("legal_name", "x" * 300, "at most 256 characters"),
        ("kind", "utility", "Choose the kind of third party."),
        ("technical_email", "not-an-address", "The technical email is not an email address."),
        ("business_phone", "call me", "The business phone is not a phone number"),
        ("name", "", "Enter your name."),
        ("email", "dev@", "Your email address is not an email address."),
        ("password", "short", "The two passwords are not the same."),
    ],
)
def test_sign_up_explains_each_bad_field(
    portal: World, field: str, value: str, sentence: str
) -> None:
    status, text = sign_up(portal, **{field: value})
    assert status == 400
    assert sentence.split(".")[0][:20] in html.unescape(text)
    # The values typed are kept (not the passwords).
    assert 'value="tech@acme.example"' in text or field == "technical_email"
    assert PASSWORD not in text
    assert mails(portal) == []


def test_short_password_and_taken_email(portal: World) -> None:
    status, text = sign_up(portal, password="short", confirm="short")
    assert status == 400 and "at least 10 characters" in text
    assert sign_up(portal)[0] == 200
    assert len(mails(portal)) == 1
    # A taken address gets the same answer as a new one (no account enumeration);
    # its owner is told by mail, and no second company is stored.
    status, text = sign_up(portal, email="DEV@acme.example", legal_name="Someone Else Ltd")
    assert status == 200 and "exists already" not in text
    assert len(mails(portal)) == 2
    body = mails(portal)[-1].read_text()
    assert "already has an account" in body and "/thirdparty/confirm" not in body
    with portal.factory() as s:
        assert s.scalar(select(func.count()).select_from(Company)) == 1


def test_confirmation_link_works_once(portal: World) -> None:
    sign_up(portal)
    link = last_link(portal)
    r = portal.client.get(link, follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/thirdparty/login?confirmed=1"
    again = portal.client.get(link)
    assert again.status_code == 400 and "already used" in again.text
    assert len(events(portal, "company_user.confirmed")) == 1


def test_forged_and_expired_links_are_refused(portal: World) -> None:
    sign_up(portal)
    link = last_link(portal)
    forged = link[:-3] + ("AAA" if not link.endswith("AAA") else "BBB")
    r = portal.client.get(forged)
    assert r.status_code == 400 and "not valid" in r.text
    assert portal.client.get("/thirdparty/confirm").status_code == 400
    assert portal.client.get("/thirdparty/confirm?token=" + "x" * 5000).status_code == 400

    class Old(TimestampSigner):
        def get_timestamp(self) -> int:
            return int(time.time()) - accounts.CONFIRM_LIFETIME - 60

    with portal.factory() as s:
        user = s.scalars(select(CompanyUser)).one()
        old = URLSafeTimedSerializer(portal.settings.secret_key, accounts.SALT, signer=Old)
        token = old.dumps({"u": user.id, "e": user.email})
        # Signed with another key: forged.
        other = URLSafeTimedSerializer("another key" * 4, accounts.SALT).dumps(
            {"u": user.id, "e": user.email}
        )
    r = portal.client.get("/thirdparty/confirm?token=" + token)
    assert r.status_code == 400 and "expired" in r.text
    r = portal.client.get("/thirdparty/confirm?token=" + other)
    assert r.status_code == 400 and "not valid" in r.text
    with portal.factory() as s:
        assert s.scalars(select(CompanyUser)).one().confirmed_at is None


def test_sign_in_without_second_step_is_audited(portal: World) -> None:
    sign_up(portal)
    portal.client.get(last_link(portal))
    assert sign_in(portal.client, password="wrong password!") == 401
    assert sign_in(portal.client, email="nobody@acme.example") == 401
    assert sign_in(portal.client) == 303
    assert portal.client.get("/thirdparty/applications").status_code == 200
    failed = events(portal, "sign_in.failed")
    assert len(failed) == 2 and {e.actor_kind for e in failed} == {"third party"}
    (ok,) = events(portal, "sign_in.ok")
    assert ok.address == "testclient" and ok.actor.startswith("dev@acme.example (")


def test_sign_out_ends_the_session(portal: World) -> None:
    company(portal)
    token = csrf(portal.client, "/thirdparty/applications")
    r = portal.client.post("/thirdparty/logout", data={"csrf": token}, follow_redirects=False)
    assert r.status_code == 303
    assert portal.client.get("/thirdparty/applications", follow_redirects=False).status_code == 303
    assert len(events(portal, "sign_out")) == 1


def test_sign_in_is_throttled(portal: World) -> None:
    sign_up(portal)
    portal.client.get(last_link(portal))
    for _ in range(portal.settings.login_attempts):
        assert sign_in(portal.client, password="wrong password!") == 401
    assert sign_in(portal.client) == 429


def test_signed_out_pages_go_to_sign_in(portal: World) -> None:
    for path in ("/thirdparty/applications", "/thirdparty/security", "/thirdparty"):
        r = portal.client.get(path, follow_redirects=False)
        assert r.status_code == 303


def test_forged_forms_are_refused(portal: World) -> None:
    r = portal.client.post("/thirdparty/signup", data={"csrf": "forged", "legal_name": "x"})
    assert r.status_code == 403 and "expired" in r.text
    r = portal.client.post("/thirdparty/login", data={"email": "a@b.example", "password": "x"})
    assert r.status_code == 403
    r = portal.client.post(
        "/thirdparty/signup",
        content=b"\xff\xfe",
        headers={"content-type": "application/x-www-form-urlencoded"},
    )
    assert r.status_code == 403


def test_second_step_with_totp_and_recovery_code(portal: World) -> None:
    company(portal)
    r = portal.client.post(
        "/thirdparty/security/totp-start",
        data={"csrf": csrf(portal.client, "/thirdparty/security")},
    )
    key = re.search(r'<code id="totp-key">([^<]+)</code>', r.text)
    assert r.status_code == 200 and key
    secret = key.group(1).replace(" ", "")
    bad = portal.client.post(
        "/thirdparty/security/totp-confirm", data={"csrf": _csrf(r.text), "code": "000000"}
    )
    assert bad.status_code == 400 and "not right" in bad.text
    done = portal.client.post(
        "/thirdparty/security/totp-confirm",
        data={"csrf": _csrf(bad.text), "code": pyotp.TOTP(secret).now()},
    )
    codes = re.findall(r"<li><code>([0-9a-f]{6}-[0-9a-f]{6})</code></li>", done.text)
    assert done.status_code == 200 and len(codes) == 10

    portal.client.cookies.clear()
    assert sign_in(portal.client) == 303
    page = portal.client.get("/thirdparty/login/code")
    wrong = portal.client.post(
        "/thirdparty/login/code", data={"csrf": _csrf(page.text), "code": "123456"}
    )
    assert wrong.status_code == 401
    assert portal.client.get("/thirdparty/applications", follow_redirects=False).status_code == 303
    ok = portal.client.post(
        "/thirdparty/login/code",
        data={"csrf": _csrf(wrong.text), "code": pyotp.TOTP(secret).now()},
        follow_redirects=False,
    )
    assert ok.status_code == 303 and ok.headers["location"] == "/thirdparty/applications"
    assert portal.client.get("/thirdparty/applications").status_code == 200

    # A recovery code works once.
    portal.client.cookies.clear()
    assert sign_in(portal.client) == 303
    page = portal.client.get("/thirdparty/login/code")
    r = portal.client.post(
        "/thirdparty/login/code",
        data={"csrf": _csrf(page.text), "code": codes[0]},
        follow_redirects=False,
    )
    assert r.status_code == 303
    portal.client.cookies.clear()
    assert sign_in(portal.client) == 303
    page = portal.client.get("/thirdparty/login/code")
    r = portal.client.post(
        "/thirdparty/login/code", data={"csrf": _csrf(page.text), "code": codes[0]}
    )
    assert r.status_code == 401
    assert len(events(portal, "totp.enabled")) == 1
    assert any(e.details == {"second_factor": True} for e in events(portal, "sign_in.ok"))


def test_too_many_wrong_codes_start_again(portal: World) -> None:
    company(portal)
    with portal.factory() as s:
        user = s.scalars(select(CompanyUser)).one()
        user.totp_secret = pyotp.random_base32()
        s.commit()
    portal.client.cookies.clear()
    assert sign_in(portal.client) == 303
    text = portal.client.get("/thirdparty/login/code").text
    last = None
    for _ in range(5):
        last = portal.client.post(
            "/thirdparty/login/code",
            data={"csrf": _csrf(text), "code": "000000"},
            follow_redirects=False,
        )
        if last.status_code == 401:
            text = last.text
    assert last is not None and last.status_code == 303
    assert last.headers["location"] == "/thirdparty/login?code=expired"
