"""A third party's notification endpoint (REQ.21 FB_39, GBA PSH001-004) as a raw ASGI
application: mount it in any ASGI framework or serve it with uvicorn directly.

What it answers (a short plain-text sentence each time):

- 405 to anything but POST (``Allow: POST``);
- 413 to a body over ``max_body`` bytes (read no further);
- 401 when a ``secret`` is set and the gbconnect signature (``Gbconnect-Timestamp``,
  ``Gbconnect-Signature``, see :mod:`gbconnect.client.signature`) is missing, stale
  or wrong;
- 400 to a body that is not an ESPI BatchList;
- 200 without calling again for an ``Idempotency-Key`` already handled (the Data
  Custodian delivers at least once and retries);
- else it calls ``on_notification`` and answers 200; if the callback raises, 500 (the
  key is forgotten so that the Data Custodian's retry is handled).
"""

from __future__ import annotations

import asyncio
import inspect
import logging
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any

from gbconnect.client.batchlist import parse_batch_list
from gbconnect.client.parser.errors import FeedError
from gbconnect.client.signature import DEFAULT_TOLERANCE, verify_signature

#: The header that names a delivery (the same on its retries).
IDEMPOTENCY_HEADER = "idempotency-key"

log = logging.getLogger("gbconnect.client.receiver")

Scope = dict[str, Any]
Receive = Callable[[], Awaitable[dict[str, Any]]]
Send = Callable[[dict[str, Any]], Awaitable[None]]


@dataclass(frozen=True)
class Notification:
    """A BatchList notification: the URIs to GET (in order; see
    :meth:`DataCustodianClient.fetch_notified`), the delivery's idempotency key, the
    raw body and the request headers (names in lower case)."""

    resources: list[str]
    idempotency_key: str | None
    body: bytes
    headers: dict[str, str]


class NotificationReceiver:
    """The ASGI app; see the module docstring for its answers."""

    def __init__(
        self,
        on_notification: Callable[[Notification], Awaitable[None] | None],
        *,
        secret: bytes | str | Sequence[bytes | str] | None = None,
        tolerance: int = DEFAULT_TOLERANCE,
        max_body: int = 1 << 20,
        remember: int = 10000,
    ) -> None:
        self.on_notification = on_notification
        self.secret = secret
        self.tolerance = tolerance
        self.max_body = max_body
        self.remember = remember
        self._seen: OrderedDict[str, None] = OrderedDict()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await _lifespan(receive, send)
            return
        if scope["type"] != "http":
            return  # websockets: not served (the connection is refused)
        if scope.get("method") != "POST":
            await _answer(send, 405, "only POST is accepted here", [(b"allow", b"POST")])
            return
        headers: dict[str, str] = {}
        for name, value in scope.get("headers", []):
            key = name.decode("latin-1").lower()
            text = value.decode("latin-1")
            headers[key] = f"{headers[key]},{text}" if key in headers else text
        declared = headers.get("content-length", "")
        if declared.isdigit() and int(declared) > self.max_body:
            await _answer(send, 413, f"the body is larger than {self.max_body} bytes")
            return
        body = await _read_body(receive, self.max_body)
        if body is None:
            await _answer(send, 413, f"the body is larger than {self.max_body} bytes")
            return
        if self.secret is not None and not verify_signature(
            self.secret, headers, body, tolerance=self.tolerance
        ):
            await _answer(send, 401, "missing, stale or wrong Gbconnect-Signature")
            return
        try:
            resources = parse_batch_list(body)
        except FeedError as exc:
            await _answer(send, 400, f"not an ESPI BatchList: {exc}")
            return
        key = headers.get(IDEMPOTENCY_HEADER)
        if key is not None:
            if key in self._seen:
                await _answer(send, 200, "already received")
                return
            self._remember(key)
        notification = Notification(resources, key, body, headers)
        try:
            await self._call(notification)
        except Exception:  # the third party's own failure: the DC will retry
            log.exception("the notification callback failed")
            if key is not None:
                self._seen.pop(key, None)
            await _answer(send, 500, "the receiver could not handle the notification")
            return
        await _answer(send, 200, "received")

    async def _call(self, notification: Notification) -> None:
        callback = self.on_notification
        if inspect.iscoroutinefunction(callback):
            await callback(notification)
            return
        result = await asyncio.to_thread(callback, notification)
        if inspect.isawaitable(result):
            await result

    def _remember(self, key: str) -> None:
        self._seen[key] = None
        while len(self._seen) > self.remember:
            self._seen.popitem(last=False)


async def _read_body(receive: Receive, limit: int) -> bytes | None:
    """The request body, or ``None`` as soon as it passes ``limit`` bytes."""
    parts: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            break
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            return None
        parts.append(chunk)
        if not message.get("more_body", False):
            break
    return b"".join(parts)


async def _answer(
    send: Send, status: int, text: str, extra: list[tuple[bytes, bytes]] | None = None
) -> None:
    body = (text + "\n").encode()
    headers = [
        (b"content-type", b"text/plain; charset=utf-8"),
        (b"content-length", str(len(body)).encode()),
    ]
    headers += extra or []
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


async def _lifespan(receive: Receive, send: Send) -> None:
    while True:
        message = await receive()
        if message["type"] == "lifespan.startup":
            await send({"type": "lifespan.startup.complete"})
        elif message["type"] == "lifespan.shutdown":
            await send({"type": "lifespan.shutdown.complete"})
            return
