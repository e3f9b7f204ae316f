"""The tester's own notification receiver (REQ.21 FB_39; GBA PSH001-004): the SDK's
:class:`~gbconnect.client.NotificationReceiver` served by uvicorn in a thread, wrapped
so that it can answer 500 to the next POST on purpose (PSH004: the Data Custodian
must notice and deliver it again)."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from gbconnect.client import Notification

Scope = dict[str, Any]
Receive = Callable[[], Any]
Send = Callable[[dict[str, Any]], Any]


@dataclass
class Refused:
    """A POST the receiver answered 500 to on purpose."""

    body: bytes
    idempotency_key: str | None
    at: float


@dataclass
class Notifier:
    host: str = "127.0.0.1"
    port: int = 0
    received: list[Notification] = field(default_factory=list)
    refused: list[Refused] = field(default_factory=list)
    _fail_next: bool = False
    _lock: threading.Condition = field(default_factory=threading.Condition)
    _server: Any = None
    _thread: threading.Thread | None = None

    def _on(self, notification: Notification) -> None:
        with self._lock:
            self.received.append(notification)
            self._lock.notify_all()

    def app(self) -> Callable[[Scope, Receive, Send], Any]:
        from gbconnect.client import NotificationReceiver

        receiver = NotificationReceiver(self._on)

        async def wrapped(scope: Scope, receive: Receive, send: Send) -> None:
            if scope["type"] == "http" and scope["method"] == "POST" and self._fail_next:
                body = b""
                while True:
                    message = await receive()
                    body += message.get("body", b"")
                    if not message.get("more_body"):
                        break
                headers = {k.decode().lower(): v.decode() for k, v in scope["headers"]}
                with self._lock:
                    self._fail_next = False
                    self.refused.append(Refused(body, headers.get("idempotency-key"), time.time()))
                    self._lock.notify_all()
                await send({"type": "http.response.start", "status": 500, "headers": []})
                await send({"type": "http.response.body", "body": b"refused on purpose"})
                return
            await receiver(scope, receive, send)

        return wrapped

    def start(self) -> None:
        import uvicorn

        config = uvicorn.Config(
            self.app(), host=self.host, port=self.port, log_level="error", lifespan="off"
        )
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self._server.run, daemon=True)
        self._thread.start()
        for _ in range(200):
            if self._server.started:
                break
            time.sleep(0.05)
        if not self._server.started:
            raise RuntimeError(f"the notification receiver could not listen on {self.host}")
        self.port = int(self._server.servers[0].sockets[0].getsockname()[1])

    @property
    def url(self) -> str:
        host = "127.0.0.1" if self.host in ("0.0.0.0", "") else self.host
        return f"http://{host}:{self.port}/notify"

    def fail_next(self) -> None:
        with self._lock:
            self._fail_next = True

    def wait_for(
        self, wanted: Callable[[Notification], bool], timeout: float, after: int = 0
    ) -> Notification | None:
        """The first notification (from index ``after``) ``wanted`` accepts, waiting
        at most ``timeout`` seconds."""
        deadline = time.monotonic() + timeout
        with self._lock:
            while True:
                for n in self.received[after:]:
                    if wanted(n):
                        return n
                left = deadline - time.monotonic()
                if left <= 0:
                    return None
                self._lock.wait(min(left, 0.5))

    def wait_refused(self, timeout: float) -> Refused | None:
        deadline = time.monotonic() + timeout
        with self._lock:
            while not self.refused:
                left = deadline - time.monotonic()
                if left <= 0:
                    return None
                self._lock.wait(min(left, 0.5))
            return self.refused[-1]

    def stop(self) -> None:
        if self._server is not None:
            self._server.should_exit = True
        if self._thread is not None:
            self._thread.join(timeout=10)


def parse_listen(text: str) -> tuple[str, int]:
    """``HOST:PORT`` (port 0: any free one)."""
    host, _, port = text.rpartition(":")
    if not host or not port.isdigit():
        raise ValueError(f"--notify-listen {text!r} is not HOST:PORT")
    return host.strip("[]"), int(port)


__all__ = ["Notifier", "Refused", "parse_listen"]
