"""Ingest benchmark (issue: foundation). Prints figures and ratios measured in one run.

- ESPI XML ingest rate against the baseline "lxml iterparse of the same file touching
  every IntervalReading without storing it" (target: at least 0.6 of it,
  issue: performance);
- CSV ingest rate, gbconnect layout and PG&E layout (target: 1 M readings/s, one core);
- the store's insert rate for packed daily blocks on SQLite and PostgreSQL
  (target: 5 M readings/s on SQLite).

Run: ``.venv/bin/python -m benchmarks.ingest [--readings N]``
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from lxml import etree

from gbconnect.db import make_engine, make_sessionmaker, upgrade
from gbconnect.ingest.owners import retail_customer
from gbconnect.ingest.services import ingest_file
from gbconnect.usage import blocks
from gbconnect.usage.models import MeterReading, UsagePoint
from gbconnect.usage.services import PackedBlock, store_blocks

ESPI = "http://naesb.org/espi"
LA = ZoneInfo("America/Los_Angeles")
START = 1704096000  # 2024-01-01T08:00:00Z


def write_espi(path: Path, days: int, usage_points: int) -> int:
    """A Batch feed: per UsagePoint one MeterReading, ReadingType and daily 15-min blocks."""
    with path.open("w") as f:
        f.write(
            '<?xml version="1.0" encoding="UTF-8"?>\n<feed xmlns="http://www.w3.org/2005/Atom">'
            "<id>urn:uuid:0</id><title>bench</title><updated>2024-01-01T00:00:00Z</updated>\n"
        )
        n = 0
        for u in range(usage_points):
            base = f"RetailCustomer/1/UsagePoint/{u}"
            f.write(
                f'<entry><id>urn:uuid:u{u}</id><link rel="self" href="{base}"/>'
                f'<link rel="up" href="RetailCustomer/1/UsagePoint"/><title>UP</title>'
                f'<content><UsagePoint xmlns="{ESPI}"><ServiceCategory><kind>0</kind>'
                "</ServiceCategory></UsagePoint></content></entry>\n"
            )
            f.write(
                f'<entry><id>urn:uuid:m{u}</id><link rel="self" href="{base}/MeterReading/1"/>'
                f'<link rel="up" href="{base}/MeterReading"/><link rel="related" '
                f'href="ReadingType/{u}"/><content><MeterReading xmlns="{ESPI}"/></content>'
                "</entry>\n"
            )
            f.write(
                f'<entry><id>urn:uuid:r{u}</id><link rel="self" href="ReadingType/{u}"/>'
                f'<content><ReadingType xmlns="{ESPI}"><accumulationBehaviour>4'
                "</accumulationBehaviour><commodity>1</commodity><flowDirection>1"
                "</flowDirection><intervalLength>900</intervalLength><kind>12</kind>"
                "<powerOfTenMultiplier>0</powerOfTenMultiplier><uom>72</uom></ReadingType>"
                "</content></entry>\n"
            )
            for d in range(days):
                s0 = START + d * 86400
                parts = [
                    f'<entry><id>urn:uuid:b{u}-{d}</id><link rel="self" '
                    f'href="{base}/MeterReading/1/IntervalBlock/{d}"/><link rel="up" '
                    f'href="{base}/MeterReading/1/IntervalBlock"/><content>'
                    f'<IntervalBlock xmlns="{ESPI}"><interval><duration>86400</duration>'
                    f"<start>{s0}</start></interval>"
                ]
                for i in range(96):
                    parts.append(
                        f"<IntervalReading><timePeriod><duration>900</duration><start>"
                        f"{s0 + i * 900}</start></timePeriod><value>{(i * 37 + d) % 900}"
                        "</value></IntervalReading>"
                    )
                    n += 1
                parts.append("</IntervalBlock></content></entry>\n")
                f.write("".join(parts))
        f.write("</feed>\n")
    return n


def baseline_iterparse(path: Path) -> int:
    """lxml iterparse touching every IntervalReading (its value), storing nothing."""
    n = 0
    tag = f"{{{ESPI}}}IntervalReading"
    value = f"{{{ESPI}}}value"
    for _ev, el in etree.iterparse(str(path), tag=tag, resolve_entities=False, no_network=True):
        el.findtext(value)
        n += 1
        el.clear()
    return n


def write_gbconnect_csv(path: Path, n: int) -> None:
    with path.open("w") as f:
        f.write("usage_point,start,duration,value\n")
        for i in range(n):
            t = time.gmtime(START + i * 900)
            f.write(f"SP-1,{time.strftime('%Y-%m-%dT%H:%M:%SZ', t)},900,{(i % 977) / 1000:.3f}\n")


def write_pge_csv(path: Path, n: int) -> None:
    with path.open("w") as f:
        f.write(
            "Name,Pat\nAddress,1 Main St\nAccount Number,1\nService,E1\n\n"
            "TYPE,DATE,START TIME,END TIME,USAGE (kWh),COST,NOTES\n"
        )
        for i in range(n):  # local wall-clock times, as the utility writes them
            s = datetime.fromtimestamp(START + i * 900, LA)
            e = s + timedelta(minutes=14)
            f.write(
                f"Electric usage,{s:%Y-%m-%d},{s:%H:%M},{e:%H:%M},{(i % 977) / 1000:.3f},$0.05,\n"
            )


def fresh_db(url: str | None, tmp: Path, name: str) -> str:
    if url is None:
        url = f"sqlite:///{tmp / name}"
    engine = make_engine(url)
    upgrade(engine)
    engine.dispose()
    return url


def time_ingest(url: str, path: Path) -> tuple[float, int]:
    engine = make_engine(url)
    factory = make_sessionmaker(engine)
    t = time.perf_counter()
    summary = ingest_file(factory, path, "bench", LA)
    elapsed = time.perf_counter() - t
    engine.dispose()
    return elapsed, summary.readings


_CHILD = """
import sys
from gbconnect.cli import main
try:
    main()
