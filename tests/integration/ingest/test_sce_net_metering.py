"""An SCE net-metering download as real files have it (direction named in each
section's column header, with a non-breaking space) is stored as two channels:
delivered (flowDirection 1) and received (flowDirection 19)."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy.orm import Session, sessionmaker

from gbconnect.ingest.errors import IngestError
from gbconnect.ingest.services import ingest_file
from tests.integration.ingest.test_csv_import import LA, readings
from tests.unit.ingest.test_sce_sections import EXPECTED, PREAMBLE, real_download


def test_sce_net_metering_download_is_stored_as_two_flows(
    tmp_path: Path, factory: sessionmaker[Session]
) -> None:
    f = tmp_path / "sce-net.csv"
    f.write_bytes(real_download())
    summary = ingest_file(factory, f, "sam", LA)
    assert summary.format == "SCE CSV"
    got = readings(factory)
    assert got == {(0, 1): EXPECTED[1], (0, 19): EXPECTED[19]}


def test_sce_sections_that_cannot_be_told_apart_store_nothing(
    tmp_path: Path, factory: sessionmaker[Session]
) -> None:
    plain = "Energy consumption time period,Usage(Real energy in kilowatt-hours),Reading quality\n"
    day = (
        '"Data for period starting: 2020-05-01 00:00:00  for 24 hours"\n'
        '"2020-05-01 00:00:00 to 2020-05-01 00:15:00",0.200,Actual\n'
    )
    f = tmp_path / "sce-untold.csv"
    f.write_text(PREAMBLE + plain + day + plain + day, encoding="utf-8")
    with pytest.raises(IngestError, match="cannot be told apart") as caught:
        ingest_file(factory, f, "sam", LA)
    assert caught.value.line == 9
    assert readings(factory) == {}
