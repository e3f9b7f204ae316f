"""End to end: the sample third party (``gbconnect sample-thirdparty``, a real process
using only the SDK) against a real ``gbconnect serve``, driven by a real browser
(Playwright with Debian's chromium), on SQLite and PostgreSQL.

- From the sample app: Connect -> sign in at the utility -> consent -> back on the
  sample app, whose usage page shows the insights computed from the real data; the
  utility's notification of the new grant (REQ.21 FB_39, signed) is received and
  what it names fetched with the customer's token.
- From the utility's portal (STANDARD.md section 7): the customer picks the sample
  app on the share page, is sent to its ``/start`` with ``scope`` and
  ``ThirdPartyID``, consents and ends connected. The utility answers Batch requests
  202 (``GBCONNECT_BATCH_ASYNC_BLOCKS=1``): the usage page says the data is being
  prepared, and shows it once the BatchList naming the package has come and the
  package was fetched with the customer's token.
- The customer declines at the utility: the sample app's friendly page.
- axe finds no serious or critical violation on the sample app's pages.
"""

from __future__ import annotations

import base64
import json
import sqlite3
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

import httpx
import pytest

from gbconnect.client import Reading as SdkReading
from gbconnect.client import TokenSet, parse
from gbconnect.client import UsagePoint as SdkUsagePoint
from gbconnect.ingest.generator import GeneratorOptions, customer_profile
from gbconnect.sample_thirdparty import insights as ins
from tests.e2e.test_oauth_browser import CHROMIUM, PASSWORD, _cli
from tests.sampleproc import Sample, sample_app, wait_until
from tests.serverproc import free_port, serving

if TYPE_CHECKING:
    from playwright.sync_api import Page

CUSTOMERS = 7
DAYS = 14
NAME = "Sample Energy Insights"


def _customer(db_url: str, profile: str, gas: bool | None = None) -> str:
    """A generated customer of ``profile`` (seed 1), given a password."""
    options = GeneratorOptions(customers=CUSTOMERS, days=DAYS)
    index = next(
        i
        for i in range(CUSTOMERS)
        if customer_profile(options, i)[0] == profile
        and (gas is None or customer_profile(options, i)[1] == gas)
    )
    username = f"customer{index:05d}"
    _cli(db_url, "customer", "create", username, "--password", PASSWORD)
    return username


def _register(db_url: str, port: int) -> tuple[str, str, str]:
    """The sample app registered and approved as the CLI does it; (client id, secret,
    notification signing key)."""
    base = f"http://127.0.0.1:{port}"
    registered = json.loads(
        _cli(
            db_url,
            "thirdparty",
            "register",
            "--name",
            NAME,
            "--redirect-uri",
            f"{base}/callback",
            "--notify-uri",
            f"{base}/notify",
            "--portal-uri",
            f"{base}/start",
            "--approve",
            "--json",
        )
    )
    client_id = registered["client_id"]
    key = json.loads(_cli(db_url, "notify", "secret", client_id, "--json"))["secret"]
    return client_id, registered["client_secret"], key


@pytest.fixture
def generated(db_url: str) -> str:
    # Up to yesterday: the grant's HistoryLength counts back from now.
    _cli(db_url, "generate", "--customers", str(CUSTOMERS), "--days", str(DAYS))
    return db_url


def _sign_in(page: Page, username: str) -> None:
    page.fill("#username", username)
    page.fill("#password", PASSWORD)
    page.click("button[type=submit]")


def _stored_tokens(sample: Sample) -> TokenSet:
    db = sqlite3.connect(sample.data_dir / "sample-thirdparty.sqlite3")
    try:
        (raw,) = db.execute("SELECT tokens FROM customers").fetchone()
    finally:
        db.close()
    return TokenSet.from_dict(json.loads(raw))


def _session(page: Page) -> str:
    """The sample app's session id in the browser's cookie (Starlette's session cookie
    is signed, not encrypted: its first part is base64 JSON)."""
    (cookie,) = [c for c in page.context.cookies() if c["name"] == "sample_session"]
    data = cookie["value"].split(".")[0]
    return str(json.loads(base64.b64decode(data + "=" * (-len(data) % 4)))["sid"])


