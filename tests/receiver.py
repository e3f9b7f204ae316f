"""A third party's notify endpoint: a real HTTP server on a loopback port that records
every POST (body and headers) and answers as the test says; it can be stopped and
started again on the same port (a receiver down for a while)."""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

Behaviour = Callable[[BaseHTTPRequestHandler], None]


def answer(handler: BaseHTTPRequestHandler, status: int, **extra: str) -> None:
    """Answer ``status`` with an empty body (and ``extra`` headers, ``_`` for ``-``)."""
    handler.send_response(status)
    for name, value in extra.items():
        handler.send_header(name.replace("_", "-"), value)
    handler.send_header("Content-Length", "0")
    handler.end_headers()


@dataclass
class Received:
    body: bytes
    headers: dict[str, str]
    at: float


@dataclass
class Receiver:
    """Records what it is sent; ``behaviour`` answers (200 by default)."""

    port: int = 0
    behaviour: Behaviour = field(default=lambda h: answer(h, 200))
    received: list[Received] = field(default_factory=list)
    _server: ThreadingHTTPServer | None = None
    _thread: threading.Thread | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/notify"

    def start(self) -> None:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length", "0"))
                got = Received(
                    self.rfile.read(length),
                    {k.lower(): v for k, v in self.headers.items()},
                    time.time(),
                )
                with receiver._lock:
                    receiver.received.append(got)
                with contextlib.suppress(BrokenPipeError, ConnectionResetError):
                    receiver.behaviour(self)

            def log_message(self, format: str, *args: object) -> None:
                pass

        ThreadingHTTPServer.allow_reuse_address = True
        server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        server.daemon_threads = True
        self.port = int(server.server_address[1])
        self._server = server
        self._thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
        self._thread.start()

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            assert self._thread is not None
            self._thread.join(5)
            self._server = None

    def wait_for(self, count: int, timeout: float = 10.0) -> list[Received]:
        """The first ``count`` receipts, waiting for them up to ``timeout`` seconds."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self._lock:
                if len(self.received) >= count:
                    return list(self.received)
            time.sleep(0.02)
        with self._lock:
            raise AssertionError(f"{len(self.received)} notification(s) received, not {count}")


@contextlib.contextmanager
def receiving() -> Iterator[Receiver]:
    """A receiver on a free loopback port until the block ends."""
    r = Receiver()
    r.start()
    try:
        yield r
    finally:
        r.stop()
