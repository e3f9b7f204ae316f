"""One POST of a notification to a real receiver on 127.0.0.1 is classified as
delivered, retry or dead (GBA PSH001-PSH004, STANDARD.md section 3)."""

from __future__ import annotations

import contextlib
import socket
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from lxml import etree

from gbconnect.espi.validate import SchemaSet
from gbconnect.notify.delivery import deliver

BATCH = (
    b'<?xml version="1.0" encoding="UTF-8"?>'
    b'<BatchList xmlns="http://naesb.org/espi">'
    b"<resources>https://dc.example/espi/1_1/resource/Batch/Bulk/123</resources>"
    b"</BatchList>"
)
HEADERS = {"Authorization": "Bearer notify-token", "X-Notify-Id": "42"}
BIG = 10 * 1024 * 1024

Behaviour = Callable[[BaseHTTPRequestHandler], None]


@dataclass
class Receiver:
    """A third party's notify endpoint whose answer each test sets."""

    url: str
    behaviour: Behaviour = field(default=lambda h: _answer(h, 200))
    bodies: list[bytes] = field(default_factory=list)
    headers: list[dict[str, str]] = field(default_factory=list)
    sent: list[int] = field(default_factory=list)


def _answer(handler: BaseHTTPRequestHandler, status: int, **extra: str) -> None:
    handler.send_response(status)
    for name, value in extra.items():
        handler.send_header(name.replace("_", "-"), value)
    handler.send_header("Content-Length", "0")
    handler.end_headers()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    state: list[Receiver] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            r = state[0]
            length = int(self.headers.get("Content-Length", "0"))
            r.bodies.append(self.rfile.read(length))
            r.headers.append({k.lower(): v for k, v in self.headers.items()})
            with contextlib.suppress(BrokenPipeError, ConnectionResetError):
                r.behaviour(self)

        def log_message(self, format: str, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    state.append(Receiver(f"http://127.0.0.1:{server.server_address[1]}/notify"))
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    yield state[0]
    server.shutdown()
    server.server_close()
    thread.join(5)


def test_the_notification_body_is_a_valid_batchlist(schemas: Path) -> None:
    SchemaSet(schemas).schema.assertValid(etree.fromstring(BATCH))


def test_a_2xx_is_delivered_with_the_body_and_headers(receiver: Receiver) -> None:
    attempt = deliver(receiver.url, BATCH, HEADERS)
    assert attempt.outcome == "delivered"
    assert attempt.status == 200
    assert attempt.error is None
    assert attempt.latency_ms >= 0
    assert receiver.bodies == [BATCH]
    got = receiver.headers[0]
    assert got["content-type"] == "application/xml"
    assert got["authorization"] == "Bearer notify-token"
    assert got["x-notify-id"] == "42"


def test_a_500_is_retried(receiver: Receiver) -> None:
    receiver.behaviour = lambda h: _answer(h, 500)
    attempt = deliver(receiver.url, BATCH, HEADERS)
    assert (attempt.outcome, attempt.status, attempt.error) == ("retry", 500, "HTTP 500")


def test_a_404_is_dead(receiver: Receiver) -> None:
    receiver.behaviour = lambda h: _answer(h, 404)
    attempt = deliver(receiver.url, BATCH, HEADERS)
    assert (attempt.outcome, attempt.status, attempt.error) == ("dead", 404, "HTTP 404")


def test_a_429_is_retried(receiver: Receiver) -> None:
    receiver.behaviour = lambda h: _answer(h, 429, Retry_After="60")
    attempt = deliver(receiver.url, BATCH, HEADERS)
    assert (attempt.outcome, attempt.status) == ("retry", 429)


def test_a_redirect_is_not_followed_and_is_retried(receiver: Receiver) -> None:
    receiver.behaviour = lambda h: _answer(h, 302, Location=receiver.url + "/elsewhere")
    attempt = deliver(receiver.url, BATCH, HEADERS)
    assert (attempt.outcome, attempt.status, attempt.error) == ("retry", 302, "HTTP 302")
    assert len(receiver.bodies) == 1


def test_an_answer_slower_than_the_read_timeout_is_retried(receiver: Receiver) -> None:
    def slow(h: BaseHTTPRequestHandler) -> None:
        time.sleep(1.5)
        _answer(h, 200)

    receiver.behaviour = slow
    started = time.monotonic()
    attempt = deliver(receiver.url, BATCH, HEADERS, read_timeout=0.3)
    assert attempt.outcome == "retry"
    assert attempt.status is None
    assert attempt.error is not None and "timeout" in attempt.error.lower()
    assert time.monotonic() - started < 1.2


def test_a_connection_closed_without_an_answer_is_retried(receiver: Receiver) -> None:
    def hang_up(h: BaseHTTPRequestHandler) -> None:
        h.close_connection = True

    receiver.behaviour = hang_up
    attempt = deliver(receiver.url, BATCH, HEADERS)
    assert attempt.outcome == "retry"
    assert attempt.status is None
    assert attempt.error


def test_a_huge_answer_is_not_read_whole(receiver: Receiver) -> None:
    def flood(h: BaseHTTPRequestHandler) -> None:
        h.send_response(200)
        h.send_header("Content-Length", str(BIG))
        h.end_headers()
        chunk = b"x" * 65536
        written = 0
        try:
            while written < BIG:
                h.wfile.write(chunk)
                written += len(chunk)
        finally:
            receiver.sent.append(written)

    receiver.behaviour = flood
    attempt = deliver(receiver.url, BATCH, HEADERS, max_response_bytes=64 * 1024)
    assert (attempt.outcome, attempt.status) == ("delivered", 200)
    deadline = time.monotonic() + 5
    while not receiver.sent and time.monotonic() < deadline:
        time.sleep(0.01)
    assert receiver.sent and receiver.sent[0] < BIG


def test_a_refused_connection_is_retried() -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    attempt = deliver(f"http://127.0.0.1:{port}/notify", BATCH, HEADERS, connect_timeout=1)
    assert attempt.outcome == "retry"
    assert attempt.status is None
    assert attempt.error and "Connect" in attempt.error
