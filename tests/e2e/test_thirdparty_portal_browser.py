"""End to end, in a real browser against ``gbconnect serve``: a company signs up on the
third-party portal, confirms its address through the mail folder, registers an
application, runs the connectivity test (its notify URI a real local receiver, the
round trip with the utility's test customer) and sees "awaiting approval". axe-core
finds no serious or critical violation on the portal's pages. SQLite and PostgreSQL."""

from __future__ import annotations

import json
import re
import time
from collections.abc import Iterator
from email import message_from_bytes
from pathlib import Path
from typing import Any

import pytest

from gbconnect.notify import signing
from tests.e2e.test_oauth_browser import CHROMIUM, PASSWORD, _cli
from tests.receiver import Receiver, receiving
from tests.serverproc import serving

PORTAL_PASSWORD = "a long third-party password"


@pytest.fixture
def utility(db_url: str, tmp_path: Path) -> Iterator[tuple[str, Path, Receiver]]:
    _cli(db_url, "generate", "--customers", "1", "--days", "2", "--end", "2024-05-02")
    customers = json.loads(_cli(db_url, "customer", "list", "--json"))
    tester = next(c["username"] for c in customers if c["usage_points"])
    _cli(db_url, "customer", "create", tester, "--password", PASSWORD, "--test")
    mail = tmp_path / "mail"
    with receiving() as receiver, serving(db_url, GBCONNECT_MAIL_DIR=str(mail)) as served:
        yield served.base, mail, receiver


def serious(axe: Any, page: Any) -> list[str]:
    results = axe.run(page)
    return [
        f"{v['id']} ({v['impact']}): {v['help']}"
        for v in results.response["violations"]
        if v.get("impact") in ("serious", "critical")
    ]


def test_sign_up_register_and_pass_the_connectivity_test(
    utility: tuple[str, Path, Receiver],
) -> None:
    from axe_playwright_python.sync_playwright import Axe
    from playwright.sync_api import sync_playwright

    assert CHROMIUM, "Debian's chromium is needed: apt-get install chromium (.ci/run does)"
    base, mail, receiver = utility
    axe = Axe()
    found: dict[str, list[str]] = {}

    def check(name: str) -> None:
        bad = serious(axe, page)
        if bad:
            found[name] = bad

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        page = browser.new_page()
        page.goto(f"{base}/thirdparty/signup")
        check("signup")
        page.fill("#legal_name", "Watt Watchers LLC")
        page.select_option("#kind", "cca")
        page.fill("#technical_email", "tech@watt.example")
        page.fill("#technical_phone", "+1 415 555 0100")
        page.fill("#business_email", "biz@watt.example")
        page.fill("#business_phone", "+1 415 555 0101")
        page.fill("#name", "Wendy Watt")
        page.fill("#email", "wendy@watt.example")
        page.fill("#password", PORTAL_PASSWORD)
        page.fill("#confirm", PORTAL_PASSWORD)
        page.click("button[type=submit]")
        page.wait_for_selector("#sent")
        check("signup done")
        (eml,) = sorted(mail.glob("*.eml"))
        body = message_from_bytes(eml.read_bytes()).get_payload(decode=True)
        assert isinstance(body, bytes)
        link = re.search(r"(http\S+/thirdparty/confirm\?token=\S+)", body.decode())
        assert link
        page.goto(link.group(1))
        page.wait_for_selector("text=Your email address is confirmed")
        check("login")
        page.fill("#email", "wendy@watt.example")
        page.fill("#password", PORTAL_PASSWORD)
        page.click("button[type=submit]")
        page.wait_for_url(f"{base}/thirdparty/applications")
        check("applications (empty)")
        page.click("text=Register an application")
        check("new application")
        page.fill("#client_name", "Watt Watch")
        page.fill("#description", "Daily insight into your electricity use.")
        page.fill("#redirect_uris", "https://watt.example/callback")
        page.fill("#notify_uri", receiver.url)
        page.fill("#client_uri", "https://watt.example")
        page.fill("#portal_uri", "https://watt.example/start")
        page.check("input[name=block][value=electric]")
        page.check("input[name=block][value=fb39]")
        page.click("main button.primary")
        page.wait_for_selector("#client-secret")
        check("credentials")
        secret = page.inner_text("#client-secret").strip()
        key = page.inner_text("#notify-secret").strip()
        page.click("text=I have copied them: continue")
        page.wait_for_selector("#connectivity")
        assert page.inner_text("#tp-status") == "development"
        check("application")
        page.fill("#client_secret", secret)
        page.click("text=Run the connectivity test")
        page.wait_for_selector("#steps")
        steps = page.eval_on_selector_all(
            "#steps li", "els => els.map(e => [e.dataset.step, e.dataset.passed])"
        )
        assert steps == [
            ["token", "yes"],
            ["status", "yes"],
            ["sample", "yes"],
            ["notify", "yes"],
            ["code", "yes"],
        ], page.inner_text("#steps")
        assert page.inner_text("#tp-status") == "awaiting approval"
        check("application after the test")
        page.click("text=Production: authorizations, notifications, usage")
        page.wait_for_selector("#usage-state")
        check("production")
        page.goto(page.url.replace("/production", "/certificates"))
        page.wait_for_selector("text=Add one")
        check("certificates")
        page.goto(f"{base}/thirdparty/applications")
        assert "awaiting approval" in page.inner_text("table")
        check("applications")
        page.goto(f"{base}/thirdparty/security")
        check("security")
        browser.close()
    got = receiver.wait_for(1)
    assert signing.verify(key.encode(), got[0].headers, got[0].body, int(time.time()))
    assert found == {}
