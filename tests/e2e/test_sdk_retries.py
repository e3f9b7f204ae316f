"""The SDK's retry rules against a real HTTP server (uvicorn on a loopback port)
scripted to answer 429 with Retry-After in seconds or as an HTTP date (RFC 9110
section 10.2.3), 503 without it (backoff with jitter, capped), and nothing at all (a
closed port): waits as told, then the body or an ApiError that says why."""

from __future__ import annotations

import email.utils
import socket
import time
from typing import Any

import pytest

from gbconnect.client import ApiError, DataCustodianClient, Endpoints, TokenSet
from tests.asgiserver import served

TOKENS = TokenSet("t0k3n", "Bearer", None, None, None, None, None, None)


class Scripted:
    """An ASGI app answering the statuses of ``script`` in turn, then 200."""

    def __init__(self, script: list[tuple[int, dict[str, str]]]) -> None:
        self.script = list(script)
        self.seen: list[dict[str, str]] = []

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] == "lifespan":
            while True:
                message = await receive()
                if message["type"] == "lifespan.startup":
                    await send({"type": "lifespan.startup.complete"})
                else:
                    await send({"type": "lifespan.shutdown.complete"})
                    return
        self.seen.append({k.decode(): v.decode() for k, v in scope["headers"]})
        status, headers = self.script.pop(0) if self.script else (200, {})
        body = b"<ok/>" if status == 200 else b'{"error": "too_many_requests"}'
        raw = [(k.lower().encode(), v.encode()) for k, v in headers.items()]
        raw.append((b"content-type", b"application/json" if status != 200 else b"text/xml"))
        await send({"type": "http.response.start", "status": status, "headers": raw})
        await send({"type": "http.response.body", "body": body})


def client_of(url: str, waits: list[float], **kw: Any) -> DataCustodianClient:
    base = url.rsplit("/", 1)[0]
    return DataCustodianClient(
        Endpoints.defaults(base), TOKENS, sleep=waits.append, backoff_cap=8.0, **kw
    )


@pytest.fixture
def waits() -> list[float]:
    return []


def test_retry_after_seconds_and_http_date_are_honoured(waits: list[float]) -> None:
    later = email.utils.formatdate(time.time() + 30, usegmt=True)
    app = Scripted([(429, {"Retry-After": "3"}), (429, {"Retry-After": later}), (503, {})])
    with served(app) as url, client_of(url, waits) as api:
        assert api.get("ReadServiceStatus") == b"<ok/>"
    assert waits[0] == 3.0 and 0 < waits[1] <= 8.0 and 0.1 <= waits[2] <= 8.0
    assert len(app.seen) == 4
    assert all(h["authorization"] == "Bearer t0k3n" for h in app.seen)


def test_giving_up_after_max_retries_is_an_api_error(waits: list[float]) -> None:
    app = Scripted([(429, {"Retry-After": "1"})] * 5)
    with (
        served(app) as url,
        client_of(url, waits, max_retries=2) as api,
        pytest.raises(ApiError) as info,
    ):
        api.get("Batch/Bulk/1")
    assert info.value.status == 429 and info.value.error == "too_many_requests"
    assert waits == [1.0, 1.0] and len(app.seen) == 3


def test_a_closed_port_is_retried_then_an_api_error_without_status(waits: list[float]) -> None:
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    sock.close()
    with (
        client_of(f"http://127.0.0.1:{port}/x", waits, max_retries=2) as api,
        pytest.raises(ApiError) as info,
    ):
        api.get("ReadServiceStatus")
    assert info.value.status is None and "no answer" in str(info.value)
    assert len(waits) == 2 and all(0.1 <= w <= 8.0 for w in waits)


def test_a_post_is_not_sent_again_after_a_transport_error(waits: list[float]) -> None:
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    sock.close()
    with client_of(f"http://127.0.0.1:{port}/x", waits) as api, pytest.raises(ApiError):
        api.request("POST", "Batch/RetailCustomer/1/UsagePoint", content=b"<feed/>")
    assert waits == []
