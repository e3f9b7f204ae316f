"""End to end, in a real browser against ``gbconnect serve``: a third party sends a
signed-out customer to the consent page; they continue as a guest with the account
number and the phone on the account, read the code from the SMS folder (the demo's
phone), and consent; then they create an online account the same way and find that
grant in "My authorizations". SQLite and PostgreSQL."""

from __future__ import annotations

import json
import re
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import select, update

from gbconnect.customer.models import CustomerAccount, RetailCustomer
from gbconnect.db import make_engine
from gbconnect.sms import read_message
from tests.e2e.test_oauth_browser import CHROMIUM, SCOPE, ThirdParty, _cli
from tests.serverproc import serving

NEW = "my new and long passphrase"


@pytest.fixture
def utility(db_url: str, tmp_path: Path) -> Iterator[tuple[str, Path]]:
    _cli(db_url, "generate", "--customers", "1", "--days", "2", "--end", "2024-05-02")
    texts = tmp_path / "sms"
    with serving(db_url, GBCONNECT_SMS_DIR=str(texts)) as served:
        yield served.base, texts


@pytest.fixture
def party(utility: tuple[str, Path]) -> Iterator[ThirdParty]:
    tp = ThirdParty(utility[0])
    tp.thread.start()
    try:
        yield tp
    finally:
        tp.server.shutdown()
        tp.server.server_close()


def newest_code(folder: Path, count: int) -> str:
    """The code in the ``count``-th text (sent just after the page answers)."""
    deadline = time.monotonic() + 10
    while len(files := sorted(folder.glob("*.txt"))) < count and time.monotonic() < deadline:
        time.sleep(0.05)
    assert len(files) == count, files
    message = read_message(files[-1])
    assert message["to"] == "+14155550123"
    m = re.search(r"\b(\d{6})\b", message["text"])
    assert m, message
    return m.group(1)


def test_guest_consent_then_an_online_account_shows_the_grant(
    utility: tuple[str, Path], party: ThirdParty, db_url: str
) -> None:
    from playwright.sync_api import sync_playwright

    assert CHROMIUM, "Debian's chromium is needed: apt-get install chromium (.ci/run does)"
    base, texts = utility
    registered = json.loads(
        _cli(
            db_url, "thirdparty", "register", "--name", "Watt Watchers",
            "--redirect-uri", party.redirect_uri, "--scope", SCOPE, "--approve", "--json",
        )
    )  # fmt: skip
    party.client_id = registered["client_id"]
    party.client_secret = registered["client_secret"]
    engine = make_engine(db_url)
    with engine.begin() as conn:
        conn.execute(update(RetailCustomer).values(phone="+14155550123"))
        account = conn.scalar(select(CustomerAccount.account_id).limit(1))
    engine.dispose()
    assert account
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        page = browser.new_page()
        page.goto(f"{party.base}/connect")
        # The utility's sign-in page offers guest access.
        page.click("text=Continue as a guest")
        page.fill("#account", account)
        page.fill("#phone", "(415) 555-0123")
        page.click("button[type=submit]")
        page.wait_for_selector("#code")
        page.fill("#code", newest_code(texts, 1))
        page.click("button[type=submit]")
        page.wait_for_selector("text=Watt Watchers asks to see your energy data")
        page.click("button[value=approve]")
        page.wait_for_selector("#connected")
        # The guest session ended with the decision.
        page.goto(f"{base}/account")
        page.wait_for_selector("#username")
        # Now an online account, the same way.
        page.click("text=Create an online account")
        page.fill("#account", account)
        page.fill("#phone", "415-555-0123")
        page.click("button[type=submit]")
        page.wait_for_selector("#code")
        page.fill("#code", newest_code(texts, 2))
        page.click("button[type=submit]")
        page.fill("#username", "guest.no.more")
        page.fill("#email", "guest@example.com")
        page.fill("#password", NEW)
        page.fill("#confirm", NEW)
        page.click("button[type=submit]")
        page.wait_for_url(f"{base}/account")
        page.click("text=My authorizations")
        page.wait_for_selector("text=Watt Watchers")
        browser.close()
    assert party.error is None and party.tokens is not None


def test_the_new_pages_have_no_serious_accessibility_violation(
    utility: tuple[str, Path], db_url: str
) -> None:
    from axe_playwright_python.sync_playwright import Axe
    from playwright.sync_api import Page, sync_playwright

    assert CHROMIUM, "Debian's chromium is needed: apt-get install chromium (.ci/run does)"
    base, _ = utility
    customers = json.loads(_cli(db_url, "customer", "list", "--json"))
    username = customers[0]["username"]
    _cli(db_url, "customer", "create", username, "--password", NEW, "--phone", "4155550123")
    axe = Axe()
    found: dict[str, list[str]] = {}

    def check(page: Page, name: str) -> None:
        bad = [
            f"{v['id']} ({v['impact']}): {v['help']}"
            for v in axe.run(page).response["violations"]
            if v.get("impact") in ("serious", "critical")
        ]
        if bad:
            found[name] = bad

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        page = browser.new_page()
        for start in ("/guest?next=%2Foauth%2Fauthorize%3Fclient_id%3Dx", "/register"):
            page.goto(base + start)
            check(page, start)
            page.fill("#phone", "call me")
            page.click("button[type=submit]")
            page.wait_for_selector("#phone-error")
            check(page, start + " (errors)")
            page.fill("#account", "12345")
            page.fill("#phone", "(415) 555-0199")
            page.click("button[type=submit]")
            page.wait_for_selector("#code")
            check(page, start + " code")
            page.fill("#code", "000000")
            page.click("button[type=submit]")
            page.wait_for_selector("#error")
            check(page, start + " code (wrong)")
        page.goto(f"{base}/login")
        page.fill("#username", username)
        page.fill("#password", NEW)
        page.click("button[type=submit]")
        page.wait_for_url(f"{base}/account")
        page.goto(f"{base}/account/security/phone")
        check(page, "phone")
        page.fill("#phone", "+66 81 234 5678")
        page.click("button[type=submit]")
        page.wait_for_selector("#code")
        check(page, "phone code")
        browser.close()
    assert found == {}
