"""The customer's side of the authorization-code flow (RFC 6749 section 4.1), in a
real browser: Playwright drives Debian's chromium headless, signs in with the test
customer's credentials, approves (or denies, GBA OAD002) on the consent page and
catches the redirect to the client's registered redirect URI without a server there.

Playwright is the optional extra ``gbconnect[conformance]``, imported only here."""

from __future__ import annotations

import shutil
import time

from gbconnect.conformance.outcome import CaseFailed, NotApplicable

USERNAME = "#username, input[name=username], input[type=email]"
PASSWORD = "input[type=password]"
SUBMIT = "button[type=submit], input[type=submit]"
APPROVE = (
    "button[value=approve], button:has-text('Allow'), button:has-text('Approve'), "
    "button:has-text('Authorize')"
)
DENY = "button[value=deny], button:has-text('Deny'), button:has-text('Decline')"


def chromium_path(given: str | None = None) -> str:
    path = given or shutil.which("chromium") or shutil.which("chromium-browser")
    if not path:
        raise NotApplicable("no chromium found (apt-get install chromium, or --chromium PATH)")
    return path


def authorize_in_browser(
    url: str,
    redirect_uri: str,
    username: str,
    password: str,
    *,
    approve: bool = True,
    chromium: str | None = None,
    timeout: float = 30.0,
    private_ca: bool = False,
) -> str:
    """Open ``url``, sign in, approve or deny; the URL the Data Custodian redirected
    the browser to (it starts with ``redirect_uri``). ``private_ca``: the Data
    Custodian's certificate is of a CA given with ``--ca-file``, which chromium does
    not read: the browser then ignores certificate errors (TC001-006 judge the
    certificate with that CA, not the browser)."""
    try:
        from playwright.sync_api import Error as PlaywrightError
        from playwright.sync_api import sync_playwright
    except ImportError:
        raise NotApplicable("Playwright is missing: pip install 'gbconnect[conformance]'") from None
    executable = chromium_path(chromium)
    caught: list[str] = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=executable, args=["--no-sandbox"])
        try:
            page = browser.new_page(ignore_https_errors=private_ca)
            page.set_default_timeout(timeout * 1000)

            def seen(request: object) -> None:
                target = str(getattr(request, "url", ""))
                if target.startswith(redirect_uri) and not caught:
                    caught.append(target)

            page.on("request", seen)
            page.route(
                lambda u: u.startswith(redirect_uri),
                lambda route: route.fulfill(status=200, body="redirect caught"),
            )
            try:
                page.goto(url)
                if not caught and page.locator(PASSWORD).count():
                    page.locator(USERNAME).first.fill(username)
                    page.locator(PASSWORD).first.fill(password)
                    page.locator(SUBMIT).first.click()
                    page.wait_for_load_state()
                if not caught:
                    button = page.locator(APPROVE if approve else DENY).first
                    button.click()
            except PlaywrightError as exc:
                if not caught:
                    first = exc.message.splitlines()[0] if exc.message else str(exc)
                    raise CaseFailed(f"the browser flow stopped: {first}") from None
            deadline = time.monotonic() + timeout
            while not caught and time.monotonic() < deadline:
                page.wait_for_timeout(100)
            if not caught:
                raise CaseFailed(
                    f"the browser was not sent back to {redirect_uri} (it is on {page.url})"
                )
        finally:
            browser.close()
    return caught[0]


__all__ = ["authorize_in_browser", "chromium_path"]