def _reading_count(sample: Sample) -> int:
    db = sqlite3.connect(sample.data_dir / "sample-thirdparty.sqlite3")
    try:
        (n,) = db.execute("SELECT COUNT(*) FROM readings").fetchone()
    finally:
        db.close()
    return int(n)


def _expected_baseloads(tokens: TokenSet) -> list[str]:
    """The baseload of each usage point, computed here from the Subscription feed
    fetched independently with the customer's token."""
    assert tokens.resource_uri is not None
    feed = httpx.get(
        tokens.resource_uri,
        headers={"Authorization": f"Bearer {tokens.access_token}"},
        timeout=60,
    )
    assert feed.status_code == 200
    readings: dict[str, list[SdkReading]] = {}
    points: dict[str, SdkUsagePoint] = {}
    for item in parse(feed.content):
        if isinstance(item, SdkReading):
            readings.setdefault(item.usage_point, []).append(item)
        elif isinstance(item, SdkUsagePoint):
            points[item.href] = item
    out = []
    for href in sorted(readings):
        local = points[href].local_time if href in points else None
        offset = ins.utc if local is None else local.utcoffset
        value = ins.insights(readings[href], offset).baseload_w
        if value is not None:
            out.append(f"{value:.0f} W")
    return out


def test_connect_from_the_sample_app_shows_insights_and_the_grant_is_notified(
    generated: str, tmp_path: Path
) -> None:
    from playwright.sync_api import sync_playwright

    assert CHROMIUM, "Debian's chromium is needed: apt-get install chromium (.ci/run does)"
    db_url = generated
    port = free_port()
    client_id, secret, key = _register(db_url, port)
    username = _customer(db_url, "solar")
    with (
        serving(db_url, GBCONNECT_NOTIFY_IN_PROCESS="true") as utility,
        sample_app(
            utility.base, client_id, secret, tmp_path / "sample", notify_secret=key, port=port
        ) as sample,
        sync_playwright() as p,
    ):
        browser = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        page = browser.new_page()
        page.goto(sample.base + "/")
        page.click("#connect")
        started = _session(page)
        _sign_in(page, username)
        page.wait_for_selector(f"text={NAME} asks to see your energy data")
        page.click("button[value=approve]")
        page.wait_for_selector("#baseload")
        assert page.url == sample.base + "/usage"
        # Connected under a new session id (no fixation of the one set before).
        assert _session(page) != started
        shown = [e.inner_text() for e in page.query_selector_all("#baseload")]
        assert shown == _expected_baseloads(_stored_tokens(sample))
        assert page.query_selector("#evening-share") is not None
        # A solar customer: export is shown, and why self-consumption is not.
        assert float(page.inner_text("#exported").split()[0]) > 0
        assert "cannot be seen" in page.inner_text("#self-consumption")
        assert page.query_selector("svg.chart title") is not None

        # The utility notified the grant (Authorization and Batch/Subscription); the
        # sample app fetched the subscription with the customer's token.
        def fetched() -> bool:
            page.goto(sample.base + "/notifications")
            outcome = " ".join(e.inner_text() for e in page.query_selector_all(".outcome"))
            return "readings stored" in outcome

        wait_until(fetched, 60, "the grant's notification to be fetched")
        row = page.inner_text("#notifications")
        assert "Batch/Subscription/" in row and "Authorization/" in row
        page.goto(sample.base + "/usage")
        assert "Batch/Subscription/" in page.inner_text("#last-notification")

        # New data at the utility (a day more for the same customers): it notifies the
        # app's Batch/Bulk (registered for FB_35), fetched with a client-credentials
        # token; the readings land under the customer's subscription.
        before = _reading_count(sample)
        today = datetime.now(ZoneInfo("America/Los_Angeles")).date().isoformat()
        _cli(db_url, "generate", "--customers", str(CUSTOMERS), "--days", "1", "--end", today)

        def bulk_fetched() -> bool:
            page.goto(sample.base + "/notifications")
            rows = [e.inner_text() for e in page.query_selector_all(".notification")]
            return any("Batch/Bulk/" in r and "readings stored" in r for r in rows)

        wait_until(bulk_fetched, 60, "the Bulk notification to be fetched")
        assert _reading_count(sample) > before

        # Disconnect: the tokens are revoked at the utility, and stop working there.
        tokens = _stored_tokens(sample)
        page.goto(sample.base + "/usage")
        page.click("#disconnect")
        page.wait_for_selector("#disconnected")
        assert "tokens are revoked" in page.inner_text("main")
        assert tokens.resource_uri is not None
        after = httpx.get(
            tokens.resource_uri,
            headers={"Authorization": f"Bearer {tokens.access_token}"},
            timeout=30,
        )
        assert after.status_code == 401
        browser.close()


