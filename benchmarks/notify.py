"""Notification delivery benchmark (issue: notifications). Prints figures from one run.

A receiver (uvicorn, its own process, on a loopback port) answers 200 to every POST and
records when each arrived and its Idempotency-Key. Measured:

1. **Throughput**: 10,000 notifications (10,000 committed ApplicationInformation
   changes spread over 100 third parties) queued, then delivered by two
   ``gbconnect worker`` processes on PostgreSQL, and by ``gbconnect serve``'s
   in-process worker on SQLite: deliveries/s from the start of the workers to the
   last delivery (expansion of the events included). Target: >= 500/s on PostgreSQL.
2. **Latency**: with the workers running, changes committed at a steady rate; the
   time from each commit (the outbox row's ``created_at``) to its receipt, p50 and p99.
   Target: p99 < 2 s while the receiver is up.
3. **Outage drain**: a 30-minute receiver outage simulated on a clock with the real
   backoff (``gbconnect.jobs.retry``): notifications made at the measured rate during
   the outage, each retried on its schedule; printed: how long after recovery the
   last one is attempted again, and so delivered (at the measured throughput).

The baseline is the receiver itself: POSTs/s it takes from a plain keep-alive client
in this process (an upper bound for any sender on this machine).

Run: ``.venv/bin/python -m benchmarks.notify [--count N] [--rate R] [--seconds S]
[--no-postgres]``
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker
from tests.factories.app import make_settings
from tests.factories.parties import make_third_party
from tests.serverproc import free_port, serving

from gbconnect.db import make_engine, make_sessionmaker, upgrade
from gbconnect.jobs import retry
from gbconnect.notify.events import ApplicationChanged
from gbconnect.notify.models import DELIVERED, Notification, NotifyEvent
from gbconnect.notify.outbox import publish

# -- the receiver ------------------------------------------------------------------

_received: list[tuple[str, float]] = []


async def receiver_app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    """Answers 200 to a POST (recording key and time); GET /stats returns them."""
    if scope["type"] == "lifespan":
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                await send({"type": "lifespan.shutdown.complete"})
                return
    more = True
    while more:
        message = await receive()
        more = message.get("more_body", False)
    if scope["method"] == "POST":
        headers = dict(scope["headers"])
        _received.append((headers.get(b"idempotency-key", b"").decode(), time.time()))
        body = b""
    else:
        body = json.dumps(_received).encode()
    await send({"type": "http.response.start", "status": 200, "headers": []})
    await send({"type": "http.response.body", "body": body})


@contextmanager
def receiver() -> Iterator[str]:
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "benchmarks.notify", "--serve-receiver", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(100):
            try:
                httpx.get(base + "/stats", timeout=1)
                break
            except httpx.TransportError:
                time.sleep(0.1)
        yield base
    finally:
        proc.terminate()
        proc.wait(10)


def receipts(base: str) -> dict[str, float]:
    return {k: t for k, t in httpx.get(base + "/stats", timeout=60).json()}


def baseline(base: str, connections: int) -> tuple[str, float]:
    """POSTs/s the receiver takes: from ``wrk`` at ``connections`` connections when
    it is installed (as the workers' threads send), else from one keep-alive client."""
    if shutil.which("wrk"):
        with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as script:
            script.write(
                'wrk.method = "POST"\nwrk.body = "<BatchList/>"\n'
                'wrk.headers["Idempotency-Key"] = "baseline"\n'
            )
        cmd = ["wrk", "-t2", f"-c{connections}", "-d3s", "-s", script.name, base + "/notify"]
        out = subprocess.run(cmd, capture_output=True, text=True, check=True).stdout
        Path(script.name).unlink()
        match = re.search(r"Requests/sec:\s+([\d.]+)", out)
        if match:
            return f"wrk, {connections} connections", float(match.group(1))
    n = 3000
    with httpx.Client() as client:
        start = time.perf_counter()
        for _ in range(n):
            client.post(base + "/notify", content=b"<x/>", headers={"Idempotency-Key": "b"})
        return "one keep-alive client", n / (time.perf_counter() - start)


# -- the sender's side -------------------------------------------------------------


def third_parties(factory: sessionmaker[Session], url: str, notify: str, n: int) -> list[int]:
    settings = make_settings(url)
    with factory() as s:
        ids = [
            make_third_party(s, settings, name=f"Party {i}", notify_uri=notify).application.id
            for i in range(n)
        ]
        s.commit()
    return ids


def commit_changes(factory: sessionmaker[Session], apps: list[int], n: int, per: int) -> None:
    """``n`` changes, ``per`` in each transaction, round-robin over ``apps``."""
    done = 0
    while done < n:
        with factory() as s:
            s.execute(select(1))
            for i in range(min(per, n - done)):
                publish(s, ApplicationChanged(apps[(done + i) % len(apps)], "benchmark"))
            s.commit()
        done += per


def delivered(factory: sessionmaker[Session]) -> int:
    with factory() as s:
        return int(s.scalar(select(func.count()).where(Notification.state == DELIVERED)) or 0)


def wait_delivered(factory: sessionmaker[Session], n: int, timeout: float) -> float:
    start = time.perf_counter()
    while delivered(factory) < n:
        if time.perf_counter() - start > timeout:
            raise RuntimeError(f"only {delivered(factory)} of {n} delivered in {timeout} s")
        time.sleep(0.05)
    return time.perf_counter() - start


def latencies(factory: sessionmaker[Session], got: dict[str, float], since: int) -> list[float]:
    with factory() as s:
        rows = s.execute(
            select(Notification.idempotency_key, NotifyEvent.created_at)
            .join(NotifyEvent, NotifyEvent.id == Notification.event_id)
            .where(Notification.id > since)
        ).all()
    return [got[k] - t for k, t in rows if k in got]


@contextmanager
def workers(url: str, kind: str, n: int, concurrency: int) -> Iterator[None]:
    env = {**os.environ, "GBCONNECT_DATABASE_URL": url, "GBCONNECT_LOG_LEVEL": "WARNING"}
    if kind == "serve":
        with serving(
            url, GBCONNECT_LOG_LEVEL="WARNING", GBCONNECT_NOTIFY_CONCURRENCY=str(concurrency)
        ):
            yield
        return
    procs = [
        subprocess.Popen(
            [sys.executable, "-m", "gbconnect.cli", "worker", "--concurrency", str(concurrency)],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        for _ in range(n)
    ]
    try:
        yield
    finally:
        for p in procs:
            p.terminate()
        for p in procs:
            p.wait(30)


def run(url: str, label: str, kind: str, n_workers: int, args: argparse.Namespace) -> float:
    engine = make_engine(url)
    upgrade(engine)
    factory = make_sessionmaker(engine)
    with receiver() as base:
        apps = third_parties(factory, url, base + "/notify", 100)
        commit_changes(factory, apps, args.count, 100)
        with workers(url, kind, n_workers, args.concurrency):
            elapsed = wait_delivered(factory, args.count, timeout=600)
            rate = args.count / elapsed
            print(f"{label}: {args.count} delivered in {elapsed:.2f} s = {rate:,.0f}/s")
            with factory() as s:
                since = int(s.scalar(select(func.max(Notification.id))) or 0)
            total = int(args.rate * args.seconds)
            start = time.perf_counter()
            for i in range(total):
                commit_changes(factory, apps[i % len(apps) :][:1], 1, 1)
                pause = start + (i + 1) / args.rate - time.perf_counter()
                if pause > 0:
                    time.sleep(pause)
            wait_delivered(factory, args.count + total, timeout=120)
            lat = sorted(latencies(factory, receipts(base), since))
        p50 = statistics.median(lat)
        p99 = lat[int(0.99 * (len(lat) - 1))]
        print(
            f"{label}: commit-to-receipt at {args.rate:g}/s for {args.seconds} s "
            f"({len(lat)} notifications): p50 {p50 * 1000:.0f} ms, p99 {p99 * 1000:.0f} ms, "
            f"max {lat[-1] * 1000:.0f} ms"
        )
    engine.dispose()
    return rate


def outage(rate_in: float, throughput: float, minutes: float = 30.0) -> None:
    """A receiver down for ``minutes``, on a simulated clock with the real backoff.

    Every attempt during the outage fails. After recovery the first delivery to the
    third party (a retry whose time has come, or a new notification, tried at once)
    brings all its failed ones forward (gbconnect.jobs.queue.record)."""
    rng = random.Random(7)
    window = minutes * 60
    n = int(rate_in * window)
    retries_after: list[float] = []
    for i in range(n):
        t, attempts = window * i / n, 0
        while t < window:
            attempts += 1
            t += retry.delay(attempts, rng)
        retries_after.append(t - window)
    first = min(min(retries_after), 1 / rate_in)
    print(
        f"outage of {minutes:g} min ({n:,} notifications made at {rate_in:g}/s): after "
        f"recovery the first delivery comes {first:.1f} s later and brings the rest "
        f"forward: all delivered within {first + n / throughput:.1f} s at {throughput:,.0f}/s "
        f"(on their own backoff alone the last would wait {max(retries_after) / 60:.1f} min)"
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--serve-receiver", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--count", type=int, default=10_000)
    parser.add_argument("--concurrency", type=int, default=16, help="threads per worker")
    parser.add_argument("--rate", type=float, default=100.0, help="changes/s, latency run")
    parser.add_argument("--seconds", type=int, default=10, help="latency run length")
    parser.add_argument("--no-postgres", action="store_true")
    args = parser.parse_args()
    if args.serve_receiver:
        import uvicorn

        uvicorn.run(
            receiver_app,
            host="127.0.0.1",
            port=args.serve_receiver,
            log_level="warning",
            access_log=False,
            loop="asyncio",
        )
        return
    with receiver() as base:
        how, rate = baseline(base, 2 * args.concurrency)
        print(f"baseline: the receiver takes {rate:,.0f} POSTs/s ({how})")
    with tempfile.TemporaryDirectory() as tmp:
        sqlite = run(
            f"sqlite:///{Path(tmp) / 'notify.db'}", "SQLite, serve's worker", "serve", 1, args
        )
    throughput = sqlite
    if not args.no_postgres:
        from tests.pgserver import PostgresServer

        server = PostgresServer()
        server.start()
        try:
            throughput = run(
                server.create_database("notify"),
                "PostgreSQL, 2 worker processes",
                "worker",
                2,
                args,
            )
        finally:
            server.stop()
    outage(1.0, throughput)


if __name__ == "__main__":
    main()
