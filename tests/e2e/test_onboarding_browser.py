"""End to end, issue 12's whole path in a real browser against ``gbconnect serve``
(SQLite and PostgreSQL): a company signs up on the third-party portal, confirms its
address through the mail folder, registers an application whose notify URI and
portal screen are a small test third-party server, passes the connectivity test (the
test notification reaches that server), an operator approves it in the console with a
reason, a customer then finds it in the utility's list and shares, and the company is
notified and pulls the data. The audit log shows each step with its actor and time,
and its chain holds."""

from __future__ import annotations

import json
import re
import time
from collections.abc import Iterator
from email import message_from_bytes
from pathlib import Path

import httpx
import pytest

from gbconnect.espi.batchlist import read_batch_list
from tests.e2e.test_oauth_browser import CHROMIUM, PASSWORD, _cli
from tests.e2e.test_share_browser import PortalParty
from tests.receiver import Receiver, receiving
from tests.serverproc import serving

COMPANY_PASSWORD = "a long third-party password"
STAFF_PASSWORD = "operator passphrase"


@pytest.fixture
def utility(db_url: str, tmp_path: Path) -> Iterator[tuple[str, Path, Receiver, str]]:
    """The utility with two customers: one of its test accounts (for the connectivity
    test) and a real one who shares; an operator; the company's notify receiver."""
    _cli(db_url, "generate", "--customers", "2", "--days", "2", "--end", "2024-05-02")
    customers = [c["username"] for c in json.loads(_cli(db_url, "customer", "list", "--json"))]
    tester, customer = customers[0], customers[1]
    _cli(db_url, "customer", "create", tester, "--password", PASSWORD, "--test")
    _cli(db_url, "customer", "create", customer, "--password", PASSWORD)
    _cli(
        db_url,
        "staff",
        "create",
        "ops@utility.example",
        "--name",
        "Olga Ops",
        "--role",
        "operator",
        "--password",
        STAFF_PASSWORD,
    )
    mail = tmp_path / "mail"
    with (
        receiving() as receiver,
        serving(db_url, GBCONNECT_MAIL_DIR=str(mail), GBCONNECT_NOTIFY_IN_PROCESS="true") as served,
    ):
        yield served.base, mail, receiver, customer


