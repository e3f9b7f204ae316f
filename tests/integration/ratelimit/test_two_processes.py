"""The limits hold across processes on PostgreSQL (gbconnect.ratelimit.store): two
real ``gbconnect serve`` processes on one database, hammered at once, admit no more
than the limit plus the store's documented bound (2 hits per process); sign-in
failures counted by one process block the pair in the other. Two stores on two
engines (two processes' worth) share their counts alike."""

from __future__ import annotations

import re
import secrets
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import httpx
import pytest

from gbconnect.config import load_settings
from gbconnect.db import make_engine, make_sessionmaker
from gbconnect.ratelimit import ApiLimiter, PostgresStore, policies, usage
from tests.databases import PostgresDatabases
from tests.factories.customers import PASSWORD, make_customer
from tests.polling import polling_customer
from tests.serverproc import serving

pytestmark = pytest.mark.postgres

LIMIT = 30
PROCESSES = 2
#: The store's over-admission bound with N processes (gbconnect.ratelimit.store).
BOUND = 2 * PROCESSES


@pytest.fixture
def fresh_url(postgresql_databases: PostgresDatabases) -> Iterator[str]:
    url = postgresql_databases.create()
    yield url
    postgresql_databases.drop(url)


def test_the_limit_holds_across_two_server_processes(fresh_url: str) -> None:
    token, path = polling_customer(fresh_url, 2)
    env = {
        "GBCONNECT_RATE_LIMITS": "on",
        "GBCONNECT_RATE_VENDOR_PER_SECOND": "100000",
        "GBCONNECT_RATE_CLIENT_PER_HOUR": str(LIMIT),
        "GBCONNECT_LOG_LEVEL": "WARNING",
    }
    auth = {"Authorization": f"Bearer {token}"}
    with serving(fresh_url, **env) as one, serving(fresh_url, **env) as two:
        bases = [one.base, two.base]

        def hammer(base: str) -> list[int]:
            with httpx.Client(base_url=base, timeout=10) as client:
                return [client.get(path, headers=auth).status_code for _ in range(25)]

        with ThreadPoolExecutor(8) as pool:
            results = list(pool.map(hammer, bases * 4))
        codes = [c for r in results for c in r]
        assert set(codes) <= {200, 429}
        admitted = codes.count(200)
        assert LIMIT <= admitted <= LIMIT + BOUND, admitted
        # Both processes now refuse, whichever is asked.
        for base in bases:
            r = httpx.get(base + path, headers=auth)
            assert r.status_code == 429 and int(r.headers["Retry-After"]) >= 1


def _sign_in(client: httpx.Client, username: str, password: str) -> int:
    page = client.get("/login")
    m = re.search(r'name="csrf" value="([^"]+)"', page.text)
    assert m
    r = client.post("/login", data={"username": username, "password": password, "csrf": m.group(1)})
    return r.status_code


def test_sign_in_failures_are_shared_by_the_processes(fresh_url: str) -> None:
    engine = make_engine(fresh_url)
    try:
        with make_sessionmaker(engine)() as session:
            make_customer(session, "carol")
            session.commit()
    finally:
        engine.dispose()
    with (
        serving(fresh_url) as one,
        serving(fresh_url) as two,
        httpx.Client(base_url=one.base) as a,
        httpx.Client(base_url=two.base) as b,
    ):
        for client in (a, b, a, b, a):  # five failures, split over two processes
            assert _sign_in(client, "carol", "wrong") == 401
        assert _sign_in(b, "carol", PASSWORD) == 429
        assert _sign_in(a, "carol", PASSWORD) == 429


@dataclass
class _App:
    client_id: str


def test_two_stores_share_their_counts(fresh_url: str) -> None:
    """Two stores on two engines, as two processes have, hammered from threads."""
    engines = [make_engine(fresh_url) for _ in range(PROCESSES)]
    stores = [PostgresStore(e) for e in engines]
    settings = load_settings(
        rate_vendor_per_second=100_000, rate_client_per_hour=LIMIT, rate_client_per_day=10_000
    )
    limiters = [ApiLimiter(s, policies(settings)) for s in stores]
    app = _App("client-" + secrets.token_hex(4))
    admitted = 0
    lock = threading.Lock()

    def hammer(limiter: ApiLimiter) -> None:
        nonlocal admitted
        for _ in range(40):
            if limiter.check(app).allowed:
                with lock:
                    admitted += 1

    try:
        threads = [threading.Thread(target=hammer, args=(lim,)) for lim in limiters * 3]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert LIMIT <= admitted <= LIMIT + BOUND, admitted
        for store in stores:
            store.close()
        with make_sessionmaker(engines[0])() as session:
            row = usage(session, app.client_id, settings)["limits"][1]  # type: ignore[index]
        assert row["name"] == "client-hour" and row["used"] == admitted
    finally:
        for e in engines:
            e.dispose()
