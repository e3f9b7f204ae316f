"""End to end: a customer grants a third party access in a real browser (Playwright
driving Debian's chromium against ``gbconnect serve``), finds the grant on "My
authorizations", revokes it through the confirmation step with the keyboard, and sees
it under "Revoked"; the third party's token fails at once (REQ.21 FB_3)."""

from __future__ import annotations

import json
from collections.abc import Iterator

import httpx
import pytest

from tests.e2e.test_oauth_browser import CHROMIUM, PASSWORD, SCOPE, ThirdParty, _cli
from tests.serverproc import serving


@pytest.fixture
def served(db_url: str) -> Iterator[str]:
    _cli(db_url, "generate", "--customers", "1", "--days", "2", "--end", "2024-05-02")
    with serving(db_url) as server:
        yield server.base


@pytest.fixture
def third_party(served: str) -> Iterator[ThirdParty]:
    tp = ThirdParty(served)
    tp.thread.start()
    try:
        yield tp
    finally:
        tp.server.shutdown()
        tp.server.server_close()


def test_the_customer_revokes_a_grant_after_confirming(
    served: str, third_party: ThirdParty, db_url: str
) -> None:
    from playwright.sync_api import sync_playwright

    assert CHROMIUM, "Debian's chromium is needed: apt-get install chromium (.ci/run does)"
    registered = json.loads(
        _cli(
            db_url,
            "thirdparty",
            "register",
            "--name",
            "Watt Watchers",
            "--redirect-uri",
            third_party.redirect_uri,
            "--scope",
            SCOPE,
            "--approve",
            "--json",
        )
    )
    third_party.client_id = registered["client_id"]
    third_party.client_secret = registered["client_secret"]
    customers = json.loads(_cli(db_url, "customer", "list", "--json"))
    username = next(c["username"] for c in customers if c["usage_points"])
    _cli(db_url, "customer", "create", username, "--password", PASSWORD)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        page = browser.new_page(viewport={"width": 390, "height": 844})  # a phone
        page.goto(f"{third_party.base}/connect")
        page.fill("#username", username)
        page.fill("#password", PASSWORD)
        page.click("button[type=submit]")
        page.wait_for_selector("text=Watt Watchers asks to see your energy data")
        page.click("button[value=approve]")
        page.wait_for_selector("#connected")
        assert third_party.tokens is not None
        resource = str(third_party.tokens["resourceURI"])
        sub_id = resource.rsplit("/", 1)[1]
        feed = resource.replace(f"Batch/Subscription/{sub_id}", f"Subscription/{sub_id}/UsagePoint")
        token = {"Authorization": f"Bearer {third_party.tokens['access_token']}"}
        assert httpx.get(feed, headers=token).status_code == 200
        # Home, then My authorizations through its link.
        page.goto(f"{served}/account")
        assert "Watt Watchers" in page.inner_text("#sharing")
        page.click("#sharing a[href='/account/authorizations']")
        page.wait_for_selector("#active-h")
        assert "Watt Watchers" in page.inner_text("#active")
        # The confirmation step, reached and confirmed with the keyboard.
        page.focus("#active a:has-text('Stop sharing with Watt Watchers')")
        page.keyboard.press("Enter")
        page.wait_for_selector("text=Stop sharing with Watt Watchers?")
        assert httpx.get(feed, headers=token).status_code == 200  # nothing stopped yet
        page.focus("button:has-text('Yes, stop sharing with Watt Watchers')")
        page.keyboard.press("Enter")
        page.wait_for_selector("[role=status]")
        revoked = page.inner_text("#revoked")
        active = page.inner_text("#active")
        browser.close()
    assert "Watt Watchers" in revoked and "by you" in revoked
    assert "Watt Watchers" not in active
    assert httpx.get(feed, headers=token).status_code in (401, 403)
