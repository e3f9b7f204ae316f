"""What an entry may hold: valid files accepted (issue 15 item 18), and an unknown
time zone that stays unknown (item 22)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from gbconnect.ingest.services import ingest_file
from gbconnect.usage import models as um
from tests.factories.world import ZONE

BASE = "https://utility.example/espi/User/7/UsagePoint/55"


def _feed(ltp: str, namespace: str = "http://naesb.org/espi") -> str:
    return (
        '<feed xmlns="http://www.w3.org/2005/Atom"><id>urn:uuid:1</id>\n'
        f'<entry><link rel="self" href="{BASE}"/>'
        '<link rel="related" href="https://utility.example/espi/LocalTimeParameters/1"/>'
        '<content><UsagePoint xmlns="http://naesb.org/espi"><ServiceCategory><kind>0</kind>'
        "</ServiceCategory></UsagePoint></content></entry>\n"
        '<entry><link rel="self" href="https://utility.example/espi/LocalTimeParameters/1"/>'
        f'<content><LocalTimeParameters xmlns="{namespace}">{ltp}</LocalTimeParameters>'
        "</content></entry>\n</feed>\n"
    )


def _ltp(factory: sessionmaker[Session]) -> list[tuple[str | None, str | None, int | None]]:
    with factory() as s:
        return [
            (r.dst_start_rule, r.dst_end_rule, r.tz_offset)
            for r in s.scalars(select(um.LocalTimeParameters))
        ]


def test_dst_rules_shorter_than_eight_hex_digits_are_accepted(
    tmp_path: Path, factory: sessionmaker[Session]
) -> None:
    path = tmp_path / "short.xml"
    path.write_text(
        _feed(
            "<dstEndRule>B40E20</dstEndRule><dstOffset>3600</dstOffset>"
            "<dstStartRule>36</dstStartRule><tzOffset>-28800</tzOffset>"
        )
    )
    ingest_file(factory, path, "alice", ZONE)
    assert _ltp(factory) == [("36", "B40E20", -28800)]
    bad = tmp_path / "bad.xml"
    bad.write_text(_feed("<dstEndRule>B40E2000FF</dstEndRule><tzOffset>0</tzOffset>"))
    try:
        ingest_file(factory, bad, "bob", ZONE)
    except ValueError as exc:
        assert "at most 4 octets" in str(exc)
    else:
        raise AssertionError("five octets accepted")


def test_local_time_parameters_in_customer_namespace_is_accepted(
    tmp_path: Path, factory: sessionmaker[Session]
) -> None:
    path = tmp_path / "customer.xml"
    path.write_text(
        _feed(
            "<dstEndRule>B40E2000</dstEndRule><dstOffset>3600</dstOffset>"
            "<dstStartRule>360E2000</dstStartRule><tzOffset>-18000</tzOffset>",
            "http://naesb.org/espi/customer",
        )
    )
    ingest_file(factory, path, "alice", ZONE)
    assert _ltp(factory) == [("360E2000", "B40E2000", -18000)]
    with factory() as s:
        assert s.scalars(select(um.UsagePoint.local_time_parameters_id)).one() is not None


def test_empty_local_time_parameters_is_not_exported_as_utc(
    tmp_path: Path, db_url: str, factory: sessionmaker[Session]
) -> None:
    path = tmp_path / "empty.xml"
    path.write_text(_feed("<dstEndRule/><dstOffset/><dstStartRule/><tzOffset/>"))
    summary = ingest_file(factory, path, "alice", ZONE)
    assert any("no tzOffset" in n for n in summary.notes)
    assert _ltp(factory) == []
    out = tmp_path / "export.xml"
    done = subprocess.run(
        [
            sys.executable,
            "-c",
            "from gbconnect.cli import main; main()",
            "--database-url",
            db_url,
            "export",
            "--customer",
            "alice",
            "-o",
            str(out),
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    text = out.read_text()
    assert "<UsagePoint" in text and "LocalTimeParameters" not in text and "tzOffset" not in text


def _block_feed(interval: str, readings: str) -> str:
    return (
        '<feed xmlns="http://www.w3.org/2005/Atom"><id>urn:uuid:1</id>\n'
        f'<entry><link rel="self" href="{BASE}"/>'
        '<content><UsagePoint xmlns="http://naesb.org/espi"><ServiceCategory><kind>0</kind>'
        "</ServiceCategory></UsagePoint></content></entry>\n"
        f'<entry><link rel="self" href="{BASE}/MeterReading/1"/>'
        '<content><MeterReading xmlns="http://naesb.org/espi"><ReadingType><commodity>1'
        "</commodity><uom>72</uom></ReadingType></MeterReading></content></entry>\n"
        f'<entry><link rel="self" href="{BASE}/MeterReading/1/IntervalBlock/1"/>\n'
        '<content><IntervalBlock xmlns="http://naesb.org/espi">\n'
        f"<interval>{interval}</interval>\n{readings}</IntervalBlock></content></entry>\n</feed>\n"
    )


def test_block_of_duration_zero_holding_readings_is_refused_with_its_line(
    tmp_path: Path, factory: sessionmaker[Session]
) -> None:
    path = tmp_path / "zero-block.xml"
    path.write_text(
        _block_feed(
            "<duration>0</duration><start>1730617200</start>",
            "<IntervalReading><timePeriod><duration>3600</duration><start>1730617200</start>"
            "</timePeriod><value>5</value></IntervalReading>\n",
        )
    )
    try:
        ingest_file(factory, path, "alice", ZONE)
    except ValueError as exc:
        assert "duration 0" in str(exc) and str(exc).startswith(f"{path}:5:")
    else:
        raise AssertionError("a block of duration 0 holding readings was accepted")
    with factory() as s:
        assert s.scalars(select(um.IntervalBlock)).first() is None


def test_reading_of_duration_zero_is_stored_with_a_warning(
    tmp_path: Path, factory: sessionmaker[Session]
) -> None:
    path = tmp_path / "zero-reading.xml"
    path.write_text(
        _block_feed(
            "<duration>7200</duration><start>1730617200</start>",
            "<IntervalReading><timePeriod><duration>3600</duration><start>1730617200</start>"
            "</timePeriod><value>5</value></IntervalReading>\n"
            "<IntervalReading><timePeriod><duration>0</duration><start>1730620800</start>"
            "</timePeriod><value>6</value></IntervalReading>\n",
        )
    )
    summary = ingest_file(factory, path, "alice", ZONE)
    assert summary.readings == 2
    assert any("line 8" in n and "duration 0" in n for n in summary.notes), summary.notes
