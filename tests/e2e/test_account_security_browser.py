"""End to end, in a real browser against ``gbconnect serve``: a customer resets a
forgotten password through the link in the mail folder (the demo's mailbox), turns
on the second step, and signs in with a TOTP code. SQLite and PostgreSQL."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from email import message_from_bytes
from pathlib import Path

import pyotp
import pytest
from sqlalchemy import update

from gbconnect.customer.models import RetailCustomer
from gbconnect.db import make_engine
from tests.e2e.test_oauth_browser import CHROMIUM, PASSWORD, _cli
from tests.serverproc import serving

NEW = "my new and long passphrase"


@pytest.fixture
def utility(db_url: str, tmp_path: Path) -> Iterator[tuple[str, Path]]:
    _cli(db_url, "generate", "--customers", "1", "--days", "2", "--end", "2024-05-02")
    mail = tmp_path / "mail"
    with serving(db_url, GBCONNECT_MAIL_DIR=str(mail)) as served:
        yield served.base, mail


def test_reset_by_mail_then_sign_in_with_a_second_step(
    utility: tuple[str, Path], db_url: str
) -> None:
    from playwright.sync_api import sync_playwright

    assert CHROMIUM, "Debian's chromium is needed: apt-get install chromium (.ci/run does)"
    base, mail = utility
    customers = json.loads(_cli(db_url, "customer", "list", "--json"))
    username = next(c["username"] for c in customers if c["usage_points"])
    _cli(db_url, "customer", "create", username, "--password", PASSWORD)
    engine = make_engine(db_url)
    with engine.begin() as conn:
        conn.execute(
            update(RetailCustomer)
            .where(RetailCustomer.username == username)
            .values(email="someone@example.com")
        )
    engine.dispose()
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        page = browser.new_page()
        page.goto(f"{base}/login")
        page.click("text=Forgot your password?")
        page.fill("#account", "someone@example.com")
        page.click("button[type=submit]")
        page.wait_for_selector("#sent")
        (eml,) = sorted(mail.glob("*.eml"))
        body = message_from_bytes(eml.read_bytes()).get_payload(decode=True)
        assert isinstance(body, bytes)
        link = re.search(r"(http\S+/password/reset\?token=\S+)", body.decode())
        assert link
        page.goto(link.group(1))
        page.fill("#password", NEW)
        page.fill("#confirm", NEW)
        page.click("button[type=submit]")
        page.wait_for_selector("#reset-done")
        page.fill("#username", username)
        page.fill("#password", NEW)
        page.click("button[type=submit]")
        page.goto(f"{base}/account/security")
        page.click("text=Set up the second step")
        key = page.inner_text("#totp-key").replace(" ", "")
        page.fill("#code", pyotp.TOTP(key).now())
        page.click("text=Turn it on")
        page.wait_for_selector("#recovery")
        # A new browser: password, then the code.
        other = browser.new_context().new_page()
        other.goto(f"{base}/login")
        other.fill("#username", username)
        other.fill("#password", NEW)
        other.click("button[type=submit]")
        other.fill("#code", pyotp.TOTP(key).now())
        other.click("button[type=submit]")
        other.wait_for_url(f"{base}/account")
        browser.close()
