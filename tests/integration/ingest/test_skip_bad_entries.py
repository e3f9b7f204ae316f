"""One bad entry does not hide the others (issue 15 item 21): by default the file is
refused naming every bad entry with its line; with ``--skip-bad-entries`` every
well-formed entry is imported and each bad one is listed with its line."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from gbconnect.ingest.errors import IngestError
from gbconnect.ingest.services import ingest_file
from gbconnect.usage import models as um
from tests.factories.world import ZONE
from tests.integration.ingest.test_replaced_readings import T0, block_entry, feed, stored_readings

DAYS = 30


def _file(tmp_path: Path, bad: tuple[int, ...]) -> tuple[Path, list[int]]:
    """A feed of DAYS daily blocks of 24 readings; the blocks of ``bad`` hold a value
    that is not an integer. Returns the path and the lines of the bad values."""
    entries = []
    for day in range(DAYS):
        start = T0 + day * 86400
        readings = [(start + h * 3600, 3600, day * 100 + h) for h in range(24)]
        text = block_entry(day + 1, readings, start, 86400)
        if day in bad:
            text = text.replace(f"<value>{day * 100 + 5}</value>", "<value>5.5kWh</value>")
        entries.append(text)
    path = tmp_path / "feed.xml"
    path.write_text(feed(*entries))
    lines = [n for n, line in enumerate(path.read_text().splitlines(), 1) if "5.5kWh" in line]
    return path, lines


def test_bad_entries_refuse_the_file_naming_each_line(
    tmp_path: Path, factory: sessionmaker[Session]
) -> None:
    path, lines = _file(tmp_path, (3, 17))
    with pytest.raises(IngestError) as info:
        ingest_file(factory, path, "alice", ZONE)
    text = str(info.value)
    assert text.startswith(f"{path}:{lines[0]}:") and f"line {lines[1]}:" in text
    assert "5.5kWh" in text
    with factory() as s:
        assert s.scalars(select(um.IntervalBlock)).first() is None


def test_skip_bad_entries_imports_every_good_entry_and_lists_the_bad(
    tmp_path: Path, factory: sessionmaker[Session], db_url: str
) -> None:
    path, lines = _file(tmp_path, (3, 17))
    summary = ingest_file(factory, path, "alice", ZONE, skip_bad_entries=True)
    assert [line for line, _ in summary.skipped] == lines
    assert summary.readings == (DAYS - 2) * 24 == len(stored_readings(factory, "alice"))
    cli = [sys.executable, "-c", "from gbconnect.cli import main; main()"]
    args = ["--database-url", db_url, "ingest", "--customer", "bob", "--skip-bad-entries"]
    done = subprocess.run(
        [*cli, *args, str(path)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert "2 bad entries skipped" in done.stdout
    for line in lines:
        assert f"skipped the entry at line {line}:" in done.stdout
    assert len(stored_readings(factory, "bob")) == (DAYS - 2) * 24


def test_skip_bad_entries_still_refuses_a_file_with_nothing_good(
    tmp_path: Path, factory: sessionmaker[Session]
) -> None:
    path = tmp_path / "bad.xml"
    path.write_text(
        '<feed xmlns="http://www.w3.org/2005/Atom"><entry><content>'
        '<UsagePoint xmlns="http://naesb.org/espi"><ServiceCategory><kind>x</kind>'
        "</ServiceCategory></UsagePoint></content></entry></feed>"
    )
    with pytest.raises(IngestError, match="no entry could be imported"):
        ingest_file(factory, path, "alice", ZONE, skip_bad_entries=True)
