"""End to end, in a real browser: a customer shares from the utility's side
(STANDARD.md section 7). Signed in at the utility, they pick an approved company from
the list, choose what to share, are sent to the company's portal screen with
``scope`` and ``ThirdPartyID``; the company starts the authorization-code request,
the consent page opens with the customer's choices, they allow, and the company is
notified (REQ.21 FB_39) and pulls the data with its new token. SQLite and PostgreSQL;
``gbconnect serve`` runs its notification worker inside."""

from __future__ import annotations

import json
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler
from urllib.parse import parse_qs, urlencode, urlsplit

import httpx
import pytest
from sqlalchemy import update

from gbconnect.db import make_engine
from gbconnect.espi.batchlist import read_batch_list
from gbconnect.registration import models as rm
from tests.e2e.test_oauth_browser import CHROMIUM, PASSWORD, SCOPE, ThirdParty, _cli
from tests.receiver import receiving
from tests.serverproc import serving


class PortalParty(ThirdParty):
    """The company, with the portal screen the utility sends its customers to."""

    def __init__(self, utility: str) -> None:
        super().__init__(utility)
        self.asked: dict[str, str] = {}
        party = self
        handler = self.server.RequestHandlerClass
        assert issubclass(handler, BaseHTTPRequestHandler)
        inner_get = handler.do_GET  # type: ignore[attr-defined]

        def do_get(h: BaseHTTPRequestHandler) -> None:
            url = urlsplit(h.path)
            if url.path == "/start":
                party.asked = {k: v[0] for k, v in parse_qs(url.query).items()}
                h.send_response(302)
                h.send_header("Location", party.authorize_url(party.asked.get("scope")))
                h.end_headers()
                return
            inner_get(h)

        handler.do_GET = do_get  # type: ignore[attr-defined]

    def authorize_url(self, scope: str | None = None) -> str:
        url = super().authorize_url()
        if scope is None:
            return url
        parts = urlsplit(url)
        query = parse_qs(parts.query)
        query["scope"] = [scope]
        return parts._replace(query=urlencode({k: v[0] for k, v in query.items()})).geturl()


@pytest.fixture
def utility(db_url: str) -> Iterator[str]:
    _cli(db_url, "generate", "--customers", "1", "--days", "2", "--end", "2024-05-02")
    with serving(db_url, GBCONNECT_NOTIFY_IN_PROCESS="true") as served:
        yield served.base


def test_a_customer_shares_from_the_utility_and_the_company_is_notified(
    utility: str, db_url: str
) -> None:
    from playwright.sync_api import sync_playwright

    assert CHROMIUM, "Debian's chromium is needed: apt-get install chromium (.ci/run does)"
    party = PortalParty(utility)
    party.thread.start()
    try:
        with receiving() as receiver:
            registered = json.loads(
                _cli(
                    db_url,
                    "thirdparty",
                    "register",
                    "--name",
                    "Watt Watchers",
                    "--redirect-uri",
                    party.redirect_uri,
                    "--notify-uri",
                    receiver.url,
                    "--scope",
                    SCOPE,
                    "--approve",
                    "--json",
                )
            )
            party.client_id = registered["client_id"]
            party.client_secret = registered["client_secret"]
            engine = make_engine(db_url)
            with engine.begin() as conn:
                conn.execute(
                    update(rm.ApplicationInformation)
                    .where(rm.ApplicationInformation.client_id == party.client_id)
                    .values(portal_uri=f"{party.base}/start")
                )
            engine.dispose()
            customers = json.loads(_cli(db_url, "customer", "list", "--json"))
            username = next(c["username"] for c in customers if c["usage_points"])
            _cli(db_url, "customer", "create", username, "--password", PASSWORD)
            with sync_playwright() as p:
                browser = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
                page = browser.new_page()
                page.goto(f"{utility}/login?next=%2Faccount%2Fshare")
                page.fill("#username", username)
                page.fill("#password", PASSWORD)
                page.click("button[type=submit]")
                page.click("text=Share with Watt Watchers")
                page.uncheck("input[name=group][value=gas]")
                page.click("button[type=submit]")
                # At the company, then back at the utility's consent page, pre-filled.
                page.wait_for_selector("#chosen")
                # Gas was left out: the company asked for what was chosen, no more.
                assert page.query_selector("input[name=group][value=gas]") is None
                assert page.is_checked("input[name=group][value=electric]")
                page.click("button[value=approve]")
                page.wait_for_selector("#connected")
                browser.close()
            assert party.error is None and party.tokens is not None
            assert party.asked["ThirdPartyID"] == party.client_id
            assert "_10_" not in party.tokens["scope"] and "FB=1_3_4_5" in party.tokens["scope"]
            (notice,) = receiver.wait_for(1, timeout=15)
    finally:
        party.server.shutdown()
        party.server.server_close()
    uris = read_batch_list(notice.body)
    subscription = next(u for u in uris if "/Batch/Subscription/" in u)
    token = {"Authorization": f"Bearer {party.tokens['access_token']}"}
    r = httpx.get(subscription, headers=token, timeout=30)
    assert r.status_code == 200 and b"IntervalBlock" in r.content


def test_self_access_in_the_browser_then_curl_equivalent_calls(utility: str, db_url: str) -> None:
    """A customer registers for self access in the browser and reads their Bulk feed
    over real HTTP with the credentials the page showed."""
    from playwright.sync_api import sync_playwright

    assert CHROMIUM, "Debian's chromium is needed: apt-get install chromium (.ci/run does)"
    customers = json.loads(_cli(db_url, "customer", "list", "--json"))
    username = next(c["username"] for c in customers if c["usage_points"])
    _cli(db_url, "customer", "create", username, "--password", PASSWORD)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        page = browser.new_page()
        page.goto(f"{utility}/login?next=%2Faccount%2Fself-access")
        page.fill("#username", username)
        page.fill("#password", PASSWORD)
        page.click("button[type=submit]")
        page.click("text=Register for self access")
        client_id = page.inner_text("#client-id")
        secret = page.inner_text("#client-secret")
        bulk = page.inner_text("#bulk-url")
        browser.close()
    r = httpx.post(
        f"{utility}/oauth/token",
        data={"grant_type": "client_credentials"},
        auth=(client_id, secret),
        timeout=30,
    )
    assert r.status_code == 200, r.text
    token = {"Authorization": f"Bearer {r.json()['access_token']}"}
    base = bulk.split("/Batch/Bulk/")[0]
    assert httpx.get(f"{base}/ReadServiceStatus", headers=token, timeout=30).status_code == 200
    assert httpx.get(f"{base}/Authorization", headers=token, timeout=30).status_code == 200
    feed = httpx.get(bulk, headers=token, timeout=60)
    assert feed.status_code == 200 and b"IntervalBlock" in feed.content
