"""The SDK's NotificationReceiver served by a real uvicorn on a loopback port and sent
real POSTs (httpx): every answer of REQ.21 FB_39's receiving side. The delivery by a
real gbconnect is in tests/integration/client/test_receiver_delivery.py."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator

import httpx
import pytest

from gbconnect.client import Notification, NotificationReceiver
from gbconnect.notify.signing import signature_headers
from tests.asgiserver import served

SECRET = b"s" * 32
URI = "https://dc.example/DataCustodian/espi/1_1/resource/Batch/Bulk/7"
BODY = (
    '<BatchList xmlns="http://naesb.org/espi">'
    f"<resources>{URI}</resources><resources>{URI}?b=1</resources></BatchList>"
).encode()


def signed(body: bytes = BODY, key: str | None = "k1", secret: bytes = SECRET) -> dict[str, str]:
    headers = signature_headers(secret, body, int(time.time()))
    if key is not None:
        headers["Idempotency-Key"] = key
    headers["Content-Type"] = "application/xml"
    return headers


@pytest.fixture
def receiver() -> Iterator[tuple[str, list[Notification]]]:
    got: list[Notification] = []
    with served(NotificationReceiver(got.append, secret=SECRET, max_body=4096)) as url:
        yield url, got


def test_a_signed_batch_list_is_handed_over_once_per_idempotency_key(
    receiver: tuple[str, list[Notification]],
) -> None:
    url, got = receiver
    r = httpx.post(url, content=BODY, headers=signed())
    assert r.status_code == 200 and r.text == "received\n"
    again = httpx.post(url, content=BODY, headers=signed())
    assert again.status_code == 200 and again.text == "already received\n"
    assert len(got) == 1
    n = got[0]
    assert n.resources == [URI, URI + "?b=1"] and n.idempotency_key == "k1" and n.body == BODY
    assert n.headers["content-type"] == "application/xml"
    assert httpx.post(url, content=BODY, headers=signed(key=None)).status_code == 200
    assert len(got) == 2


def test_only_post(receiver: tuple[str, list[Notification]]) -> None:
    url, got = receiver
    for method in ("GET", "PUT", "DELETE"):
        r = httpx.request(method, url)
        assert r.status_code == 405 and r.headers["allow"] == "POST", method
    assert not got


def test_bodies_over_the_limit_are_413_declared_or_streamed(
    receiver: tuple[str, list[Notification]],
) -> None:
    url, got = receiver
    big = b"<BatchList>" + b" " * 5000 + b"</BatchList>"
    assert httpx.post(url, content=big, headers=signed(big)).status_code == 413

    def chunks() -> Iterator[bytes]:
        for _ in range(10):
            yield b" " * 1000

    assert httpx.post(url, content=chunks(), headers=signed()).status_code == 413
    assert not got


def test_missing_wrong_or_stale_signatures_are_401(
    receiver: tuple[str, list[Notification]],
) -> None:
    url, got = receiver
    stale = signature_headers(SECRET, BODY, int(time.time()) - 3600)
    cases = [
        {},
        signed(secret=b"x" * 32),
        stale,
        {**signed(), "Gbconnect-Signature": "v1=00"},
        {**signed(), "Gbconnect-Timestamp": "soon"},
    ]
    for headers in cases:
        r = httpx.post(url, content=BODY, headers=headers)
        assert r.status_code == 401 and "Gbconnect-Signature" in r.text
    tampered = BODY.replace(b"Bulk/7", b"Bulk/8")
    assert httpx.post(url, content=tampered, headers=signed()).status_code == 401
    assert not got


@pytest.mark.parametrize(
    "body",
    [
        b"not xml",
        b"<Feed/>",
        b'<BatchList xmlns="http://naesb.org/espi"/>',
        b'<BatchList xmlns="http://naesb.org/espi"><resources>ftp://x/y</resources></BatchList>',
        b'<!DOCTYPE x [<!ENTITY a "b">]><BatchList xmlns="http://naesb.org/espi"/>',
    ],
)
def test_not_a_batch_list_is_400(receiver: tuple[str, list[Notification]], body: bytes) -> None:
    url, got = receiver
    r = httpx.post(url, content=body, headers=signed(body))
    assert r.status_code == 400 and r.text.startswith("not an ESPI BatchList: ")
    assert not got


def test_a_failing_callback_is_500_and_the_retry_is_handled() -> None:
    calls: list[str] = []

    async def flaky(n: Notification) -> None:
        await asyncio.sleep(0)
        calls.append(n.idempotency_key or "")
        if len(calls) == 1:
            raise RuntimeError("database down")

    with served(NotificationReceiver(flaky, secret=[b"old" * 11, SECRET])) as url:
        first = httpx.post(url, content=BODY, headers=signed())
        assert first.status_code == 500 and "database down" not in first.text
        assert httpx.post(url, content=BODY, headers=signed()).status_code == 200
        assert httpx.post(url, content=BODY, headers=signed()).status_code == 200
    assert calls == ["k1", "k1"]


def test_without_a_secret_signatures_are_not_asked_for() -> None:
    got: list[Notification] = []
    with served(NotificationReceiver(got.append)) as url:
        assert httpx.post(url, content=BODY).status_code == 200
    assert got[0].idempotency_key is None
