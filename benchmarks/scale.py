"""A utility-sized dry run on PostgreSQL (issue: performance). Prints figures from one run.

1. **Store**: ``--usage-points`` customers (one electric usage point each) x
   ``--months`` of 15-minute data, generated with the product's load model (the
   generator's: residential, EV, solar-site and small-commercial shapes, weather,
   weekdays against weekends, per-interval noise; :mod:`gbconnect.ingest.generator`)
   and stored through the import path CSV files and ``gbconnect generate`` take
   (:func:`gbconnect.ingest.series.store_channel`: local-day blocks, DST days of 92 or
   100 readings, :func:`gbconnect.usage.services.store_blocks`), one transaction per
   customer, by ``--workers`` processes. Printed: readings, seconds, readings/s
   against the 15-minute target. Then a daily gas usage point for ``--gas-share`` of
   the customers (PG&E's 4.4 M gas against 5.4 M electric meters: 0.8), one block of
   one reading a day as the product stores daily data: few readings, many rows.
2. **Size**: ``pg_database_size`` and ``pg_total_relation_size`` of the largest
   tables; bytes per reading, MB per million readings; from a 1 % sample, the bytes
   of a 15-minute day's row and of a gas day's row, and how well a packed day would
   compress (zlib), which PostgreSQL does not do for values under 2 kB.
3. **Nightly Bulk**: one third party holding ``--bulk-customers`` customer grants
   (FB=1_3_4_5_10_13_14_35: electricity and gas); its Batch/Bulk (REQ.21 FB_35) over
   ``gbconnect serve``: one entry (``max-results=1``, the plan's own cost), the last
   day (``published-min/max``: the nightly pull after PG&E's data-ready notice), and
   the whole history (the first pull of a new third party, read for
   ``--history-seconds`` and extrapolated; served synchronously here with
   ``GBCONNECT_BATCH_ASYNC_BLOCKS=0``, where a production server answers 202 and a
   worker packages it): seconds, time to the first byte, readings/s, MB, peak RSS of
   the serving process.
4. **Entry latency**: ``wrk`` (c=32, like ``benchmarks/api_load.py``) against one
   day's IntervalBlock entry with a customer token, then against random days of
   1,000 customers (a Lua script: each request another customer's token and block),
   ``/livez`` of the same server as the baseline, on this database and on a small one
   built the same way (``--small-usage-points``, 30).

The load model and the reading types are the generator's own (its private helpers,
imported on purpose: the benchmark's data is the product's synthetic data, one
customer at a time, without the customer.xsd records and bills ``gbconnect generate``
adds).

The PostgreSQL server is the tests' (:mod:`tests.pgserver`: ``fsync=off``,
``synchronous_commit=off``, ``full_page_writes=off``, default ``shared_buffers``):
insert figures are those of a server that writes no durable WAL; a production server
writes every block twice (WAL and heap).

Run: ``python -m benchmarks.scale [--usage-points 10000] [--months 13]
[--bulk-customers 5000] [--gas-share 0.8] [--keep DIR] [--workers 2]
[--history-seconds 120]``
(develop with ``--usage-points 100 --months 1``).
"""

from __future__ import annotations

import argparse
import multiprocessing
import shutil
import subprocess
import sys
import tempfile
import time
import zlib
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

import httpx
import numpy as np
from sqlalchemy import select, text
from tests.pgserver import PostgresServer, _bin
from tests.serverproc import serving

from benchmarks.api_load import wrk
from gbconnect.config import load_settings
from gbconnect.customer.models import RetailCustomer
from gbconnect.db import make_engine, make_sessionmaker, upgrade
from gbconnect.espi import scope as espi_scope
from gbconnect.ingest.generator import (
    GeneratorOptions,
    _Customer,
    _electric_rt,
    _gas_rt,
    _grid,
    _local_hours,
    _weather,
)
from gbconnect.ingest.owners import retail_customer
from gbconnect.ingest.series import Channel, store_channel
from gbconnect.ingest.summary import FileSummary
from gbconnect.oauth import models as om
from gbconnect.oauth import services
from gbconnect.oauth.clients import register
from gbconnect.usage import models as um

