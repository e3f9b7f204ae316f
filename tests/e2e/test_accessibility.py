"""Accessibility: axe-core (axe-playwright-python, its script shipped in the wheel)
finds no serious or critical violation on any page a customer sees, in a real browser
against ``gbconnect serve``."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlencode

import pytest

from tests.e2e.test_oauth_browser import CHROMIUM, PASSWORD, SCOPE, _cli
from tests.serverproc import serving

PAGES = (
    "/",
    "/login",
    "/password/forgot",
    "/account",
    "/account/authorizations",
    "/account/usage",
    "/account/usage?view=table",
    "/account/usage?step=month&view=chart",
    "/account/download",
    "/account/share",
    "/account/self-access",
    "/account/security",
)


@pytest.fixture
def site(tmp_path: Path) -> Iterator[tuple[str, str, str]]:
    url = f"sqlite:///{tmp_path / 'a11y.db'}"
    _cli(url, "init")
    _cli(url, "generate", "--customers", "1", "--days", "40", "--end", "2024-05-02")
    registered = json.loads(
        _cli(
            url,
            "thirdparty",
            "register",
            "--name",
            "Watt Watchers",
            "--redirect-uri",
            "https://thirdparty.example/callback",
            "--scope",
            SCOPE,
            "--approve",
            "--json",
        )
    )
    customers = json.loads(_cli(url, "customer", "list", "--json"))
    username = next(c["username"] for c in customers if c["usage_points"])
    _cli(url, "customer", "create", username, "--password", PASSWORD)
    with serving(url) as served:
        yield served.base, username, registered["client_id"]


def test_no_serious_or_critical_violation_on_any_page(site: tuple[str, str, str]) -> None:
    from axe_playwright_python.sync_playwright import Axe
    from playwright.sync_api import sync_playwright

    assert CHROMIUM, "Debian's chromium is needed: apt-get install chromium (.ci/run does)"
    base, username, client_id = site
    consent = "/oauth/authorize?" + urlencode(
        {
            "response_type": "code",
            "client_id": client_id,
            "redirect_uri": "https://thirdparty.example/callback",
            "scope": SCOPE,
            "state": "a11y",
        }
    )
    axe = Axe()
    found: dict[str, list[str]] = {}
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        page = browser.new_page()
        for i, path in enumerate((*PAGES, consent)):
            if i == 3:  # signed in from here on
                page.goto(f"{base}/login")
                page.fill("#username", username)
                page.fill("#password", PASSWORD)
                page.click("button[type=submit]")
                page.wait_for_url(f"{base}/account")
            response = page.goto(base + path)
            assert response is not None and response.ok, path
            results = axe.run(page)
            bad = [
                f"{v['id']} ({v['impact']}): {v['help']}"
                for v in results.response["violations"]
                if v.get("impact") in ("serious", "critical")
            ]
            if bad:
                found[path] = bad
        browser.close()
    assert found == {}