def test_sign_up_test_approve_share_and_audit(
    utility: tuple[str, Path, Receiver, str], db_url: str, tmp_path: Path
) -> None:
    from playwright.sync_api import sync_playwright

    assert CHROMIUM, "Debian's chromium is needed: apt-get install chromium (.ci/run does)"
    base, mail, receiver, customer = utility
    party = PortalParty(base)
    party.thread.start()
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
            page = browser.new_page()
            try:
                # 1. The company signs up and confirms its address.
                page.goto(f"{base}/thirdparty/signup")
                page.fill("#legal_name", "Watt Watchers LLC")
                page.select_option("#kind", "standard")
                page.fill("#technical_email", "tech@watt.example")
                page.fill("#technical_phone", "+1 415 555 0100")
                page.fill("#business_email", "biz@watt.example")
                page.fill("#business_phone", "+1 415 555 0101")
                page.fill("#name", "Wendy Watt")
                page.fill("#email", "wendy@watt.example")
                page.fill("#password", COMPANY_PASSWORD)
                page.fill("#confirm", COMPANY_PASSWORD)
                page.click("button[type=submit]")
                page.wait_for_selector("#sent")
                (eml,) = sorted(mail.glob("*.eml"))
                body = message_from_bytes(eml.read_bytes()).get_payload(decode=True)
                assert isinstance(body, bytes)
                link = re.search(r"(http\S+/thirdparty/confirm\?token=\S+)", body.decode())
                assert link
                page.goto(link.group(1))
                page.fill("#email", "wendy@watt.example")
                page.fill("#password", COMPANY_PASSWORD)
                page.click("button[type=submit]")
                page.wait_for_url(f"{base}/thirdparty/applications")
                # 2. It registers an application on its own test server.
                page.click("text=Register an application")
                page.fill("#client_name", "Watt Watch")
                page.fill("#description", "Daily insight into your electricity use.")
                page.fill("#redirect_uris", party.redirect_uri)
                page.fill("#notify_uri", receiver.url)
                page.fill("#client_uri", "https://watt.example")
                page.fill("#portal_uri", f"{party.base}/start")
                page.check("input[name=block][value=electric]")
                page.check("input[name=block][value=fb39]")
                page.click("main button.primary")
                page.wait_for_selector("#client-secret")
                party.client_secret = page.inner_text("#client-secret").strip()
                party.client_id = page.inner_text("#client-id").strip()
                page.click("text=I have copied them: continue")
                # 3. The connectivity test passes; the test notification arrives.
                page.fill("#client_secret", party.client_secret)
                page.click("text=Run the connectivity test")
                page.wait_for_selector("#steps")
                assert page.inner_text("#tp-status") == "awaiting approval", page.inner_text(
                    "#steps"
                )
                assert len(receiver.wait_for(1, timeout=15)) >= 1
                # Not in the customers' list before the utility approves it.
                staff = browser.new_page()
                staff.goto(f"{base}/login?next=%2Faccount%2Fshare")
                staff.fill("#username", customer)
                staff.fill("#password", PASSWORD)
                staff.click("button[type=submit]")
                staff.wait_for_url(f"{base}/account/share")
                assert "Watt Watch" not in staff.inner_text("main")
                staff.close()
                # 4. An operator approves it in the console, with a reason.
                ops = browser.new_context().new_page()
                ops.goto(f"{base}/console/login")
                ops.fill("#email", "ops@utility.example")
                ops.fill("#password", STAFF_PASSWORD)
                ops.click("button[type=submit]")
                ops.wait_for_url(f"{base}/console")
                ops.click("text=Applications")
                ops.click("text=Watt Watch")
                ops.fill("#reason-text", "Connectivity test passed; security review done.")
                ops.click("button[value=approve]")
                ops.wait_for_selector("#done")
                assert ops.inner_text("#status") == "production"
                # 5. The customer finds it in the list and shares.
                shopper = browser.new_context().new_page()
                shopper.goto(f"{base}/login?next=%2Faccount%2Fshare")
                shopper.fill("#username", customer)
                shopper.fill("#password", PASSWORD)
                shopper.click("button[type=submit]")
                shopper.wait_for_url(f"{base}/account/share")
                assert "Daily insight into your electricity use." in shopper.inner_text("main")
                shopper.click("text=Share with Watt Watch")
                shopper.click("button[type=submit]")
                shopper.wait_for_selector("#chosen")  # the consent page, pre-filled
                shopper.click("button[value=approve]")
                shopper.wait_for_selector("#connected")
                # 6. The console's audit log shows the approval with actor and time.
                ops.click("text=Audit log")
                ops.fill("#action", "application.*")
                ops.click("button:has-text('Search')")
                row = ops.locator("#events tbody tr").first.inner_text()
                assert "application.approved" in row and "ops@utility.example" in row
                assert re.search(r"\d{4}-\d{2}-\d{2}", row)
            except Exception:
                page.screenshot(path=str(tmp_path / "onboarding-failure.png"), full_page=True)
                raise
            finally:
                browser.close()
        assert party.error is None and party.tokens is not None
        assert party.asked["ThirdPartyID"] == party.client_id
    finally:
        party.server.shutdown()
        party.server.server_close()
    # The company is notified of the grant and pulls the data.
    # (The connectivity test's round trip made a grant of the test customer too: its
    # notice names that one's subscription.)
    subscription = str(party.tokens["resourceURI"])
    for _ in range(40):
        uris = [u for n in receiver.received for u in read_batch_list(n.body)]
        if subscription in uris:
            break
        time.sleep(0.5)
    assert subscription in uris, uris
    token = {"Authorization": f"Bearer {party.tokens['access_token']}"}
    r = httpx.get(subscription, headers=token, timeout=30)
    assert r.status_code == 200 and b"IntervalBlock" in r.content
    # The audit log holds each step, in order, with who did it; the chain holds.
    events = json.loads(_cli(db_url, "audit", "list", "--limit", "500", "--json"))[::-1]
    steps = [
        ("company.signed_up", "third party"),
        ("company_user.confirmed", "third party"),
        ("application.created", "third party"),
        ("connectivity.passed", "third party"),
        ("sign_in.ok", "staff"),
        ("application.approved", "staff"),
        ("sign_in.ok", "customer"),
        ("consent.granted", "customer"),
    ]
    seen = [(e["action"], e["actor_kind"]) for e in events]
    position = 0
    for step in steps:
        assert step in seen[position:], (step, seen)
        position = seen.index(step, position) + 1
    assert all(e["at"] and e["address"] for e in events if e["actor_kind"] != "system")
    verified = json.loads(_cli(db_url, "audit", "verify", "--json"))
    assert verified["ok"] and verified["events"] == len(events)
