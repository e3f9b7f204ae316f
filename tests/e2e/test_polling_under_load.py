"""``gbconnect serve`` polled the way third parties poll: many requests at once, a
database that drops its connections, a database that is down."""

from __future__ import annotations

import asyncio
import time

import httpx
import psycopg
from fastapi.testclient import TestClient
from sqlalchemy import create_engine

from gbconnect.app import create_app
from gbconnect.config import load_settings
from tests.polling import polling_customer
from tests.serverproc import free_port, serving


def _get_all(base: str, path: str, token: str, n: int) -> list[httpx.Response]:
    async def run() -> list[httpx.Response]:
        auth = {"Authorization": f"Bearer {token}"}
        async with httpx.AsyncClient(base_url=base, timeout=60) as client:
            return list(await asyncio.gather(*(client.get(path, headers=auth) for _ in range(n))))

    return asyncio.run(run())


def test_more_feeds_at_once_than_threads_and_connections(db_url: str) -> None:
    """Streams wait for a slot on the event loop, never in a worker thread for a
    connection (which deadlocked until the pool timeout)."""
    token, block = polling_customer(db_url, 3)
    feed = block.rsplit("/", 1)[0]
    with serving(
        db_url,
        GBCONNECT_LOG_LEVEL="WARNING",
        GBCONNECT_WORKER_THREADS="2",
        GBCONNECT_FEED_STREAMS="2",
    ) as served:
        started = time.monotonic()
        answers = _get_all(served.base, feed, token, 40)
        assert time.monotonic() - started < 60
        assert [r.status_code for r in answers] == [200] * 40
        assert all(r.content.count(b"<IntervalReading>") == 3 * 96 for r in answers)
        # The hot path, many at once, meanwhile and after.
        entries = _get_all(served.base, block, token, 64)
        assert [r.status_code for r in entries] == [200] * 64


def test_hot_path_survives_dropped_connections(postgres_url: str) -> None:
    token, block = polling_customer(postgres_url, 2)
    with serving(postgres_url, GBCONNECT_LOG_LEVEL="WARNING") as served:
        assert [r.status_code for r in _get_all(served.base, block, token, 8)] == [200] * 8
        dsn = postgres_url.replace("postgresql+psycopg://", "postgresql://")
        with psycopg.connect(dsn, autocommit=True) as conn:
            ended = conn.execute(
                "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity"
                " WHERE datname = current_database() AND pid <> pg_backend_pid()"
            ).fetchone()
        assert ended is not None and ended[0] >= 1
        again = httpx.get(served.base + block, headers={"Authorization": f"Bearer {token}"})
        assert again.status_code == 200, again.text


def test_hot_path_answers_503_when_the_database_is_down() -> None:
    url = f"postgresql+psycopg://gbconnect@127.0.0.1:{free_port()}/nowhere"
    settings = load_settings(database_url=url, secret_key="d" * 40, database_timeout=1.0)
    app = create_app(settings, create_engine(url))
    path = f"{settings.resource_base}/Subscription/1/UsagePoint/2/MeterReading/3/IntervalBlock/4"
    with TestClient(app) as client:
        r = client.get(path, headers={"Authorization": "Bearer some-token"})
    assert r.status_code == 503
    assert r.headers["retry-after"] == "5"
    assert r.json()["error"] == "temporarily_unavailable"
    assert b"Traceback" not in r.content and b"nowhere" not in r.content


def test_large_feeds_stream_and_free_their_slot_when_the_client_leaves(db_url: str) -> None:
    """A feed past one chunk streams from its own session; a client that leaves
    mid-feed gives back its slot and connection (the later requests would wait
    forever otherwise, with two slots and two threads)."""
    token, block = polling_customer(db_url, 40)
    sid = block.split("/Subscription/")[1].split("/")[0]
    batch = block.split("/Subscription/")[0] + f"/Batch/Subscription/{sid}"
    auth = {"Authorization": f"Bearer {token}"}
    with serving(
        db_url,
        GBCONNECT_LOG_LEVEL="WARNING",
        GBCONNECT_WORKER_THREADS="2",
        GBCONNECT_FEED_STREAMS="2",
    ) as served:
        whole = httpx.get(served.base + batch, headers=auth, timeout=60)
        assert whole.status_code == 200 and whole.headers.get("content-length") is None
        assert len(whole.content) > 256 * 1024  # more than one chunk: streamed
        assert whole.content.count(b"<IntervalReading>") == 40 * 96
        for _ in range(6):  # leave after the first bytes
            with httpx.stream("GET", served.base + batch, headers=auth, timeout=60) as r:
                assert r.status_code == 200
                next(r.iter_raw(1024))
        answers = _get_all(served.base, batch, token, 6)
        assert all(len(r.content) == len(whole.content) for r in answers)
