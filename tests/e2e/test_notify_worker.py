"""Notification workers as real processes (REQ.21 FB_39): a worker killed with SIGKILL
in the middle of a delivery, PostgreSQL restarted while notifications are queued, and
``gbconnect serve``'s own worker on SQLite. Nothing is lost; a duplicate carries the
same Idempotency-Key."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler
from pathlib import Path

import httpx
import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from gbconnect.db import make_engine, make_sessionmaker, upgrade
from gbconnect.espi.batchlist import read_batch_list
from gbconnect.notify.events import ApplicationChanged
from gbconnect.notify.models import DELIVERED, Notification
from gbconnect.notify.outbox import publish
from gbconnect.registration import models as rm
from tests.factories.app import make_settings
from tests.factories.parties import make_third_party
from tests.pgserver import PostgresServer
from tests.receiver import Receiver, answer, receiving
from tests.serverproc import serving

#: Short timeouts: a claim lasts 1 + 2 x 1 + 5 = 8 s (gbconnect.jobs.queue.lease_seconds).
FAST = {"GBCONNECT_NOTIFY_CONNECT_TIMEOUT": "1", "GBCONNECT_NOTIFY_READ_TIMEOUT": "1"}


@contextmanager
def worker_process(database_url: str, **env: str) -> Iterator[subprocess.Popen[bytes]]:
    variables = {**os.environ, "GBCONNECT_DATABASE_URL": database_url, **FAST, **env}
    proc = subprocess.Popen(
        [sys.executable, "-m", "gbconnect.cli", "worker", "--concurrency", "4"],
        env=variables,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        yield proc
    finally:
        if proc.poll() is None:
            proc.terminate()
            proc.wait(timeout=30)


def third_party(factory: sessionmaker[Session], url: str, notify: str) -> int:
    with factory() as s:
        app_id = make_third_party(s, make_settings(url), notify_uri=notify).application.id
        s.commit()
        return app_id


def changes(factory: sessionmaker[Session], app_id: int, n: int) -> None:
    """``n`` committed changes, each to be notified."""
    for _ in range(n):
        with factory() as s:
            s.execute(select(1))
            publish(s, ApplicationChanged(app_id, "test"))
            s.commit()


def delivered(factory: sessionmaker[Session]) -> int:
    with factory() as s:
        rows = s.scalars(select(Notification.state)).all()
        return sum(1 for r in rows if r == DELIVERED)


def test_a_worker_killed_mid_delivery_is_replaced_and_the_notification_arrives(
    db_url: str, factory: sessionmaker[Session]
) -> None:
    with receiving() as r:
        hung: list[int] = []

        def first_hangs(h: BaseHTTPRequestHandler) -> None:
            if not hung:
                hung.append(1)
                time.sleep(20)  # the worker is killed while it waits for this answer
            answer(h, 200)

        r.behaviour = first_hangs
        app_id = third_party(factory, db_url, r.url)
        changes(factory, app_id, 1)
        with worker_process(db_url) as first:
            r.wait_for(1, timeout=20)
            first.send_signal(signal.SIGKILL)
            first.wait(10)
        started = time.monotonic()
        with worker_process(db_url):
            got = r.wait_for(2, timeout=30)
            _wait(lambda: delivered(factory) == 1)
        # Taken up again once the dead worker's claim ran out (8 s).
        assert time.monotonic() - started < 25
    assert got[0].body == got[1].body
    assert got[0].headers["idempotency-key"] == got[1].headers["idempotency-key"]


def test_postgresql_restarted_while_notifications_are_queued_loses_nothing() -> None:
    pg = PostgresServer()
    pg.start()
    try:
        url = pg.create_database("restart")
        engine = make_engine(url)
        upgrade(engine)
        factory = make_sessionmaker(engine)
        with receiving() as r:
            app_id = third_party(factory, url, r.url)
            changes(factory, app_id, 20)  # queued: no worker yet
            engine.dispose()
            pg.restart()
            with worker_process(url) as proc:
                r.wait_for(20, timeout=30)
                pg.restart()  # again, while the worker runs
                changes(factory, app_id, 20)
                r.wait_for(40, timeout=60)
                assert proc.poll() is None
            _check_unique(r, 40)
            assert delivered(factory) == 40
        engine.dispose()
    finally:
        pg.stop()


def test_serve_runs_a_worker_on_sqlite(tmp_path: Path) -> None:
    """``gbconnect serve`` (and so ``make demo``) notifies without a separate worker:
    a third party's PUT of its ApplicationInformation over HTTP reaches its receiver."""
    url = f"sqlite:///{tmp_path / 'serve.db'}"
    engine = make_engine(url)
    upgrade(engine)
    factory = make_sessionmaker(engine)
    with receiving() as r, serving(url) as served:
        settings = make_settings(url).model_copy(update={"base_url": served.base})
        with factory() as s:
            party = make_third_party(s, settings, notify_uri=r.url)
            s.commit()
            app_id = party.application.id
            token = party.registration_access_token
        path = f"{settings.resource_base}/ApplicationInformation/{app_id}"
        headers = {"Authorization": f"Bearer {token}"}
        got = httpx.get(served.base + path, headers=headers)
        assert got.status_code == 200
        renamed = got.content.replace(b"<client_name>", b"<client_name>Renamed ")
        put = httpx.put(served.base + path, content=renamed, headers=headers)
        assert put.status_code == 200, put.text
        (received,) = r.wait_for(1, timeout=10)
        (uri,) = read_batch_list(received.body)
        assert uri == served.base + path
        again = httpx.get(uri, headers=headers)
        assert again.status_code == 200 and b"Renamed " in again.content
    with factory() as s:
        app = s.get(rm.ApplicationInformation, app_id)
        assert app is not None and app.notify_secret
    engine.dispose()


def _check_unique(r: Receiver, n: int) -> None:
    keys = {x.headers["idempotency-key"] for x in r.received}
    assert len(keys) == n


def _wait(condition: Callable[[], bool], timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.05)
    pytest.fail("condition not met in time")