finally:
    # VmHWM: this process's own peak resident memory (not the forking parent's).
    for line in open("/proc/self/status"):
        if line.startswith("VmHWM:"):
            print("peak-kB", line.split()[1], file=sys.stderr)
"""


def peak_ingest_memory(url: str, path: Path) -> float:
    """Peak resident memory (MB) of ``gbconnect ingest PATH`` in a child process."""
    done = subprocess.run(
        [
            *(sys.executable, "-c", _CHILD, "--database-url", url),
            *("ingest", str(path), "--customer", "bench"),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        check=False,
    )
    for line in done.stderr.splitlines():
        if line.startswith("peak-kB"):
            return int(line.split()[1]) / 1024
    raise RuntimeError(f"ingest failed: {done.stderr[-500:]}")


def store_rate(url: str, meters: int, days: int) -> tuple[float, int]:
    """Insert rate of the store alone: pre-packed daily blocks, one transaction per meter."""
    packed = []
    for d in range(days):
        values = [(i * 37 + d) % 900 for i in range(96)]
        packed.append(
            PackedBlock(
                START + d * 86400,
                86400,
                96,
                blocks.encode_regular(START + d * 86400, 900, values),
                START + (d + 1) * 86400,
            )
        )
    engine = make_engine(url)
    factory = make_sessionmaker(engine)
    ids = []
    with factory() as session, session.begin():
        owner = retail_customer(session, "store-bench")
        for m in range(meters):
            up = UsagePoint(retail_customer_id=owner.id, service_kind=0, source_key=f"up{m}")
            session.add(up)
            session.flush()
            mr = MeterReading(usage_point_id=up.id, source_key=f"mr{m}")
            session.add(mr)
            session.flush()
            ids.append(mr.id)
    t = time.perf_counter()
    with factory() as session, session.begin():
        conn = session.connection()
        for mr_id in ids:
            store_blocks(conn, mr_id, packed, now=1)
    elapsed = time.perf_counter() - t
    engine.dispose()
    return elapsed, meters * days * 96


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--days", type=int, default=365, help="days per usage point (XML)")
    parser.add_argument("--usage-points", type=int, default=10)
    parser.add_argument("--csv-readings", type=int, default=1_000_000)
    parser.add_argument("--store-meters", type=int, default=100)
    parser.add_argument("--no-postgres", action="store_true")
    args = parser.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="gbconnect-bench-"))

    xml = tmp / "feed.xml"
    n = write_espi(xml, args.days, args.usage_points)
    size = xml.stat().st_size / 1e6
    url = fresh_db(None, tmp, "xml.db")
    # CPU time too: on a shared machine the wall-clock ratio swings with the neighbours'
    # load, the CPU-time ratio much less (issue: performance).
    cpu = time.process_time()
    t = time.perf_counter()
    assert baseline_iterparse(xml) == n
    base = time.perf_counter() - t
    cpu_base = time.process_time() - cpu
    cpu = time.process_time()
    ours, stored = time_ingest(url, xml)
    cpu_ours = time.process_time() - cpu
    assert stored == n
    print(
        f"ESPI XML ingest   {n:>10,} readings, {size:6.1f} MB: {n / ours / 1e6:6.3f} M readings/s"
        f"  | baseline iterparse {n / base / 1e6:6.3f} M/s"
        f" | ratio {base / ours:4.2f} (target >= 0.6; CPU time {cpu_base / cpu_ours:4.2f})"
    )
    peak = peak_ingest_memory(fresh_db(None, tmp, "xml-memory.db"), xml)
    print(
        f"ESPI XML ingest, peak memory of `gbconnect ingest` on the {size:.1f} MB file: "
        f"{peak:.0f} MB (streamed: try --usage-points 220 for a 1 GB file)"
    )

    for label, writer in (("gbconnect CSV", write_gbconnect_csv), ("PG&E CSV", write_pge_csv)):
        path = tmp / f"{label.split()[0]}.csv"
        writer(path, args.csv_readings)
        elapsed, count = time_ingest(fresh_db(None, tmp, f"{label.split()[0]}.db"), path)
        print(
            f"{label:<17} {count:>10,} readings: {count / elapsed / 1e6:6.3f} M readings/s "
            "(target >= 1.0, end to end into SQLite)"
        )

    elapsed, count = store_rate(fresh_db(None, tmp, "store.db"), args.store_meters, 365)
    print(
        f"store, SQLite     {count:>10,} readings: {count / elapsed / 1e6:6.3f} M readings/s "
        "(packed daily blocks; target >= 5.0)"
    )
    if not args.no_postgres:
        from tests.pgserver import PostgresServer

        server = PostgresServer()
        server.start()
        try:
            url = fresh_db(server.create_database("bench"), tmp, "")
            elapsed, count = store_rate(url, args.store_meters, 365)
            print(
                f"store, PostgreSQL {count:>10,} readings: {count / elapsed / 1e6:6.3f} "
                "M readings/s (packed daily blocks)"
            )
        finally:
            server.stop()


if __name__ == "__main__":
    main()
