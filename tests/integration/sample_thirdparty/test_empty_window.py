"""A Data Custodian that answers ``204 No Content`` (PG&E, when a window holds no
data; STANDARD.md section 7): the sample app stores nothing and says nothing is
wrong. The utility here is a small real HTTP server speaking only what is needed."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from gbconnect.sample_thirdparty.config import SampleConfig
from gbconnect.sample_thirdparty.custodian import Custodian, Loaded
from gbconnect.sample_thirdparty.store import Store
from tests.serverproc import free_port


@pytest.fixture
def utility() -> Iterator[str]:
    port = free_port()
    base = f"http://127.0.0.1:{port}"

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: Any) -> None:
            return

        def do_GET(self) -> None:
            if self.path == "/.well-known/oauth-authorization-server":
                body = json.dumps(
                    {
                        "issuer": base,
                        "authorization_endpoint": f"{base}/oauth/authorize",
                        "token_endpoint": f"{base}/oauth/token",
                        "espi_resource_base": f"{base}/resource",
                    }
                ).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)
                return
            self.send_response(204 if self.path == "/resource/Batch/Subscription/9" else 404)
            self.send_header("Content-Length", "0")
            self.end_headers()

    server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield base
    finally:
        server.shutdown()
        server.server_close()


def test_204_stores_nothing_without_an_error(utility: str, tmp_path: Path) -> None:
    config = SampleConfig(utility, "id", "secret", "http://127.0.0.1:8001", tmp_path)
    store = Store(tmp_path / "s.sqlite3")
    store.save_tokens(
        "sid",
        {
            "access_token": "t",
            "token_type": "Bearer",
            "expires_at": time.time() + 3600,
            "refresh_token": None,
            "scope": None,
            "resource_uri": f"{utility}/resource/Batch/Subscription/9",
            "authorization_uri": None,
            "customer_resource_uri": None,
            "raw": {},
        },
        "9",
    )
    custodian = Custodian(config, store)
    try:
        assert custodian.scope().startswith("FB=")  # no scopes_supported: the fallback
        assert custodian.pull_subscription("sid") == Loaded(0, 0)
    finally:
        custodian.close()
    assert store.reading_count("9") == 0