#: The issue's target: 10,000 usage points x 13 months stored in under 15 minutes.
TARGET_SECONDS = 15 * 60
#: The last day of the generated history (fixed: the big and small databases match).
LAST_DAY = date(2025, 12, 31)
SEED = 14
SECRET = "d" * 40


def _days(months: int) -> int:
    return round(months * 365.25 / 12)


def _options(customers: int, days: int, first: int = 0) -> GeneratorOptions:
    return GeneratorOptions(
        customers=customers, days=days, seed=SEED, end=LAST_DAY, first_index=first
    )


def _has_gas(i: int, share: float) -> bool:
    """Whether customer ``i`` also has a gas usage point (a stream of its own)."""
    return bool(np.random.default_rng([SEED, i, 2]).random() < share)


def _store_range(url: str, first: int, count: int, days: int, gas: float | None) -> int:
    """Generate and store customers ``first`` .. ``first + count - 1`` (a worker
    process), one transaction per customer: with ``gas`` None, a RetailCustomer with an
    electric UsagePoint of 15-minute data each; else a daily gas UsagePoint for the
    share ``gas`` of them (REQ.21 FB_10; a daily block of one reading, as
    ``gbconnect generate`` and the CSV importers store daily data). Returns the
    readings stored."""
    opts = _options(count, days, first)
    zone = opts.zone
    first_day = LAST_DAY - timedelta(days=days - 1)
    temp, _doy = _weather(np.random.default_rng([SEED, 10**9]), first_day, days)
    starts = _grid(opts, first_day, days)
    _h, local_day, _w = _local_hours(starts, zone)
    day_index = (local_day - local_day[0]).astype(np.int64)
    durations = np.full(starts.size, opts.interval, dtype=np.int64)
    day_starts = starts[np.flatnonzero(np.diff(day_index, prepend=-1))]
    day_durations = np.diff(np.append(day_starts, starts[-1] + opts.interval))
    to_wh = opts.interval / 3600.0
    engine = make_engine(url)
    factory = make_sessionmaker(engine)
    summary = FileSummary("scale", "benchmark")
    for i in range(first, first + count):
        customer = _Customer(opts, i)
        if gas is None:
            ch = Channel(
                usage_point_key=f"scale:{i}:electric",
                usage_point_title="Electric",
                service_kind=0,
                reading_type=_electric_rt(opts.interval, 1),
                starts=starts,
                durations=durations,
                values=np.rint(customer.electric_load(starts, temp, day_index) * to_wh).astype(
                    np.int64
                ),
            )
        elif _has_gas(i, gas):
            ch = Channel(
                usage_point_key=f"scale:{i}:gas",
                usage_point_title="Gas",
                service_kind=1,
                reading_type=_gas_rt(),
                starts=day_starts,
                durations=day_durations,
                values=customer.gas_daily(temp[: day_starts.size]),
            )
        else:
            continue
        with factory() as session, session.begin():
            owner = retail_customer(session, f"scale{i:07d}")
            store_channel(session, owner, ch, zone, summary, now=int(time.time()))
    engine.dispose()
    return summary.readings


