"""Staff sign-in at /console/login: password, then the optional TOTP step (RFC 6238);
every try audited (sign_in.ok / sign_in.failed, actor kind staff); disabled staff and
a wrong code refused; a forged form refused; pages need a signed-in staff member.
SQLite and PostgreSQL."""

from __future__ import annotations

import pyotp
from sqlalchemy.orm import Session, sessionmaker

from gbconnect.accounts import totp
from gbconnect.console.models import StaffUser
from gbconnect.console.staff import disable_staff
from tests.factories.world import World
from tests.integration.console.helpers import (
    browser,
    csrf_of,
    last_events,
    make_staff,
    sign_in,
)


def _with_totp(factory: sessionmaker[Session], staff_id: int) -> tuple[str, list[str]]:
    key = totp.new_key()
    codes, digests = totp.recovery_codes()
    with factory() as session:
        staff = session.get(StaffUser, staff_id)
        assert staff is not None
        staff.totp_secret, staff.totp_recovery = key, digests
        session.commit()
    return key, codes


def test_sign_in_and_out_audited(world: World) -> None:
    make_staff(world.factory, "viewer")
    client = browser(world)
    assert client.get("/console", follow_redirects=False).headers["location"] == (
        "/console/login?next=%2Fconsole"
    )
    assert sign_in(client, "viewer@utility.example", "wrong password!")[0] == 401
    failed = last_events(world.factory)[0]
    assert (failed.action, failed.actor_kind, failed.actor) == (
        "sign_in.failed",
        "staff",
        "viewer@utility.example",
    )
    assert failed.details == {"console": True, "reason": "wrong password"}
    assert sign_in(client, "VIEWER@utility.example") == (303, "/console")
    ok = last_events(world.factory)[0]
    assert (ok.action, ok.actor_kind, ok.target_kind) == ("sign_in.ok", "staff", "staff")
    page = client.get("/console")
    assert page.status_code == 200 and "viewer@utility.example" in page.text
    client.post("/console/logout", data={"csrf": csrf_of(page.text)})
    assert client.get("/console", follow_redirects=False).status_code == 303


def test_unknown_email_is_audited_as_failed(world: World) -> None:
    assert sign_in(browser(world), "nobody@utility.example")[0] == 401
    e = last_events(world.factory)[0]
    assert e.action == "sign_in.failed" and e.target_kind is None


def test_disabled_staff_cannot_sign_in_and_sessions_end(world: World) -> None:
    staff_id = make_staff(world.factory, "operator")
    client = browser(world)
    assert sign_in(client, "operator@utility.example")[0] == 303
    with world.factory() as session:
        staff = session.get(StaffUser, staff_id)
        assert staff is not None
        disable_staff(session, staff)
        session.commit()
    assert client.get("/console", follow_redirects=False).status_code == 303
    status, body = sign_in(browser(world), "operator@utility.example")
    assert status == 401 and "do not match an active staff account" in body
    assert last_events(world.factory)[0].details == {"console": True, "reason": "disabled"}


def test_second_step_wrong_then_right_code(world: World) -> None:
    staff_id = make_staff(world.factory, "administrator")
    key, codes = _with_totp(world.factory, staff_id)
    client = browser(world)
    assert sign_in(client, "administrator@utility.example") == (303, "/console/login/code")
    # Not signed in yet.
    assert client.get("/console", follow_redirects=False).status_code == 303
    page = client.get("/console/login/code")
    wrong = client.post("/console/login/code", data={"csrf": csrf_of(page.text), "code": "000000"})
    assert wrong.status_code == 401 and "That code is not right" in wrong.text
    assert last_events(world.factory)[0].details == {"console": True, "reason": "wrong code"}
    forged = client.post("/console/login/code", data={"csrf": "forged", "code": "000000"})
    assert forged.status_code == 403
    right = client.post(
        "/console/login/code",
        data={"csrf": csrf_of(wrong.text), "code": pyotp.TOTP(key).now()},
        follow_redirects=False,
    )
    assert right.status_code == 303 and right.headers["location"] == "/console"
    assert last_events(world.factory)[0].action == "sign_in.ok"
    assert client.get("/console").status_code == 200
    # A recovery code works once.
    for expected in (303, 401):
        again = browser(world)
        sign_in(again, "administrator@utility.example")
        page = again.get("/console/login/code")
        r = again.post(
            "/console/login/code",
            data={"csrf": csrf_of(page.text), "code": codes[0]},
            follow_redirects=False,
        )
        assert r.status_code == expected


