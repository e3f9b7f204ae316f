"""The sample app against a utility on HTTPS (``gbconnect serve --tls-cert``, a
certificate from a test CA made by trustme): with ``verify`` set to that CA file the
discovery and the authorization request work; without it the certificate is not
trusted and the page says the utility cannot be reached (no traceback)."""

from __future__ import annotations

import os
import ssl
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import trustme
from starlette.testclient import TestClient

from gbconnect.sample_thirdparty.config import SampleConfig
from gbconnect.sample_thirdparty.views import make_app
from tests.clirun import run_cli
from tests.serverproc import free_port

SERVE = [sys.executable, "-m", "gbconnect.cli", "serve"]


@pytest.fixture(scope="module")
def https_utility(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path]]:
    """(base URL, CA file) of a served utility on HTTPS."""
    folder = tmp_path_factory.mktemp("tls")
    ca = trustme.CA()
    leaf = ca.issue_cert("127.0.0.1")
    cert, key, ca_file = folder / "cert.pem", folder / "key.pem", folder / "ca.pem"
    leaf.private_key_pem.write_to_path(str(key))
    with cert.open("wb") as out:
        for blob in leaf.cert_chain_pems:
            out.write(blob.bytes())
    ca.cert_pem.write_to_path(str(ca_file))
    url = f"sqlite:///{folder / 'u.db'}"
    assert run_cli(url, "init").returncode == 0
    port = free_port()
    base = f"https://127.0.0.1:{port}"
    env = {
        **os.environ,
        "GBCONNECT_DATABASE_URL": url,
        "GBCONNECT_SECRET_KEY": "t" * 40,
        "GBCONNECT_BASE_URL": base,
    }
    trusting = ssl.create_default_context(cafile=str(ca_file))
    proc = subprocess.Popen(
        [*SERVE, "--port", str(port), "--tls-cert", str(cert), "--tls-key", str(key)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        for _ in range(300):
            try:
                httpx.get(base + "/livez", verify=trusting, timeout=1)
                break
            except httpx.TransportError:
                time.sleep(0.1)
        yield base, ca_file
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def _config(base: str, tmp_path: Path, verify: bool | str) -> SampleConfig:
    return SampleConfig(base, "id", "secret", "http://127.0.0.1:8001", tmp_path, verify=verify)


def test_with_the_ca_file_the_utility_on_https_is_discovered(
    https_utility: tuple[str, Path], tmp_path: Path
) -> None:
    base, ca_file = https_utility
    app = make_app(_config(base, tmp_path, str(ca_file)))
    with TestClient(app, base_url="http://127.0.0.1:8001", follow_redirects=False) as client:
        r = client.get("/connect")
    assert r.status_code == 303
    assert r.headers["location"].startswith(f"{base}/oauth/authorize?")


def test_an_untrusted_certificate_is_a_page_not_a_traceback(
    https_utility: tuple[str, Path], tmp_path: Path
) -> None:
    base, _ = https_utility
    app = make_app(_config(base, tmp_path, True))
    with TestClient(app, base_url="http://127.0.0.1:8001", follow_redirects=False) as client:
        r = client.get("/connect")
    assert r.status_code == 502 and "cannot be reached" in r.text