@pytest.fixture
def async_utility(generated: str) -> Iterator[tuple[str, str]]:
    with serving(
        generated, GBCONNECT_NOTIFY_IN_PROCESS="true", GBCONNECT_BATCH_ASYNC_BLOCKS="1"
    ) as served:
        yield generated, served.base


def test_from_the_utility_portal_with_data_prepared_later(
    async_utility: tuple[str, str], tmp_path: Path
) -> None:
    from playwright.sync_api import sync_playwright

    assert CHROMIUM, "Debian's chromium is needed: apt-get install chromium (.ci/run does)"
    db_url, utility = async_utility
    port = free_port()
    client_id, secret, key = _register(db_url, port)
    username = _customer(db_url, "residential", gas=True)
    with (
        sample_app(
            utility, client_id, secret, tmp_path / "sample", notify_secret=key, port=port
        ) as sample,
        sync_playwright() as p,
    ):
        browser = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        page = browser.new_page()
        page.goto(f"{utility}/login?next=%2Faccount%2Fshare")
        _sign_in(page, username)
        page.click(f"text=Share with {NAME}")
        page.click("button[type=submit]")
        # At the sample app's /start, then the utility's consent page.
        page.wait_for_selector("button[value=approve]")
        page.click("button[value=approve]")
        page.wait_for_url(sample.base + "/usage")
        assert page.query_selector("#baseload") is None
        assert "being prepared" in page.inner_text("main")

        def shown() -> bool:
            page.goto(sample.base + "/usage")
            return page.query_selector("#baseload") is not None

        wait_until(shown, 90, "the package's notification to be fetched")
        assert page.query_selector("#pending") is None
        assert "Gas per day" in page.inner_text("main")
        page.goto(sample.base + "/notifications")
        assert "Batch/Package/" in page.inner_text("#notifications")
        browser.close()


def test_declining_at_the_utility_shows_a_friendly_page_and_axe_passes(
    generated: str, tmp_path: Path
) -> None:
    from axe_playwright_python.sync_playwright import Axe
    from playwright.sync_api import sync_playwright

    assert CHROMIUM, "Debian's chromium is needed: apt-get install chromium (.ci/run does)"
    db_url = generated
    port = free_port()
    client_id, secret, key = _register(db_url, port)
    username = _customer(db_url, "solar")
    axe = Axe()
    found: dict[str, list[str]] = {}

    def check(page: Page, name: str) -> None:
        results = axe.run(page)
        bad = [
            f"{v['id']} ({v['impact']}): {v['help']}"
            for v in results.response["violations"]
            if v.get("impact") in ("serious", "critical")
        ]
        if bad:
            found[name] = bad

    with (
        serving(db_url, GBCONNECT_NOTIFY_IN_PROCESS="true") as utility,
        sample_app(
            utility.base, client_id, secret, tmp_path / "sample", notify_secret=key, port=port
        ) as sample,
        sync_playwright() as p,
    ):
        browser = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        page = browser.new_page()
        page.goto(sample.base + "/")
        check(page, "/")
        page.goto(sample.base + "/usage")
        assert page.query_selector("#not-connected") is not None
        page.goto(sample.base + "/notifications")
        check(page, "/notifications (none)")
        page.goto(sample.base + "/callback?state=forged&code=x")
        check(page, "/callback (forged state)")
        page.goto(sample.base + "/")
        page.click("#connect")
        _sign_in(page, username)
        page.click("button[value=deny]")
        page.wait_for_selector("#declined")
        assert page.url.startswith(sample.base + "/callback")
        check(page, "declined")
        page.goto(sample.base + "/")
        page.click("#connect")
        page.click("button[value=approve]")  # still signed in at the utility
        page.wait_for_selector("#baseload")
        check(page, "/usage")
        page.goto(sample.base + "/notifications")
        check(page, "/notifications")
        browser.close()
    assert found == {}