def test_too_many_wrong_codes_start_over(world: World) -> None:
    staff_id = make_staff(world.factory, "viewer")
    _with_totp(world.factory, staff_id)
    client = browser(world)
    sign_in(client, "viewer@utility.example")
    token = csrf_of(client.get("/console/login/code").text)
    for _n in range(4):
        r = client.post("/console/login/code", data={"csrf": token, "code": "123456"})
        assert r.status_code == 401
    r = client.post(
        "/console/login/code", data={"csrf": token, "code": "123456"}, follow_redirects=False
    )
    assert r.headers["location"] == "/console/login?code=expired"
    assert client.get("/console/login/code", follow_redirects=False).status_code == 303


def test_forged_login_form_and_throttle(world: World) -> None:
    make_staff(world.factory, "viewer")
    client = browser(world)
    r = client.post(
        "/console/login",
        data={"email": "viewer@utility.example", "password": "x", "csrf": "forged"},
    )
    assert r.status_code == 403 and "expired" in r.text
    for _n in range(world.settings.login_attempts):
        assert sign_in(client, "viewer@utility.example", "wrong password!")[0] == 401
    status, body = sign_in(client, "viewer@utility.example")
    assert status == 429 and "Too many failed attempts" in body


def test_next_stays_in_the_console(world: World) -> None:
    make_staff(world.factory, "viewer")
    client = browser(world)
    page = client.get("/console/login?next=https://evil.example/")
    r = client.post(
        "/console/login",
        data={
            "email": "viewer@utility.example",
            "password": "staff password 1",
            "csrf": csrf_of(page.text),
            "next": "//evil.example/",
        },
        follow_redirects=False,
    )
    assert r.headers["location"] == "/console"


def test_staff_turns_the_second_step_on_and_off(world: World) -> None:
    import re

    from tests.integration.console.helpers import csrf, staff_browser

    client = staff_browser(world, "viewer")
    assert 'id="totp-state">Off' in client.get("/console/account").text
    start = client.post("/console/account/totp/start", data={"csrf": csrf(client)})
    found = re.search(r'<code id="totp-key">([^<]+)</code>', start.text)
    assert found and 'href="otpauth://totp/' in start.text
    key = found.group(1).replace(" ", "")
    bad = client.post(
        "/console/account/totp/confirm", data={"csrf": csrf_of(start.text), "code": "000000"}
    )
    assert bad.status_code == 400 and "That code is not right" in bad.text
    done = client.post(
        "/console/account/totp/confirm",
        data={"csrf": csrf_of(bad.text), "code": pyotp.TOTP(key).now()},
    )
    assert 'id="totp-on"' in done.text
    codes = re.findall(r"<li><code>([0-9a-f]{6}-[0-9a-f]{6})</code></li>", done.text)
    assert len(codes) == 10
    assert last_events(world.factory)[0].action == "staff.totp_on"
    # The next sign-in asks for a code.
    assert sign_in(browser(world), "viewer@utility.example") == (303, "/console/login/code")
    wrong = client.post("/console/account/totp/off", data={"csrf": csrf(client), "code": "1"})
    assert wrong.status_code == 400 and "stays on" in wrong.text
    off = client.post(
        "/console/account/totp/off",
        data={"csrf": csrf(client), "code": codes[0]},
        follow_redirects=False,
    )
    assert off.status_code == 303
    assert last_events(world.factory)[0].action == "staff.totp_off"
    assert sign_in(browser(world), "viewer@utility.example") == (303, "/console")