def store(
    url: str, usage_points: int, days: int, workers: int, gas: float | None
) -> tuple[float, int]:
    """Generate and store every customer's electric (``gas`` None) or gas data with
    ``workers`` processes: (seconds, readings)."""
    per = -(-usage_points // workers)
    ranges = [(url, a, min(per, usage_points - a), days, gas) for a in range(0, usage_points, per)]
    t = time.perf_counter()
    with multiprocessing.get_context("spawn").Pool(len(ranges)) as pool:
        readings = sum(pool.starmap(_store_range, ranges))
    return time.perf_counter() - t, readings


@dataclass
class Granted:
    """What :func:`grant` made: the third party's client token and bulk id, and the
    IntervalBlock entries (path, customer token) the latency runs ask for."""

    seconds: float
    client_token: str
    bulk: int
    #: One day in the middle of the first customer's history (api_load.py's request).
    entry: tuple[str, str]
    #: A random day of each of up to ``RANDOM_ENTRIES`` customers, each with its token.
    entries: list[tuple[str, str]]


#: Customers whose random days the second latency run spreads its requests over.
RANDOM_ENTRIES = 1000


def grant(url: str, customers: int) -> Granted:
    """A third party with a grant from each of the first ``customers`` customers (all
    their usage points), a client token for its Bulk, and customer tokens for the
    entries of :class:`Granted`."""
    engine = make_engine(url)
    settings = load_settings(database_url=url, secret_key=SECRET)
    rng = np.random.default_rng([SEED, 3])
    t = time.perf_counter()
    with make_sessionmaker(engine)() as session, session.begin():
        done = register(
            session,
            settings,
            name=f"Scale {time.time():.0f}",
            redirect_uris=["https://scale.example/cb"],
            scopes=["FB=1_3_4_5_10_13_14_35"],
            approve=True,
        )
        app = done.application
        scope = espi_scope.parse("FB=1_3_4_5_10_13_14_35")
        owners = session.scalars(
            select(RetailCustomer)
            .where(RetailCustomer.username.like("scale%"))
            .order_by(RetailCustomer.username)
            .limit(customers)
        ).all()
        points: dict[int, list[tuple[int, int]]] = {}
        for up_id, owner_id, kind in session.execute(
            select(um.UsagePoint.id, um.UsagePoint.retail_customer_id, um.UsagePoint.service_kind)
        ):
            points.setdefault(owner_id, []).append((kind, up_id))
        auths = [
            services.grant_customer_authorization(
                session,
                settings,
                app,
                owner,
                services.GrantRequest(
                    scope=scope,
                    usage_point_ids=[up for _k, up in sorted(points[owner.id])],
                    end=None,
                    start=0,
                ),
            )
            for owner in owners
        ]
        seconds = time.perf_counter() - t
        client_token, _ = services.issue_token(
            session,
            kind="access",
            token_class=om.CLIENT,
            application_id=app.id,
            authorization_id=services.client_authorization(session, app).id,
            scope="FB=34_35",
            lifetime=86400,
        )
        entries = []
        for i, (owner, auth) in enumerate(zip(owners[:RANDOM_ENTRIES], auths, strict=False)):
            token, _ = services.issue_token(
                session,
                kind="access",
                token_class=om.CUSTOMER,
                application_id=app.id,
                authorization_id=auth.id,
                scope=auth.scope,
                lifetime=86400,
            )
            up_id = min(points[owner.id])[1]  # the electric usage point (kind 0)
            mr_id = session.scalars(
                select(um.MeterReading.id).where(um.MeterReading.usage_point_id == up_id)
            ).one()
            blocks = session.scalars(
                select(um.IntervalBlock.id)
                .where(um.IntervalBlock.meter_reading_id == mr_id)
                .order_by(um.IntervalBlock.start)
            ).all()
            day = len(blocks) // 2 if i == 0 else int(rng.integers(len(blocks)))
            assert auth.subscription is not None
            path = (
                f"{settings.resource_base}/Subscription/{auth.subscription.id}"
                f"/UsagePoint/{up_id}/MeterReading/{mr_id}/IntervalBlock/{blocks[day]}"
            )
            entries.append((path, token))
        bulk = app.bulk_id
    engine.dispose()
    return Granted(seconds, client_token, bulk, entries[0], entries)


def sizes(url: str, readings: int) -> None:
    """The database's size, its largest tables, and bytes per reading."""
    engine = make_engine(url)
    with engine.connect() as conn:
        conn.execute(text("ANALYZE"))
        total = int(conn.scalar(text("SELECT pg_database_size(current_database())")) or 0)
        tables = conn.execute(
            text(
                "SELECT relname, pg_total_relation_size(c.oid), pg_relation_size(c.oid), "
                "pg_indexes_size(c.oid), c.reltuples::bigint FROM pg_class c "
                "JOIN pg_namespace n ON n.oid = c.relnamespace "
                "WHERE c.relkind = 'r' AND n.nspname = 'public' "
                "ORDER BY 2 DESC LIMIT 6"
            )
        ).all()
        # A 1 % sample of the blocks: row and packed sizes of the 15-minute days and of
        # the one-reading gas days, and how well the packed days would compress.
        sample = conn.execute(
            text(
                "SELECT reading_count, pg_column_size(ib.*), data "
                "FROM interval_block ib TABLESAMPLE SYSTEM (1) REPEATABLE (14)"
            )
        ).all()
    engine.dispose()
    for label, rows in (
        ("15-minute day", [r for r in sample if r[0] > 1]),
        ("daily gas day", [r for r in sample if r[0] == 1]),
    ):
        if not rows:
            continue
        packed = sum(len(r[2]) for r in rows)
        zipped = sum(len(zlib.compress(r[2], 6)) for r in rows[:2000])
        print(
            f"  {label}: {sum(r[1] for r in rows) / len(rows):6.0f} bytes a row "
            f"({packed / len(rows):4.0f} packed, {packed / sum(r[0] for r in rows):5.1f} a reading;"
            f" zlib -6 of the packed bytes: {sum(len(r[2]) for r in rows[:2000]) / zipped:.1f}:1)"
            f" in a sample of {len(rows):,} rows"
        )
    print(
        f"database size {total / 2**20:10,.0f} MiB: {total / readings:6.2f} bytes/reading, "
        f"{total / readings * 1e6 / 2**20:6.1f} MiB per million readings"
    )
    for name, whole, heap, index, rows in tables:
        print(
            f"  {name:<28} {whole / 2**20:10,.1f} MiB (heap {heap / 2**20:,.1f}, "
            f"indexes {index / 2**20:,.1f}) ~{rows:,} rows"
        )


def _peak_mb(pid: int) -> float:
    with open(f"/proc/{pid}/status") as f:
        return next(int(line.split()[1]) for line in f if line.startswith("VmHWM:")) / 1024


def bulk_get(
    base: str, pid: int, token: str, bulk: int, query: str, limit: float
) -> tuple[float, float, int, int, float, bool]:
    """GET the Batch/Bulk (``query`` appended), reading for at most ``limit`` seconds
    after the first byte: (s to the first byte, s, readings, bytes, server peak MiB,
    whether it was cut)."""
    path = f"{base}/DataCustodian/espi/1_1/resource/Batch/Bulk/{bulk}{query}"
    headers = {"Authorization": f"Bearer {token}", "Accept-Encoding": "identity"}
    t = time.perf_counter()
    first = 0.0
    size = readings = 0
    carry = b""
    cut = False
    with httpx.stream("GET", path, headers=headers, timeout=3600) as r:
        assert r.status_code == 200, (r.status_code, r.read()[:300])
        for chunk in r.iter_raw(1 << 20):
            if not size:
                first = time.perf_counter() - t
            size += len(chunk)
            data = carry + chunk
            readings += data.count(b"<IntervalReading>")
            carry = data[-20:]
            readings -= carry.count(b"<IntervalReading>")
            if time.perf_counter() - t - first > limit:
                cut = True
                break
    readings += carry.count(b"<IntervalReading>")
    return first, time.perf_counter() - t, readings, size, _peak_mb(pid), cut


def _iso(d: date) -> str:
    """Local midnight (America/Los_Angeles, standard time in winter) as UTC."""
    return f"{d.isoformat()}T08:00:00Z"


def bulks(url: str, token: str, bulk: int, history: float, expected: int) -> None:
    """The nightly Bulk (the last day), then the whole history (``expected`` readings;
    read for ``history`` seconds at most, 0: not at all), over ``gbconnect serve``."""
    with serving(url, GBCONNECT_LOG_LEVEL="WARNING", GBCONNECT_BATCH_ASYNC_BLOCKS="0") as served:
        pid = served.process.pid
        print(f"server idle peak RSS {_peak_mb(pid):.0f} MiB")
        window = f"?published-min={_iso(LAST_DAY)}&published-max={_iso(LAST_DAY + timedelta(1))}"
        # Unmeasured first: the process's first Bulk pays for imports and statement
        # preparation. One entry only (REQ.21 FB_37 max-results): the cost of the plan
        # (the third party's grants, the feed's date) before any data.
        bulk_get(served.base, pid, token, bulk, "?max-results=1", 3600.0)
        _first, secs, _n, _size, _peak, _cut = bulk_get(
            served.base, pid, token, bulk, "?max-results=1", 3600.0
        )
        print(f"Bulk, one entry (max-results=1): {secs:.2f} s, the second time")
        runs = [("nightly Bulk (last day)", window, 3600.0)]
        if history:
            runs.append(("Bulk, whole history", "", history))
        for label, query, limit in runs:
            first, secs, n, size, peak, cut = bulk_get(served.base, pid, token, bulk, query, limit)
            flow = secs - first
            print(
                f"{label:<24} {n:>12,} readings {size / 1e6:10,.1f} MB {secs:8.1f} s  "
                f"{n / secs / 1e6:6.3f} M readings/s {size / secs / 1e6:7.1f} MB/s  "
                f"server peak RSS {peak:.0f} MiB (target < 200)"
            )
            print(f"{'':<24} first byte after {first:.2f} s", end="")
            print(
                f", then {n / flow / 1e6:6.3f} M readings/s {size / flow / 1e6:7.1f} MB/s"
                if query == ""
                else ""
            )
            if cut:
                print(
                    f"{'':<24} cut {limit:.0f} s after the first byte: the whole history holds "
                    f"about {expected:,} readings, {expected / n * size / 1e9:,.1f} GB, about "
                    f"{first + expected / (n / flow):,.0f} s at this rate"
                )


def _lua(entries: list[tuple[str, str]], folder: Path) -> Path:
    """A wrk script asking for a random one of ``entries`` (path, token) each time."""
    rows = ",\n".join(f'  {{"{path}", "Bearer {token}"}}' for path, token in entries)
    script = folder / "entries.lua"
    script.write_text(
        f"local entries = {{\n{rows}\n}}\n"
        "math.randomseed(14)\n"
        "request = function()\n"
        "  local e = entries[math.random(#entries)]\n"
        '  return wrk.format("GET", e[1], {["Authorization"] = e[2]})\n'
        "end\n"
    )
    return script


def entry_latency(label: str, url: str, granted: Granted, seconds: int, c: int) -> None:
    """wrk against one day's IntervalBlock entry and ``/livez`` (api_load.py's way),
    then against random days of up to ``RANDOM_ENTRIES`` customers (each request a
    different customer's token and block: what the database's size can change)."""
    path, token = granted.entry
    with serving(url, GBCONNECT_LOG_LEVEL="WARNING") as served:
        base = served.base
        auth = {"Authorization": f"Bearer {token}"}
        for p, tok in (granted.entry, granted.entries[-1]):
            check = httpx.get(base + p, headers={"Authorization": f"Bearer {tok}"})
            assert check.status_code == 200, (check.status_code, check.text[:300])
            assert check.content.count(b"<IntervalReading>") in (92, 96, 100)
        wrk(base + "/livez", 2, c, {})
        wrk(base + path, 2, c, auth)
        bare = wrk(base + "/livez", seconds, c, {})
        block = wrk(base + path, seconds, c, auth)
        with tempfile.TemporaryDirectory(prefix="gbconnect-scale-") as folder:
            spread = wrk(base + "/", seconds, c, {}, _lua(granted.entries, Path(folder)))
    n = len(granted.entries)
    for name, r in (("bare /livez", bare), ("IntervalBlock", block), (f"{n} customers", spread)):
        print(
            f"{label:<14} {name:<15} {r['rps']:8.0f} req/s  p50 {r['p50']:6.1f} ms  "
            f"p99 {r['p99']:6.1f} ms  non-2xx {r['errors']:.0f}"
        )
    print(
        f"{label:<14} ratio {block['rps'] / bare['rps']:.2f} of the bare endpoint "
        f"(one day), {spread['rps'] / bare['rps']:.2f} (random days of {n} customers)"
    )


def build(url: str, usage_points: int, days: int, workers: int, gas: float) -> int:
    """Store the electric data, then the gas data; print both. Returns the readings."""
    engine = make_engine(url)
    upgrade(engine)
    engine.dispose()
    secs, readings = store(url, usage_points, days, workers, None)
    print(
        f"stored {usage_points:,} electric usage points x {days} days of 15-minute data: "
        f"{readings:,} readings in {secs:,.1f} s = {readings / secs / 1e6:.3f} M readings/s "
        f"({workers} processes)"
    )
    if gas:
        secs, gas_readings = store(url, usage_points, days, workers, gas)
        n = sum(_has_gas(i, gas) for i in range(usage_points))
        print(
            f"stored {n:,} gas usage points x {days} days of daily data: {gas_readings:,} "
            f"readings (one block each) in {secs:,.1f} s = {gas_readings / secs:,.0f} "
            "readings/s"
        )
        readings += gas_readings
    return readings


def _pg_ctl(server: PostgresServer, *args: str) -> None:
    cmd = [_bin("pg_ctl"), "-D", str(server.data), *args]
    if server.as_root:
        cmd = ["runuser", "-u", "postgres", "--", *cmd]
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)


