"""Account security: recent sign-ins, sign out everywhere, and the TOTP second step
(RFC 6238) with recovery codes. SQLite and PostgreSQL."""

from __future__ import annotations

import re

import pyotp
from fastapi.testclient import TestClient

from tests.factories.world import PASSWORD, World, _csrf


def csrf(world: World, client: TestClient | None = None) -> str:
    return _csrf((client or world.client).get("/account/security").text)


def sign_in(client: TestClient, username: str = "alice", password: str = PASSWORD) -> str:
    page = client.get("/login")
    r = client.post(
        "/login",
        data={
            "username": username,
            "password": password,
            "csrf": _csrf(page.text),
            "next": "/account",
        },
        follow_redirects=False,
    )
    return f"{r.status_code} {r.headers.get('location', '')}"


def enable_totp(world: World) -> tuple[str, list[str]]:
    r = world.client.post("/account/security/totp/start", data={"csrf": csrf(world)})
    assert r.status_code == 200
    key = re.search(r'<code id="totp-key">([^<]+)</code>', r.text)
    assert key and 'href="otpauth://totp/' in r.text
    secret = key.group(1).replace(" ", "")
    bad = world.client.post(
        "/account/security/totp/confirm", data={"csrf": _csrf(r.text), "code": "000000"}
    )
    assert bad.status_code == 400 and "That code is not right" in bad.text
    done = world.client.post(
        "/account/security/totp/confirm",
        data={"csrf": _csrf(bad.text), "code": pyotp.TOTP(secret).now()},
    )
    assert done.status_code == 200 and 'id="totp-on"' in done.text
    codes = re.findall(r"<li><code>([0-9a-f]{6}-[0-9a-f]{6})</code></li>", done.text)
    assert len(codes) == 10
    return secret, codes


def code_step(client: TestClient, code: str) -> tuple[int, str]:
    page = client.get("/login/code")
    r = client.post(
        "/login/code", data={"csrf": _csrf(page.text), "code": code}, follow_redirects=False
    )
    return r.status_code, r.headers.get("location", r.text)


def test_recent_sign_ins_list_the_tries(world: World) -> None:
    client = world.client
    assert sign_in(client, password="not the password at all").startswith("401")
    assert sign_in(client) == "303 /account"
    page = client.get("/account/security").text
    assert page.index("Signed in") < page.index("Wrong password")


def test_sign_out_everywhere_ends_the_other_sessions(world: World) -> None:
    other = TestClient(world.client.app)
    world.login()
    assert sign_in(other) == "303 /account"
    r = world.client.post(
        "/account/security/sign-out-everywhere", data={"csrf": csrf(world)}, follow_redirects=False
    )
    assert r.status_code == 303 and r.headers["location"] == "/account/security?done=signed-out"
    assert world.client.get("/account", follow_redirects=False).status_code == 200
    assert other.get("/account", follow_redirects=False).status_code == 303


def test_the_second_step_with_a_code_or_a_recovery_code(world: World) -> None:
    world.login()
    secret, codes = enable_totp(world)
    out = TestClient(world.client.app)
    assert sign_in(out) == "303 /login/code"
    assert out.get("/account", follow_redirects=False).status_code == 303  # not yet
    status, text = code_step(out, "123456")
    assert status == 401 and "That code is not right" in text
    assert code_step(out, pyotp.TOTP(secret).now()) == (303, "/account")
    assert out.get("/account", follow_redirects=False).status_code == 200
    # A recovery code works once.
    again = TestClient(world.client.app)
    assert sign_in(again) == "303 /login/code"
    assert code_step(again, codes[0]) == (303, "/account")
    third = TestClient(world.client.app)
    sign_in(third)
    assert code_step(third, codes[0])[0] == 401


def test_too_many_wrong_codes_start_again_from_the_password(world: World) -> None:
    world.login()
    enable_totp(world)
    out = TestClient(world.client.app)
    sign_in(out)
    for _ in range(4):
        assert code_step(out, "000000")[0] == 401
    assert code_step(out, "000000") == (303, "/login?code=expired")
    assert out.get("/login/code", follow_redirects=False).headers["location"] == "/login"


def test_turning_it_off_needs_a_code(world: World) -> None:
    world.login()
    secret, _ = enable_totp(world)
    r = world.client.post("/account/security/totp/off", data={"csrf": csrf(world), "code": "1"})
    assert r.status_code == 400 and "stays on" in r.text
    r = world.client.post(
        "/account/security/totp/off",
        data={"csrf": csrf(world), "code": pyotp.TOTP(secret).now()},
        follow_redirects=False,
    )
    assert r.status_code == 303
    out = TestClient(world.client.app)
    assert sign_in(out) == "303 /account"


def test_signed_out_and_forged_forms_are_refused(world: World) -> None:
    assert world.client.get("/account/security", follow_redirects=False).status_code == 303
    world.login()
    for path in ("sign-out-everywhere", "totp/start", "totp/confirm", "totp/off"):
        r = world.client.post(f"/account/security/{path}", data={"csrf": "forged"})
        assert r.status_code == 403, path
    assert world.client.post("/login/code", data={"csrf": "forged"}).status_code == 403
