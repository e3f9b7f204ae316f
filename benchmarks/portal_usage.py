"""The "My usage" page benchmark (issue: customer portal). Prints figures from one run.

One customer with a year of 15-minute electricity (the generator's solar profile:
energy from and to the grid, with a year of readings before it for the comparison,
daily gas, monthly bills) on SQLite and on PostgreSQL. The page
(``GET /account/usage``, in-process through the application's whole middleware
stack, signed in) is timed for a year in daily, hourly and monthly steps, as charts
and as tables, and for its default (the last 30 days), against baselines measured in
the same run:

- (a) a bare ``/livez`` request through the same client (the cost of a request);
- (b) decoding the same year's blocks of the two energy channels with
  ``blocks.decode``, no aggregation, no page.

Target: each page of a year under 1 s.

Run: ``.venv/bin/python -m benchmarks.portal_usage [--repeat N] [--no-postgres]``
"""

from __future__ import annotations

import argparse
import re
import statistics
import tempfile
import time
from collections.abc import Callable
from datetime import date, datetime, timedelta
from pathlib import Path

from fastapi.testclient import TestClient
from sqlalchemy import select

from gbconnect.app import create_app
from gbconnect.config import load_settings
from gbconnect.customer.services import create_customer
from gbconnect.db import make_engine, make_sessionmaker, upgrade
from gbconnect.ingest.generator import GeneratorOptions, customer_profile, generate_customers
from gbconnect.usage import blocks
from gbconnect.usage.models import IntervalBlock, MeterReading, ReadingType, UsagePoint

END = date(2025, 12, 31)
PASSWORD = "benchmark password"
#: A year shown, and a year before it for the comparison.
DAYS = 2 * 365


def _solar_index(opts: GeneratorOptions) -> int:
    """The first customer index the generator makes a solar customer."""
    return next(i for i in range(1000) if customer_profile(opts, i)[0] == "solar")


def build(url: str) -> tuple[str, int]:
    """Store the customer; (username, electric usage point id)."""
    engine = make_engine(url)
    upgrade(engine)
    factory = make_sessionmaker(engine)
    probe = GeneratorOptions(customers=1, days=DAYS, end=END)
    index = _solar_index(probe)
    opts = GeneratorOptions(customers=1, days=DAYS, end=END, first_index=index)
    generate_customers(factory, opts)
    username = f"customer{index:05d}"
    with factory() as session, session.begin():
        owner = create_customer(session, username, PASSWORD)
        up_id = session.scalars(
            select(UsagePoint.id).where(
                UsagePoint.retail_customer_id == owner.id, UsagePoint.service_kind == 0
            )
        ).one()
    engine.dispose()
    return username, up_id


def _median(run: Callable[[], object], repeat: int) -> float:
    run()  # warm: templates compiled, connections open
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        run()
        times.append(time.perf_counter() - t)
    return statistics.median(times)


def _decode_year(url: str, up_id: int, lo: int, hi: int) -> Callable[[], int]:
    engine = make_engine(url)
    factory = make_sessionmaker(engine)

    def run() -> int:
        n = 0
        with factory() as session:
            ids = session.scalars(
                select(MeterReading.id)
                .join(ReadingType, ReadingType.id == MeterReading.reading_type_id)
                .where(MeterReading.usage_point_id == up_id)
                .where(ReadingType.uom == 72, ReadingType.accumulation_behaviour == 4)
                .where(ReadingType.flow_direction.in_((1, 19)))
            ).all()
            for data in session.scalars(
                select(IntervalBlock.data).where(
                    IntervalBlock.meter_reading_id.in_(ids),
                    IntervalBlock.start >= lo,
                    IntervalBlock.start < hi,
                )
            ):
                n += len(blocks.decode(data))
        return n

    return run


def report(label: str, url: str, repeat: int) -> None:
    username, up_id = build(url)
    settings = load_settings(database_url=url, secret_key="b" * 40)
    app = create_app(settings)
    first, last = END - timedelta(days=364), END
    with TestClient(app) as client:
        page = client.get("/login")
        m = re.search(r'name="csrf" value="([^"]+)"', page.text)
        assert m
        r = client.post(
            "/login",
            data={"username": username, "password": PASSWORD, "csrf": m.group(1)},
            follow_redirects=False,
        )
        assert r.status_code == 303, r.text

        def get(language: str = "en", **params: str) -> Callable[[], object]:
            def run() -> object:
                r = client.get(
                    "/account/usage",
                    params={"service": str(up_id), **params},
                    headers={"Accept-Language": language},
                )
                assert r.status_code == 200, r.text[:500]
                return r

            return run

        livez = _median(lambda: client.get("/livez"), repeat)
        lo = int(datetime(first.year, first.month, first.day, tzinfo=settings.zone).timestamp())
        end = last + timedelta(days=1)
        hi = int(datetime(end.year, end.month, end.day, tzinfo=settings.zone).timestamp())
        decode_run = _decode_year(url, up_id, lo, hi)
        readings = decode_run()
        decode = _median(decode_run, repeat)
        year = {"from": str(first), "to": str(last)}
        cases = [
            ("year, daily, chart", get(step="day", **year)),
            ("year, daily, table", get(step="day", view="table", **year)),
            ("year, hourly, chart", get(step="hour", **year)),
            ("year, hourly, table", get(step="hour", view="table", **year)),
            # Spanish and Thai write every figure and day their own way (Babel).
            ("year, hourly, table, es", get("es", step="hour", view="table", **year)),
            ("year, hourly, chart, th", get("th", step="hour", **year)),
            ("year, monthly, chart", get(step="month", **year)),
            ("default (30 days, daily)", get()),
            ("30 days, hourly, chart", get(step="hour", **{"from": str(last - timedelta(29))})),
        ]
        print(
            f"{label:<10} baseline (a) /livez {livez * 1000:7.2f} ms | "
            f"baseline (b) decode a year, 2 channels ({readings:,} readings) "
            f"{decode * 1000:7.1f} ms"
        )
        for name, run in cases:
            secs = _median(run, repeat)
            size = len(run().content)  # type: ignore[attr-defined]
            verdict = "ok" if secs < 1 else "OVER 1 s"
            print(
                f"{label:<10} {name:<26} {secs * 1000:8.1f} ms  {size / 1000:7.0f} kB  "
                f"= {secs / decode:5.2f} x (b), {secs / livez:6.0f} x (a)  [{verdict}]"
            )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--no-postgres", action="store_true")
    args = parser.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="gbconnect-usage-page-"))
    report("SQLite", f"sqlite:///{tmp / 'usage.db'}", args.repeat)
    if not args.no_postgres:
        from tests.pgserver import PostgresServer

        server = PostgresServer()
        server.start()
        try:
            report("PostgreSQL", server.create_database("usage_page"), args.repeat)
        finally:
            server.stop()


if __name__ == "__main__":
    main()
