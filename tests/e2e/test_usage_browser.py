"""End to end: a customer signs in to ``gbconnect serve`` in a real browser (Playwright
driving Debian's chromium, headless), opens "My usage", sees the chart and switches
to the table of the same numbers, by keyboard; the page loads nothing from another
host and breaks no rule of its Content-Security-Policy."""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from tests.clirun import run_cli
from tests.serverproc import serving

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
PASSWORD = "a long enough password"


def _cli(db_url: str, *args: str) -> str:
    done = run_cli(db_url, *args)
    assert done.returncode == 0, done.stderr
    return done.stdout


@pytest.fixture
def utility(db_url: str) -> Iterator[str]:
    """``gbconnect serve`` on a database holding one generated customer with 40 days
    of data."""
    _cli(db_url, "generate", "--customers", "1", "--days", "40", "--end", "2024-05-02")
    with serving(db_url, GBCONNECT_LOG_LEVEL="WARNING") as served:
        yield served.base


def test_customer_sees_the_usage_chart_and_its_table(
    utility: str, db_url: str, tmp_path: Path
) -> None:
    from playwright.sync_api import sync_playwright

    assert CHROMIUM, "Debian's chromium is needed: apt-get install chromium (.ci/run does)"
    customers = json.loads(_cli(db_url, "customer", "list", "--json"))
    username = next(c["username"] for c in customers if c["usage_points"])
    _cli(db_url, "customer", "create", username, "--password", PASSWORD)
    violations: list[str] = []
    hosts: set[str] = set()
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        # A phone's width: the chart must fit it.
        page = browser.new_page(viewport={"width": 390, "height": 844})
        page.on(
            "console",
            lambda m: violations.append(m.text) if "Content Security Policy" in m.text else None,
        )
        page.on("request", lambda r: hosts.add(urlsplit(r.url).netloc))
        try:
            page.goto(f"{utility}/account/usage")
            # Not signed in: the sign-in page, then back to My usage.
            page.fill("#username", username)
            page.fill("#password", PASSWORD)
            page.click("button[type=submit]")
            page.wait_for_url("**/account/usage**")
            chart = page.locator("figure.chart svg[role=img]").first
            chart.wait_for()
            assert "per day (kWh)" in (chart.locator("title").first.text_content() or "")
            box = chart.bounding_box()
            assert box is not None and 0 < box["width"] <= 390
            # The table view, by keyboard: focus the link and press Enter.
            page.focus("#table-link")
            page.keyboard.press("Enter")
            page.wait_for_selector("#usage-table caption")
            rows = page.locator("#usage-table tbody tr")
            assert rows.count() == 30
            first_row = rows.first.locator("td").first.inner_text()
            assert first_row.replace(",", "").replace(".", "").isdigit()
            assert "view=table" in page.url
        except Exception:
            page.screenshot(path=str(tmp_path / "usage-page-failure.png"), full_page=True)
            raise
        finally:
            browser.close()
    assert hosts == {urlsplit(utility).netloc}, hosts
    assert not violations, violations
