"""End to end: a customer downloads their data (Green Button Download My Data) with a
real browser (Playwright driving Debian's chromium) from ``gbconnect serve``: signs
in, opens the page, downloads ESPI XML for a few days and CSV for everything. The XML
holds the entries the API's Batch/RetailCustomer feed serves for the same period; the
CSV is byte for byte what ``gbconnect export`` writes."""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from datetime import date, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import httpx
import pytest
from lxml import etree

from tests.clirun import run_cli
from tests.serverproc import serving

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
PASSWORD = "a long enough password"
ZONE = ZoneInfo("America/Los_Angeles")
NS = {"a": "http://www.w3.org/2005/Atom"}


def _cli(db_url: str, *args: str) -> str:
    done = run_cli(db_url, *args)
    assert done.returncode == 0, done.stderr
    return done.stdout


@pytest.fixture
def utility(db_url: str) -> Iterator[str]:
    _cli(db_url, "generate", "--customers", "1", "--days", "4", "--end", "2024-05-04")
    with serving(db_url) as served:
        yield served.base


def _entries(body: bytes) -> list[bytes]:
    doc = etree.fromstring(body)
    return [etree.tostring(e, method="c14n") for e in doc.findall("a:entry", NS)]


def _midnight(day: date) -> int:
    return int(datetime.combine(day, time(), tzinfo=ZONE).timestamp())


def test_customer_downloads_xml_and_csv(utility: str, db_url: str, tmp_path: Path) -> None:
    from playwright.sync_api import sync_playwright

    assert CHROMIUM, "Debian's chromium is needed: apt-get install chromium (.ci/run does)"
    customers = json.loads(_cli(db_url, "customer", "list", "--json"))
    customer = next(c for c in customers if c["usage_points"])
    username, rcid = customer["username"], customer["retail_customer_id"]
    _cli(db_url, "customer", "create", username, "--password", PASSWORD)
    first, last = date(2024, 5, 2), date(2024, 5, 3)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        page = browser.new_page(accept_downloads=True)
        page.goto(f"{utility}/account/download")  # signed out: the sign-in page first
        page.fill("#username", username)
        page.fill("#password", PASSWORD)
        page.click("button[type=submit]")
        page.wait_for_selector("text=Download my data")
        for up in customer["usage_points"]:
            assert page.is_checked(f"input[name=service][value='{up}']")
        page.get_by_label("From", exact=True).fill(first.isoformat())
        page.get_by_label("To", exact=True).fill(last.isoformat())
        page.get_by_label("Green Button XML (ESPI)").check()
        with page.expect_download() as xml_download:
            page.get_by_role("button", name="Download", exact=True).click()
        xml_path = tmp_path / "download.xml"
        xml_download.value.save_as(xml_path)
        assert xml_download.value.suggested_filename.endswith(
            f"_{first.isoformat()}_{last.isoformat()}.xml"
        )
        page.goto(f"{utility}/account/download")
        page.get_by_label("Spreadsheet (CSV)").check()
        with page.expect_download() as csv_download:
            page.keyboard.press("Tab")  # the form works from the keyboard too
            page.get_by_role("button", name="Download", exact=True).press("Enter")
        csv_path = tmp_path / "download.csv"
        csv_download.value.save_as(csv_path)
        browser.close()

    admin = _cli(db_url, "token", "admin").strip()
    api = httpx.get(
        f"{utility}/DataCustodian/espi/1_1/resource/Batch/RetailCustomer/{rcid}/UsagePoint",
        params={
            "published-min": str(_midnight(first)),
            "published-max": str(_midnight(last + timedelta(days=1))),
        },
        headers={"Authorization": f"Bearer {admin}"},
        timeout=30,
    )
    assert api.status_code == 200
    got = _entries(xml_path.read_bytes())
    assert len(got) > 4 and got == _entries(api.content)

    exported = tmp_path / "export.csv"
    _cli(db_url, "export", "--customer", username, "--format", "csv", "-o", str(exported))
    assert csv_path.read_bytes() == exported.read_bytes()
    assert len(exported.read_text().splitlines()) > 4 * 96
