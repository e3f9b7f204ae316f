"""Feed benchmark (issue: ESPI resource server). Prints figures and ratios from one run.

A Batch/Bulk of 100 usage points x 1 year of 15-minute readings (3.5 M readings) is
written from SQLite and from PostgreSQL:

- directly (the feed generator, no HTTP) and through ``gbconnect serve`` (uvicorn)
  over a real socket, as identity, gzip and zstd (``Accept-Encoding``): readings/s,
  MB/s on the wire, and the peak memory of the serving process;
- baseline (a), the formatting limit: ``%``-formatting the same readings into one
  bytes join, no database;
- baseline (b): one lxml element tree per reading, serialised.

Targets: >= 1 M readings/s directly, >= 0.5 of (a) directly and over uvicorn as
identity, >= 0.35 of (a) compressed, >= 5x (b), peak memory under 200 MB and not
growing with the feed's size.

Run: ``.venv/bin/python -m benchmarks.feeds [--usage-points N] [--days D] [--no-postgres]``
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import httpx
from lxml import etree
from tests.factories.tokens import client_token
from tests.serverproc import serving

from gbconnect.api import feeds
from gbconnect.config import load_settings
from gbconnect.db import make_engine, make_sessionmaker, upgrade
from gbconnect.espi import scope as espi_scope
from gbconnect.ingest.owners import retail_customer
from gbconnect.oauth import models as om
from gbconnect.oauth import services
from gbconnect.oauth.clients import register
from gbconnect.oauth.scoping import grant_of
from gbconnect.usage import blocks
from gbconnect.usage.models import MeterReading, ReadingType, UsagePoint
from gbconnect.usage.services import PackedBlock, store_blocks
from gbconnect.web.query import FeedQuery

START = 1704096000  # 2024-01-01T08:00:00Z
ESPI = "http://naesb.org/espi"


def build(url: str, usage_points: int, days: int) -> tuple[str, int]:
    """Store the data, a third party and one grant covering every usage point.
    Returns (client access token, bulk id)."""
    engine = make_engine(url)
    upgrade(engine)
    settings = load_settings(database_url=url, secret_key="b" * 40)
    factory = make_sessionmaker(engine)
    packed = [
        PackedBlock(
            START + d * 86400,
            86400,
            96,
            blocks.encode_regular(START + d * 86400, 900, [(i * 37 + d) % 900 for i in range(96)]),
            START + (d + 1) * 86400,
        )
        for d in range(days)
    ]
    with factory() as session, session.begin():
        owner = retail_customer(session, "feed-bench")
        ids = []
        for m in range(usage_points):
            up = UsagePoint(
                retail_customer_id=owner.id, service_kind=0, status=1, source_key=f"up{m}"
            )
            session.add(up)
            rt = ReadingType(
                retail_customer_id=owner.id,
                accumulation_behaviour=4,
                commodity=1,
                flow_direction=1,
                interval_length=900,
                kind=12,
                uom=72,
                power_of_ten_multiplier=0,
            )
            session.add(rt)
            session.flush()
            mr = MeterReading(usage_point_id=up.id, reading_type_id=rt.id, source_key=f"mr{m}")
            session.add(mr)
            session.flush()
            store_blocks(session.connection(), mr.id, packed, now=1)
            ids.append(up.id)
        done = register(
            session,
            settings,
            name="Bench",
            redirect_uris=["https://b.example/cb"],
            scopes=["FB=1_3_4_5_13_14_35;HistoryLength=100"],
            approve=True,
        )
        services.grant_customer_authorization(
            session,
            settings,
            done.application,
            owner,
            services.GrantRequest(
                scope=espi_scope.parse("FB=1_3_4_5_13_14_35"),
                usage_point_ids=ids,
                end=None,
                start=0,
            ),
        )
        token = client_token(session, done.application)
        bulk = done.application.bulk_id
    engine.dispose()
    return token, bulk


def direct(url: str) -> tuple[float, int, int]:
    """The Bulk feed's entries through the feed generator, no HTTP: (s, readings, bytes)."""
    engine = make_engine(url)
    factory = make_sessionmaker(engine)
    with factory() as session:
        auth = session.query(om.Authorization).filter(om.Authorization.token_class == "A").one()
        grant = grant_of(auth)
        ids = services.subscription_usage_point_ids(session, auth.subscription.id)  # type: ignore[union-attr]
        paths = feeds.Paths("http://x/r", f"http://x/r/Subscription/{grant.subscription_id}")
        t = time.perf_counter()
        size = 0
        readings = 0
        for up_id in sorted(ids):
            up = session.get(UsagePoint, up_id)
            assert up is not None
            for piece in feeds.usage_point_tree(session, up, grant, paths, FeedQuery()):
                data = piece.encode()
                size += len(data)
                readings += data.count(b"<IntervalReading>")
            session.expunge_all()
        elapsed = time.perf_counter() - t
    engine.dispose()
    return elapsed, readings, size