def _start_kept(server: PostgresServer) -> None:
    """Start the server of a kept data directory (the options of tests/pgserver.py)."""
    opts = (
        f"-k {server.root} -p {server.port} -h 127.0.0.1 -c fsync=off "
        "-c synchronous_commit=off -c full_page_writes=off -c max_connections=100"
    )
    _pg_ctl(server, "-o", opts, "-l", str(server.root / "log"), "-w", "start")


def _stored_readings(url: str) -> int:
    engine = make_engine(url)
    with engine.connect() as conn:
        n = int(conn.scalar(text("SELECT sum(reading_count) FROM interval_block")) or 0)
    engine.dispose()
    return n


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--usage-points", type=int, default=10_000)
    parser.add_argument("--months", type=int, default=13)
    parser.add_argument("--bulk-customers", type=int, default=5_000)
    parser.add_argument("--small-usage-points", type=int, default=30)
    parser.add_argument("--workers", type=int, default=2, help="storing processes")
    parser.add_argument(
        "--gas-share",
        type=float,
        default=0.8,
        help="share of customers with a daily gas usage point (PG&E: 4.4 M gas / 5.4 M "
        "electric meters = 0.81)",
    )
    parser.add_argument("--seconds", type=int, default=10, help="wrk duration")
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument(
        "--history-seconds",
        type=float,
        default=120,
        help="read the whole-history Bulk for this long at most (0: skip it)",
    )
    parser.add_argument(
        "--keep",
        type=Path,
        help="keep the PostgreSQL data directory here; when it holds one already, start "
        "that server and measure again without storing anew",
    )
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        sys.exit("wrk is needed: apt-get install wrk")
    days = _days(args.months)
    server = PostgresServer()
    reuse = args.keep is not None and (args.keep / "data").exists()
    if args.keep is not None:
        shutil.rmtree(server.root)
        args.keep.mkdir(parents=True, exist_ok=True)
        server.root, server.data = args.keep, args.keep / "data"
    if reuse:
        _start_kept(server)
    else:
        server.start()
    try:
        t0 = time.perf_counter()
        if reuse:
            big = server.url("scale")
            readings = _stored_readings(big)
            print(f"reusing {args.keep}: {readings:,} readings stored")
        else:
            big = server.create_database("scale")
            readings = build(big, args.usage_points, days, args.workers, args.gas_share)
        target = 10_000 * _days(13) * 96 / TARGET_SECONDS
        print(
            f"  the issue's target: 10,000 x 13 months in 15 min = {target / 1e6:.3f} M readings/s"
        )
        sizes(big, readings)
        bulk_customers = min(args.bulk_customers, args.usage_points)
        granted = grant(big, bulk_customers)
        print(f"{bulk_customers:,} customer grants to one third party in {granted.seconds:.1f} s")
        expected = readings * bulk_customers // args.usage_points
        bulks(big, granted.client_token, granted.bulk, args.history_seconds, expected)
        entry_latency("big database", big, granted, args.seconds, args.connections)
        small = server.create_database("small")
        build(small, args.small_usage_points, days, 1, args.gas_share)
        granted = grant(small, args.small_usage_points)
        entry_latency("small database", small, granted, args.seconds, args.connections)
        print(f"whole run {time.perf_counter() - t0:,.0f} s")
    finally:
        if args.keep is not None:
            _pg_ctl(server, "-m", "fast", "-w", "stop")
        else:
            server.stop()


if __name__ == "__main__":
    main()
