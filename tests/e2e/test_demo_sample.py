"""``gbconnect demo`` runs the sample third party beside the utility (port + 1), in one
process: a customer signed in at the utility shares with "Sample Energy Insights"
from the share page and sees their insights on the sample app; a second ``demo`` on
the same database keeps the one registration and works again."""

from __future__ import annotations

import json
import os
import re
import socket
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx

from gbconnect.customer.services import DEMO_PASSWORD
from tests.e2e.test_oauth_browser import CHROMIUM, _cli
from tests.sampleproc import wait_until

DEMO = [sys.executable, "-m", "gbconnect.cli", "demo", "--customers", "2", "--days", "3"]


def _port_pair() -> int:
    """A port P with P + 1 free too."""
    for _ in range(50):
        with socket.socket() as a:
            a.bind(("127.0.0.1", 0))
            port = int(a.getsockname()[1])
            if port >= 65535:
                continue
            with socket.socket() as b:
                try:
                    b.bind(("127.0.0.1", port + 1))
                except OSError:
                    continue
                return port
    raise RuntimeError("no pair of free ports")


@contextmanager
def demo(url: str, port: int, log: Path) -> Iterator[str]:
    """``gbconnect demo`` on ``url``; yields its output so far once both servers answer."""
    env = {
        **os.environ,
        "GBCONNECT_DATABASE_URL": url,
        "GBCONNECT_SECRET_KEY": "d" * 40,
        "GBCONNECT_BASE_URL": f"http://127.0.0.1:{port}",
    }
    with log.open("w") as out:
        proc = subprocess.Popen(
            [*DEMO, "--port", str(port)],
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    try:

        def up() -> bool:
            assert proc.poll() is None, log.read_text()
            try:
                for p in (port, port + 1):
                    httpx.get(f"http://127.0.0.1:{p}/", timeout=1)
            except httpx.TransportError:
                return False
            return True

        wait_until(up, 180, "gbconnect demo and its sample third party")
        yield log.read_text()
    finally:
        proc.terminate()
        proc.wait(timeout=20)


def test_demo_serves_the_sample_third_party_and_shares_with_it(tmp_path: Path) -> None:
    from playwright.sync_api import sync_playwright

    assert CHROMIUM, "Debian's chromium is needed: apt-get install chromium (.ci/run does)"
    url = f"sqlite:///{tmp_path / 'demo.db'}"
    for run in range(2):
        port = _port_pair()
        utility, sample = f"http://127.0.0.1:{port}", f"http://127.0.0.1:{port + 1}"
        with demo(url, port, tmp_path / f"demo{run}.log") as printed:
            assert f"sample third party (Sample Energy Insights): {sample}/" in printed
            found = re.search(r"demo customer: (\S+) /", printed)
            assert found, printed
            listed = json.loads(_cli(url, "thirdparty", "list", "--json"))
            (app,) = [a for a in listed if a["name"] == "Sample Energy Insights"]
            assert app["portal_uri"] == f"{sample}/start"
            assert app["status"] == "production"
            with sync_playwright() as p:
                browser = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
                page = browser.new_page()
                page.goto(f"{utility}/login?next=%2Faccount%2Fshare")
                page.fill("#username", found.group(1))
                page.fill("#password", DEMO_PASSWORD)
                page.click("button[type=submit]")
                page.click("text=Share with Sample Energy Insights")
                page.click("button[type=submit]")
                page.wait_for_selector("button[value=approve]")
                page.click("button[value=approve]")
                page.wait_for_selector("#baseload")
                assert page.url == f"{sample}/usage"
                browser.close()
