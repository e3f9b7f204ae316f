"""No reading is lost without a word (issue 15 item 15).

When two readings share a start the later one wins (the later in the file, the newer
file over the stored one), each replaced reading is reported with its line, the
summary counts the readings stored, and an export imported again gives back exactly
the same readings (XML and CSV, daily gas readings overlapping the next by an hour
around a DST change included).
"""

from __future__ import annotations

import subprocess
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from gbconnect.customer.models import RetailCustomer
from gbconnect.ingest.services import ingest_file
from gbconnect.usage import blocks
from gbconnect.usage import models as um
from tests.clirun import run_cli
from tests.factories.world import ZONE

ATOM = "http://www.w3.org/2005/Atom"
BASE = "https://utility.example/espi/User/7/UsagePoint/55"


def stored_readings(factory: sessionmaker[Session], username: str) -> list[tuple[int, int, int]]:
    """(start, duration, value) of every stored reading of ``username``, ordered."""
    with factory() as s:
        rows = s.scalars(
            select(um.IntervalBlock.data)
            .join(um.MeterReading, um.MeterReading.id == um.IntervalBlock.meter_reading_id)
            .join(um.UsagePoint, um.UsagePoint.id == um.MeterReading.usage_point_id)
            .join(RetailCustomer, RetailCustomer.id == um.UsagePoint.retail_customer_id)
            .where(RetailCustomer.username == username)
        ).all()
    out: list[tuple[int, int, int]] = []
    for data in rows:
        r = blocks.decode(data)
        out.extend(zip(r.starts, r.durations, r.values, strict=True))  # type: ignore[arg-type]
    return sorted(out)


def block_entry(n: int, readings: list[tuple[int, int, int]], start: int, duration: int) -> str:
    body = "".join(
        f"<IntervalReading><timePeriod><duration>{d}</duration><start>{s}</start>"
        f"</timePeriod><value>{v}</value></IntervalReading>"
        for s, d, v in readings
    )
    return (
        f'<entry><link rel="self" href="{BASE}/MeterReading/1/IntervalBlock/{n}"/>'
        f'<link rel="up" href="{BASE}/MeterReading/1/IntervalBlock"/>'
        f'<content><IntervalBlock xmlns="http://naesb.org/espi"><interval>'
        f"<duration>{duration}</duration><start>{start}</start></interval>{body}"
        "</IntervalBlock></content></entry>\n"
    )


def feed(*entries: str) -> str:
    head = (
        f'<feed xmlns="{ATOM}"><id>urn:uuid:1</id>\n'
        f'<entry><link rel="self" href="{BASE}"/><content>'
        '<UsagePoint xmlns="http://naesb.org/espi"><ServiceCategory><kind>0</kind>'
        "</ServiceCategory></UsagePoint></content></entry>\n"
        f'<entry><link rel="self" href="{BASE}/MeterReading/1"/>'
        f'<link rel="up" href="{BASE}/MeterReading"/><content>'
        '<MeterReading xmlns="http://naesb.org/espi"><ReadingType><commodity>1</commodity>'
        "<intervalLength>3600</intervalLength><uom>72</uom></ReadingType></MeterReading>"
        "</content></entry>\n"
    )
    return head + "".join(entries) + "</feed>\n"


T0 = 1730617200  # 2024-11-03 00:00 PDT, the autumn change day in Los Angeles


def test_reading_replaced_by_next_block_is_reported_with_its_line(
    tmp_path: Path, factory: sessionmaker[Session]
) -> None:
    # The first block's last reading starts where the second block's first does.
    first = [(T0 + i * 3600, 3600, 10 + i) for i in range(3)]
    second = [(T0 + 2 * 3600 + i * 3600, 3600, 20 + i) for i in range(3)]
    path = tmp_path / "overlap.xml"
    path.write_text(
        feed(block_entry(1, first, T0, 3 * 3600), block_entry(2, second, T0 + 7200, 3 * 3600))
    )
    summary = ingest_file(factory, path, "alice", ZONE)
    stored = stored_readings(factory, "alice")
    assert stored == sorted([*first[:2], *second])  # the later in the file wins
    assert summary.readings == len(stored) == 5
    (lost,) = summary.blocks.replaced_readings
    assert (lost.start, lost.value) == (T0 + 7200, 12)
    text = path.read_text().splitlines()
    assert "<value>12</value>" in text[lost.line - 1]  # type: ignore[operator]
    assert lost.by_line is not None and "<value>20</value>" in text[lost.by_line - 1]
    line = summary.line()
    assert f"the reading at line {lost.line}" in line and f"by line {lost.by_line}" in line


def test_newer_file_replacing_stored_readings_reports_them(
    tmp_path: Path, factory: sessionmaker[Session]
) -> None:
    old = [(T0 + i * 3600, 3600, 1) for i in range(4)]
    new = [(T0 + 3600, 3600, 5)]
    a, b = tmp_path / "a.xml", tmp_path / "b.xml"
    a.write_text(feed(block_entry(1, old, T0, 4 * 3600)))
    b.write_text(feed(block_entry(2, new, T0 + 3600, 3600)))
    ingest_file(factory, a, "alice", ZONE)
    summary = ingest_file(factory, b, "alice", ZONE)
    assert stored_readings(factory, "alice") == [old[0], new[0], *old[2:]]
    (replaced,) = summary.blocks.replaced_readings
    assert (replaced.start, replaced.value, replaced.line) == (T0 + 3600, 1, None)
    assert summary.readings == 1
    again = ingest_file(factory, b, "alice", ZONE)  # the same values again: nothing to say
    assert not again.blocks.replaced_readings and not again.blocks.changed


def _cli(db_url: str, *args: str) -> subprocess.CompletedProcess[str]:
    return run_cli(db_url, *args)


def _gas_csv(days: int, first: datetime) -> str:
    """Daily gas readings at 07:00 local, each overlapping the next by an hour."""
    rows = ["usage_point,start,duration,value,unit,flow,cost,quality"]
    for i in range(days):
        start = (first + timedelta(days=i)).replace(tzinfo=ZONE)
        epoch = int(start.timestamp())
        stamp = datetime.utcfromtimestamp(epoch).strftime("%Y-%m-%dT%H:%M:%SZ")
        rows.append(f"Gas meter,{stamp},{25 * 3600},{1 + i % 7},therm,forward,,")
    return "\n".join(rows) + "\n"


@pytest.mark.parametrize(
    "first", [datetime(2024, 10, 25, 7), datetime(2024, 3, 1, 7), datetime(2024, 6, 1, 0)]
)
def test_export_then_import_gives_back_the_same_readings(
    first: datetime, db_url: str, tmp_path: Path, factory: sessionmaker[Session]
) -> None:
    source = tmp_path / "gas.csv"
    source.write_text(_gas_csv(40, first))
    summary = ingest_file(factory, source, "alice", ZONE)
    original = stored_readings(factory, "alice")
    assert len(original) == summary.readings == 40
    assert not summary.blocks.replaced_readings
    for fmt in ("csv", "xml"):
        out = tmp_path / f"alice.{fmt}"
        done = _cli(db_url, "export", "--customer", "alice", "--format", fmt, "-o", str(out))
        assert done.returncode == 0, done.stderr
        copy = ingest_file(factory, out, f"copy-{fmt}", ZONE)
        assert copy.readings == 40 and not copy.blocks.replaced_readings, fmt
        assert stored_readings(factory, f"copy-{fmt}") == original, fmt
