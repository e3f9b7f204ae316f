"""End to end: a customer reads the portal in Thai and in Spanish in a real browser
(Playwright driving Debian's chromium, headless, against ``gbconnect serve``).

The language switch is a plain link on every page; the choice is remembered across
pages and over the browser's own language. The Thai page renders Thai text with a
Thai font (``.ci/run`` installs ``fonts-thai-tlwg``; the screenshot is kept in the
test's folder), the Spanish one Spanish words, dates and numbers, and axe-core finds
no serious or critical violation in either.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.clirun import run_cli
from tests.serverproc import serving

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
PASSWORD = "a long enough password"
THAI = re.compile(r"[\u0e00-\u0e7f]")


def _cli(db_url: str, *args: str) -> str:
    done = run_cli(db_url, *args)
    assert done.returncode == 0, done.stderr
    return done.stdout


@pytest.fixture
def utility(db_url: str) -> Iterator[tuple[str, str]]:
    _cli(db_url, "generate", "--customers", "1", "--days", "40", "--end", "2024-05-02")
    customers = json.loads(_cli(db_url, "customer", "list", "--json"))
    username = next(c["username"] for c in customers if c["usage_points"])
    _cli(db_url, "customer", "create", username, "--password", PASSWORD)
    with serving(db_url, GBCONNECT_LOG_LEVEL="WARNING") as served:
        yield served.base, username


def _serious(page: object) -> list[str]:
    from axe_playwright_python.sync_playwright import Axe

    results = Axe().run(page)
    return [
        f"{v['id']} ({v['impact']}): {v['help']}"
        for v in results.response["violations"]
        if v.get("impact") in ("serious", "critical")
    ]


def test_thai_and_spanish_pages(utility: tuple[str, str], tmp_path: Path) -> None:
    from playwright.sync_api import sync_playwright

    assert CHROMIUM, "Debian's chromium is needed: apt-get install chromium (.ci/run does)"
    fonts = subprocess.run(["fc-list", ":lang=th"], capture_output=True, text=True).stdout
    assert fonts.strip(), "a Thai font is needed: apt-get install fonts-thai-tlwg (.ci/run does)"
    base, username = utility
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        # The browser asks for English; the customer chooses Thai on the page.
        page = browser.new_page(locale="en-US", viewport={"width": 1000, "height": 900})
        try:
            page.goto(f"{base}/account/usage")
            page.fill("#username", username)
            page.fill("#password", PASSWORD)
            page.click("button[type=submit]")
            page.wait_for_url("**/account/usage**")
            assert page.locator("html").get_attribute("lang") == "en"
            page.click("nav.languages a[hreflang=th]")
            page.wait_for_selector("html[lang=th]")
            assert "/account/usage" in page.url  # back on the same page
            heading = page.locator("main h2").first.inner_text()
            assert THAI.search(heading), heading
            nav = page.locator("header nav").first.inner_text()
            assert THAI.search(nav) and "My usage" not in nav, nav
            title = page.locator("figure.chart svg[role=img] title").first.text_content() or ""
            assert THAI.search(title) and "kWh" in title, title
            page.screenshot(path=str(tmp_path / "usage-th.png"), full_page=True)
            assert _serious(page) == []
            # Remembered on the next page too.
            page.goto(f"{base}/account/authorizations")
            assert page.locator("html").get_attribute("lang") == "th"
            assert THAI.search(page.locator("main h2").first.inner_text())

            page.click("nav.languages a[hreflang=es]")
            page.wait_for_selector("html[lang=es]")
            page.goto(f"{base}/account/usage?view=table&step=day")
            assert page.locator("html").get_attribute("lang") == "es"
            nav = page.locator("header nav").first.inner_text()
            assert "Mi consumo" in nav, nav
            caption = page.locator("#usage-table caption").inner_text()
            assert re.search(r"\d{1,2} [a-z]{3,4}\.? \d{4}", caption), caption  # "2 abr 2024"
            cell = page.locator("#usage-table tbody tr td").first.inner_text()
            assert re.fullmatch(r"\d{1,3}(\.\d{3})*,\d{2}", cell), cell  # "1.234,56"
            page.screenshot(path=str(tmp_path / "usage-es.png"), full_page=True)
            assert _serious(page) == []
        except Exception:
            page.screenshot(path=str(tmp_path / "languages-failure.png"), full_page=True)
            raise
        finally:
            browser.close()
