"""End to end, in a real browser against ``gbconnect serve``: an operator made with
``gbconnect staff create`` signs in to the console, approves a third party with a
reason, finds the approval in the audit log with its actor and time, and downloads
the CSV export (SQLite and PostgreSQL); and axe-core (axe-playwright-python) finds no
serious or critical violation on the console's pages."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.e2e.test_oauth_browser import CHROMIUM, SCOPE, _cli
from tests.serverproc import serving

STAFF_PASSWORD = "operator passphrase"


def _setup(url: str) -> str:
    """A customer, a third party awaiting approval and two staff; the username."""
    _cli(url, "generate", "--customers", "1", "--days", "2", "--end", "2024-05-02")
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
            "--json",
        )
    )
    for role in ("operator", "administrator"):
        _cli(
            url,
            "staff",
            "create",
            f"{role}@utility.example",
            "--name",
            role.title(),
            "--role",
            role,
            "--password",
            STAFF_PASSWORD,
        )
    customers = json.loads(_cli(url, "customer", "list", "--json"))
    username = next(c["username"] for c in customers if c["usage_points"])
    assert registered["client_id"]
    return username


def _app_id(url: str) -> int:
    from sqlalchemy import select

    from gbconnect.db import make_engine
    from gbconnect.registration.models import ApplicationInformation

    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            return int(
                conn.execute(
                    select(ApplicationInformation.id).where(
                        ApplicationInformation.client_name == "Watt Watchers"
                    )
                ).scalar_one()
            )
    finally:
        engine.dispose()


@pytest.fixture
def console_site(db_url: str) -> Iterator[tuple[str, int, str]]:
    username = _setup(db_url)
    with serving(db_url) as served:
        yield served.base, _app_id(db_url), username


def _sign_in(page: object, base: str, email: str) -> None:
    from playwright.sync_api import Page

    assert isinstance(page, Page)
    page.goto(f"{base}/console/login")
    page.fill("#email", email)
    page.fill("#password", STAFF_PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{base}/console")


def test_operator_approves_and_the_audit_log_shows_it(
    console_site: tuple[str, int, str], tmp_path: Path
) -> None:
    from playwright.sync_api import sync_playwright

    assert CHROMIUM, "Debian's chromium is needed: apt-get install chromium (.ci/run does)"
    base, app_id, _username = console_site
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        page = browser.new_context(accept_downloads=True).new_page()
        _sign_in(page, base, "operator@utility.example")
        page.click("text=Applications")
        page.click("text=Watt Watchers")
        page.wait_for_url(f"{base}/console/applications/{app_id}")
        page.fill("#reason-text", "Connectivity test passed on 2 May")
        page.click("button[value=approve]")
        page.wait_for_selector("#done")
        assert page.inner_text("#status") == "production"
        assert page.inner_text("#reason") == "Connectivity test passed on 2 May"
        page.click("text=Audit log")
        page.fill("#action", "application.*")
        page.click("button:has-text('Search')")
        row = page.locator("#events tbody tr").first
        text = row.inner_text()
        assert "application.approved" in text and "staff operator@utility.example" in text
        assert row.locator("td").nth(1).inner_text()[:2] == "20"  # the time, 20YY-MM-DD
        with page.expect_download() as info:
            page.click("#export-csv")
        download = info.value
        saved = tmp_path / download.suggested_filename
        download.save_as(saved)
        assert saved.suffix == ".csv"
        rows = list(csv.DictReader(io.StringIO(saved.read_text())))
        assert [(r["action"], r["actor"]) for r in rows] == [
            ("application.approved", "operator@utility.example")
        ]
        browser.close()


CONSOLE_PAGES = (
    "/console/login",
    "/console",
    "/console/applications",
    "/console/applications/{app}",
    "/console/search?q={username}",
    "/console/imports",
    "/console/notifications",
    "/console/paper?customer={username}",
    "/console/audit",
    "/console/audit/check",
    "/console/staff",
    "/console/account",
)


@pytest.fixture
def a11y_site(tmp_path: Path) -> Iterator[tuple[str, int, str]]:
    url = f"sqlite:///{tmp_path / 'console-a11y.db'}"
    _cli(url, "init")
    username = _setup(url)
    with serving(url) as served:
        yield served.base, _app_id(url), username


def test_no_serious_or_critical_violation_on_console_pages(
    a11y_site: tuple[str, int, str],
) -> None:
    from axe_playwright_python.sync_playwright import Axe
    from playwright.sync_api import sync_playwright

    assert CHROMIUM, "Debian's chromium is needed: apt-get install chromium (.ci/run does)"
    base, app_id, username = a11y_site
    axe = Axe()
    found: dict[str, list[str]] = {}
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        page = browser.new_page()
        for i, template in enumerate(CONSOLE_PAGES):
            if i == 1:
                _sign_in(page, base, "administrator@utility.example")
            path = template.format(app=app_id, username=username)
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