def over_http(
    url: str, token: str, bulk: int, codings: tuple[str, ...] = ("identity",)
) -> list[tuple[float, int, int, float]]:
    """GET the Batch/Bulk from ``gbconnect serve``, once per content coding: (s,
    readings, bytes on the wire, server peak MB). Readings are counted in the identity
    body only (a compressed body is timed as it arrives, not decoded: the client's
    decoding is not the server's speed); 0 for the others."""
    out = []
    # Served synchronously (GBCONNECT_BATCH_ASYNC_BLOCKS=0): the feed the worker would
    # package is the very one measured here (docs/batches.md).
    with serving(url, GBCONNECT_LOG_LEVEL="WARNING", GBCONNECT_BATCH_ASYNC_BLOCKS="0") as served:
        base, proc = served.base, served.process
        path = f"{base}/DataCustodian/espi/1_1/resource/Batch/Bulk/{bulk}"
        for coding in codings:
            t = time.perf_counter()
            size = 0
            readings = 0
            carry = b""
            headers = {"Authorization": f"Bearer {token}", "Accept-Encoding": coding}
            with httpx.stream("GET", path, headers=headers, timeout=600) as r:
                assert r.status_code == 200, r.read()[:300]
                assert r.headers.get("content-encoding", "identity") == coding
                for chunk in r.iter_raw(1 << 20):
                    size += len(chunk)
                    if coding != "identity":
                        continue
                    data = carry + chunk
                    readings += data.count(b"<IntervalReading>")
                    carry = data[-20:]
                    readings -= carry.count(b"<IntervalReading>")
            readings += carry.count(b"<IntervalReading>")
            elapsed = time.perf_counter() - t
            with open(f"/proc/{proc.pid}/status") as f:
                peak = next(int(x.split()[1]) for x in f if x.startswith("VmHWM:")) / 1024
            out.append((elapsed, readings, size, peak))
    return out


def baseline_format(readings: int) -> tuple[float, int]:
    """(a) %-formatting the readings into one bytes join, no database."""
    tpl = (
        "<IntervalReading><timePeriod><duration>900</duration><start>%d</start></timePeriod>"
        "<value>%d</value></IntervalReading>"
    )
    t = time.perf_counter()
    parts = []
    for d in range(readings // 96):
        parts.append(
            (
                "".join(
                    [tpl % (START + d * 86400 + i * 900, (i * 37 + d) % 900) for i in range(96)]
                )
            ).encode()
        )
    data = b"".join(parts)
    return time.perf_counter() - t, len(data)


def baseline_lxml(readings: int) -> float:
    """(b) lxml elements per reading, serialised (a sample, scaled)."""
    sample = min(readings, 200_000)
    t = time.perf_counter()
    E = f"{{{ESPI}}}"
    for d in range(sample // 96):
        block = etree.Element(E + "IntervalBlock", nsmap={None: ESPI})
        for i in range(96):
            r = etree.SubElement(block, E + "IntervalReading")
            tp = etree.SubElement(r, E + "timePeriod")
            etree.SubElement(tp, E + "duration").text = "900"
            etree.SubElement(tp, E + "start").text = str(START + d * 86400 + i * 900)
            etree.SubElement(r, E + "value").text = str((i * 37 + d) % 900)
        etree.tostring(block)
    return (time.perf_counter() - t) * readings / sample


def report(label: str, url: str, token: str, bulk: int, base_a: float, base_b: float) -> None:
    secs, n, size = direct(url)
    print(
        f"{label:<10} direct       {n:>10,} readings {size / 1e6:8.1f} MB  "
        f"{n / secs / 1e6:6.3f} M readings/s  {size / secs / 1e6:7.1f} MB/s  "
        f"| vs (a) {base_a / secs:4.2f} (target >= 0.5)"
        f" | vs (b) {base_b / secs:5.1f}x (target >= 5)"
    )
    runs = over_http(url, token, bulk, ("identity", "gzip", "zstd"))
    n2 = runs[0][1]
    for coding, (secs, _, size2, peak) in zip(("identity", "gzip", "zstd"), runs, strict=True):
        target = "0.5" if coding == "identity" else "0.35"
        print(
            f"{label:<10} uvicorn {coding:<8} {n2:>10,} readings {size2 / 1e6:8.1f} MB  "
            f"{n2 / secs / 1e6:6.3f} M readings/s  {size2 / secs / 1e6:7.1f} MB/s  "
            f"| vs (a) {base_a / secs:4.2f} (target >= {target}) "
            f"| server peak memory {peak:.0f} MB (target < 200)"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--usage-points", type=int, default=100)
    parser.add_argument("--days", type=int, default=365)
    parser.add_argument("--no-postgres", action="store_true")
    args = parser.parse_args()
    readings = args.usage_points * args.days * 96
    base_a, size_a = baseline_format(readings)
    base_b = baseline_lxml(readings)
    print(
        f"baseline (a) %-format join   {readings:>10,} readings: "
        f"{readings / base_a / 1e6:6.3f} M/s "
        f"({size_a / 1e6:.0f} MB)"
    )
    print(
        f"baseline (b) lxml elements   {readings:>10,} readings: {readings / base_b / 1e6:6.3f} M/s"
    )
    tmp = Path(tempfile.mkdtemp(prefix="gbconnect-feeds-"))
    url = f"sqlite:///{tmp / 'feeds.db'}"
    token, bulk = build(url, args.usage_points, args.days)
    report("SQLite", url, token, bulk, base_a, base_b)
    if not args.no_postgres:
        from tests.pgserver import PostgresServer

        server = PostgresServer()
        server.start()
        try:
            pg = server.create_database("feeds")
            token, bulk = build(pg, args.usage_points, args.days)
            report("PostgreSQL", pg, token, bulk, base_a, base_b)
        finally:
            server.stop()


if __name__ == "__main__":
    main()
