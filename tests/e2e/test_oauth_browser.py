"""End to end: a test third party drives the whole authorization-code flow over real
HTTP against ``gbconnect serve`` (uvicorn on a local port), with a real browser
(Playwright driving Debian's chromium) signing in and filling the consent form.

The third party is a small HTTP server of its own: it sends the browser to the
utility with ``state`` and a PKCE challenge, receives the redirect, exchanges the
code at the token endpoint and keeps the token response. The granted scope must be
what the customer chose on the consent page.
"""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
import shutil
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import httpx
import pytest

from tests.clirun import run_cli
from tests.serverproc import free_port, serving

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
PASSWORD = "a long enough password"
SCOPE = (
    "FB=1_3_4_5_10_13_14_15_16_39;IntervalDuration=900_3600;BlockDuration=daily;HistoryLength=13"
)


def _cli(db_url: str, *args: str) -> str:
    done = run_cli(db_url, *args)
    assert done.returncode == 0, done.stderr
    return done.stdout


class ThirdParty:
    """A minimal third-party web application (a confidential client with PKCE)."""

    def __init__(self, utility: str) -> None:
        self.utility = utility
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.redirect_uri = f"{self.base}/callback"
        self.client_id = ""
        self.client_secret = ""
        self.state = secrets.token_urlsafe(16)
        self.verifier = secrets.token_urlsafe(48)
        self.tokens: dict[str, Any] | None = None
        self.error: str | None = None
        party = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                return

            def do_GET(self) -> None:
                url = urlsplit(self.path)
                query = {k: v[0] for k, v in parse_qs(url.query).items()}
                if url.path == "/connect":
                    self.send_response(302)
                    self.send_header("Location", party.authorize_url())
                    self.end_headers()
                    return
                if url.path == "/frame":
                    # A page that tries to frame the utility's sign-in (clickjacking).
                    self.send_response(200)
                    self.send_header("Content-Type", "text/html")
                    self.end_headers()
                    frame = f"<iframe id='utility' src='{party.utility}/login'></iframe>"
                    self.wfile.write(frame.encode())
                    return
                if url.path == "/callback":
                    body = party.callback(query)
                    self.send_response(200)
                    self.send_header("Content-Type", "text/html")
                    self.end_headers()
                    self.wfile.write(body.encode())
                    return
                self.send_response(404)
                self.end_headers()

        self.server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def authorize_url(self) -> str:
        challenge = base64.urlsafe_b64encode(hashlib.sha256(self.verifier.encode()).digest())
        return f"{self.utility}/oauth/authorize?" + urlencode(
            {
                "response_type": "code",
                "client_id": self.client_id,
                "redirect_uri": self.redirect_uri,
                "scope": SCOPE,
                "state": self.state,
                "code_challenge": challenge.rstrip(b"=").decode(),
                "code_challenge_method": "S256",
            }
        )

    def callback(self, query: dict[str, str]) -> str:
        if query.get("state") != self.state:
            self.error = "state mismatch"
            return "<h1>state mismatch</h1>"
        if "error" in query:
            self.error = query["error"]
            return f"<h1>refused: {query['error']}</h1>"
        r = httpx.post(
            f"{self.utility}/oauth/token",
            data={
                "grant_type": "authorization_code",
                "code": query["code"],
                "redirect_uri": self.redirect_uri,
                "code_verifier": self.verifier,
            },
            auth=(self.client_id, self.client_secret),
            timeout=10,
        )
        if r.status_code != 200:
            self.error = r.text
            return "<h1>token exchange failed</h1>"
        self.tokens = r.json()
        return f"<h1 id='connected'>Connected</h1><p id='scope'>{self.tokens['scope']}</p>"


@pytest.fixture
def utility(db_url: str) -> Iterator[str]:
    _cli(db_url, "generate", "--customers", "1", "--days", "2", "--end", "2024-05-02")
    with serving(db_url) as served:
        yield served.base


@pytest.fixture
def party(utility: str) -> Iterator[ThirdParty]:
    tp = ThirdParty(utility)
    tp.thread.start()
    try:
        yield tp
    finally:
        tp.server.shutdown()
        tp.server.server_close()


def test_third_party_gets_the_scope_the_customer_chose(
    utility: str, party: ThirdParty, db_url: str
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
            party.redirect_uri,
            "--scope",
            SCOPE,
            "--approve",
            "--json",
        )
    )
    party.client_id = registered["client_id"]
    party.client_secret = registered["client_secret"]
    customers = json.loads(_cli(db_url, "customer", "list", "--json"))
    username = next(c["username"] for c in customers if c["usage_points"])
    _cli(db_url, "customer", "create", username, "--password", PASSWORD)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        page = browser.new_page()
        page.goto(f"{party.base}/connect")
        # The utility's sign-in page, then the consent page.
        page.fill("#username", username)
        page.fill("#password", PASSWORD)
        page.click("button[type=submit]")
        page.wait_for_selector("text=Watt Watchers asks to see your energy data")
        assert page.is_checked("input[name=group][value=gas]")
        page.uncheck("input[name=group][value=gas]")
        page.uncheck("input[name=group][value=billing]")
        page.select_option("select[name=history]", "6")
        page.click("button[value=approve]")
        page.wait_for_selector("#connected")
        shown = page.inner_text("#scope")
        browser.close()
    assert party.error is None
    assert party.tokens is not None
    granted = party.tokens["scope"]
    assert shown == granted
    assert (
        granted
        == "FB=1_3_4_5_13_14_39;IntervalDuration=900_3600;BlockDuration=daily;HistoryLength=6"
    )
    assert party.tokens["resourceURI"].startswith(
        utility + "/DataCustodian/espi/1_1/resource/Batch/Subscription/"
    )
    # The token works against the utility over real HTTP: introspection says so.
    r = httpx.post(
        f"{utility}/oauth/introspect",
        data={"token": party.tokens["access_token"]},
        auth=(party.client_id, party.client_secret),
    )
    assert r.json()["active"] is True and r.json()["scope"] == granted


def test_utility_pages_cannot_be_framed_and_load_under_their_policy(
    utility: str, party: ThirdParty
) -> None:
    from playwright.sync_api import sync_playwright

    assert CHROMIUM, "Debian's chromium is needed: apt-get install chromium (.ci/run does)"
    violations: list[str] = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        page = browser.new_page()
        page.on(
            "console",
            lambda m: violations.append(m.text) if "Content Security Policy" in m.text else None,
        )
        for path in ("/", "/login", "/docs"):
            r = page.goto(f"{utility}{path}")
            assert r is not None and r.ok
            assert "frame-ancestors 'none'" in r.headers["content-security-policy"]
        page.goto(f"{party.base}/frame")
        page.wait_for_timeout(500)
        framed = [f for f in page.frames if f != page.main_frame]
        assert framed and all(f.query_selector("#username") is None for f in framed)
        browser.close()
    assert not [v for v in violations if "frame-ancestors" not in v], violations
