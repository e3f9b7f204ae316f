"""An id the store cannot hold, on a real server: a 404 that keeps the kept-alive
connection open (issue 15 item 1)."""

from __future__ import annotations

import http.client
import json
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from click.testing import CliRunner

from gbconnect.cli import main
from tests.serverproc import serving

BASE = "/DataCustodian/espi/1_1/resource"
PATHS = (f"/UsagePoint/{2**63}", "/Subscription/abc/UsagePoint", f"/Authorization/{2**64}")


@pytest.fixture
def server(tmp_path: Path) -> Iterator[tuple[str, str]]:
    """The server's base URL and an admin token."""
    url = f"sqlite:///{tmp_path / 'ids.db'}"
    runner = CliRunner()
    assert runner.invoke(main, ["--database-url", url, "init"]).exit_code == 0
    issued = runner.invoke(main, ["--database-url", url, "token", "admin", "--json"])
    assert issued.exit_code == 0, issued.output
    token = json.loads(issued.output)["access_token"]
    with serving(url) as served:
        yield served.base, token


def test_id_beyond_int64_keeps_the_connection_open(server: tuple[str, str]) -> None:
    base, token = server
    parts = urlsplit(base)
    conn = http.client.HTTPConnection(str(parts.hostname), parts.port, timeout=10)
    try:
        for path in (
            f"/UsagePoint/{2**63}",
            "/Subscription/abc/UsagePoint",
            f"/Authorization/{2**64}",
        ):
            conn.request("GET", BASE + path, headers={"Authorization": f"Bearer {token}"})
            r = conn.getresponse()
            body = json.loads(r.read())
            assert r.status == 404 and body["error"] == "not_found", (path, body)
            assert (r.getheader("connection") or "").lower() != "close"
            sock = conn.sock
            assert sock is not None
        conn.request("GET", "/livez")
        again = conn.getresponse()
        assert again.status == 200 and json.loads(again.read()) == {"status": "ok"}
        assert conn.sock is sock  # the same connection answered
    finally:
        conn.close()
