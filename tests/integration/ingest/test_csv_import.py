"""CSV layouts (gbconnect, PG&E/Opower, SCE, SDG&E): values, units and DST-correct UTC."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from gbconnect.ingest.errors import IngestError
from gbconnect.ingest.services import ingest_file
from gbconnect.usage import blocks
from gbconnect.usage.models import IntervalBlock, MeterReading, ReadingType, UsagePoint

LA = ZoneInfo("America/Los_Angeles")


def readings(factory: sessionmaker[Session]) -> dict[tuple[int, int], list[tuple[int, int, int]]]:
    """(service kind, flow direction) -> sorted [(start, duration, value)]."""
    out: dict[tuple[int, int], list[tuple[int, int, int]]] = {}
    with factory() as session:
        rows = session.execute(
            select(UsagePoint.service_kind, ReadingType.flow_direction, IntervalBlock.data)
            .join(MeterReading, MeterReading.usage_point_id == UsagePoint.id)
            .join(ReadingType, ReadingType.id == MeterReading.reading_type_id)
            .join(IntervalBlock, IntervalBlock.meter_reading_id == MeterReading.id)
        ).all()
    for kind, flow, data in rows:
        r = blocks.decode(data)
        out.setdefault((kind, flow), []).extend(
            (s, d, v)
            for s, d, v in zip(r.starts, r.durations, r.values, strict=True)
            if v is not None
        )
    return {k: sorted(v) for k, v in out.items()}


def test_gbconnect_layout(tmp_path: Path, factory: sessionmaker[Session]) -> None:
    f = tmp_path / "ours.csv"
    f.write_text(
        "# gbconnect interval CSV\nusage_point,start,duration,value,unit,flow,cost\n"
        "SP-1,2024-05-01T00:00:00Z,900,0.250,kWh,forward,0.05\n"
        "SP-1,2024-05-01T00:15:00Z,900,0.125,kWh,forward,0.025\n"
        "SP-1,2024-05-01T00:00:00Z,900,0.5,kWh,reverse,\n"
        "GAS-1,2024-05-01T07:00:00Z,86400,1.234,therm,forward,\n"
    )
    summary = ingest_file(factory, f, "bob", LA)
    assert summary.format == "gbconnect CSV"
    assert (summary.usage_points, summary.meter_readings, summary.readings) == (2, 3, 4)
    got = readings(factory)
    assert got[(0, 1)] == [(1714521600, 900, 250), (1714522500, 900, 125)]
    assert got[(0, 19)] == [(1714521600, 900, 500)]
    assert got[(1, 1)] == [(1714546800, 86400, 1234)]  # therms x 10^-3


def pge_file(rows: list[str], unit: str = "USAGE (kWh)") -> str:
    return (
        'Name,Pat Doe\nAddress,"1 Main St, Oakland CA"\nAccount Number,1234567890\n'
        "Service,E1 Residential\n\n"
        f"TYPE,DATE,START TIME,END TIME,{unit},COST,NOTES\n" + "\n".join(rows) + "\n"
    )


def test_pge_autumn_dst_hour_appears_twice(tmp_path: Path, factory: sessionmaker[Session]) -> None:
    rows = [
        f"Electric usage,2024-11-03,{h:02d}:00,{h:02d}:59,{v},$0.10,"
        for h, v in ((0, "0.5"), (1, "1.0"), (1, "2.0"), (2, "3.0"))
    ]
    rows[2] += "Estimated"
    f = tmp_path / "pge.csv"
    f.write_text(pge_file(rows))
    summary = ingest_file(factory, f, "pat", LA)
    assert summary.format == "PG&E CSV"
    got = readings(factory)[(0, 1)]
    # 00:00 PDT = 07:00Z, 01:00 PDT = 08:00Z, 01:00 PST = 09:00Z, 02:00 PST = 10:00Z
    assert got == [
        (1730617200, 3600, 500),
        (1730620800, 3600, 1000),
        (1730624400, 3600, 2000),
        (1730628000, 3600, 3000),
    ]
    with factory() as session:
        data = session.execute(select(IntervalBlock.data)).scalar_one()
    r = blocks.decode(data)
    assert r.costs == [10000] * 4
    assert r.qualities == [(), (), (8,), ()]
    again = ingest_file(factory, f, "pat", LA)
    assert again.blocks.unchanged == 1 and again.blocks.inserted == 0


def test_pge_spring_gap_is_refused(tmp_path: Path, factory: sessionmaker[Session]) -> None:
    f = tmp_path / "pge.csv"
    f.write_text(
        pge_file(
            [
                "Electric usage,2024-03-10,01:00,01:59,1,,",
                "Electric usage,2024-03-10,02:00,02:59,1,,",
            ]
        )
    )
    with pytest.raises(IngestError) as info:
        ingest_file(factory, f, "pat", LA)
    assert "does not exist" in str(info.value) and ":8:" in str(info.value)


def test_pge_gas_daily_and_solar_variants(tmp_path: Path, factory: sessionmaker[Session]) -> None:
    gas = tmp_path / "gas.csv"
    gas.write_text(
        pge_file(["Natural gas usage,2024-01-05,00:00,23:59,2.5,$3.10,"], "USAGE (therms)").replace(
            "E1 Residential", "G1 Gas"
        )
    )
    ingest_file(factory, gas, "pat", LA)
    solar = tmp_path / "solar.csv"
    solar.write_text(
        "Name,Pat\n\nTYPE,DATE,START TIME,END TIME,IMPORT (kWh),EXPORT (kWh),COST,NOTES\n"
        "Electric usage,2024-06-01,12:00,12:14,0.0,0.75,$0.00,\n"
    )
    ingest_file(factory, solar, "pat", LA)
    got = readings(factory)
    assert got[(1, 1)] == [(1704441600, 86400, 2500)]
    assert got[(0, 19)] == [(1717268400, 900, 750)]


def test_sce_layout_with_bom_and_received_energy(
    tmp_path: Path, factory: sessionmaker[Session]
) -> None:
    f = tmp_path / "sce.csv"
    f.write_text(
        "\ufeffEnergy Usage Information\nFor location: 123 Ocean Ave\n\nEnergy Delivered\n"
        '"Data for period starting: 2020-05-01 00:00:00  for 24 hours"\n'
        "Energy consumption time period,Usage(Real energy in kilowatt-hours),Reading quality\n"
        '"2020-05-01 00:00:00 to 2020-05-01 00:15:00",0.200,Actual\n'
        '"2020-05-01 00:15:00 to 2020-05-01 00:30:00",0.300,Estimated\n'
        "\nEnergy Received\n"
        "Energy consumption time period,Usage(Real energy in kilowatt-hours),Reading quality\n"
        '"2020-05-01 12:00:00 to 2020-05-01 12:15:00",1.100,Actual\n',
        encoding="utf-8",
    )
    summary = ingest_file(factory, f, "sam", LA)
    assert summary.format == "SCE CSV"
    got = readings(factory)
    assert got[(0, 1)] == [(1588316400, 900, 200), (1588317300, 900, 300)]
    assert got[(0, 19)] == [(1588359600, 900, 1100)]


def test_sdge_layout(tmp_path: Path, factory: sessionmaker[Session]) -> None:
    head = "".join(f"Key {i},Value {i}\n" for i in range(13))
    f = tmp_path / "sdge.csv"
    f.write_text(
        head + "Meter Number,Date,Start Time,Duration,Consumption,Generation,Net\n"
        "0123,5/1/2020,12:00 AM,15,0.4,0,0.4\n"
        "0123,5/1/2020,12:15 AM,15,0.3,0.1,0.2\n"
    )
    summary = ingest_file(factory, f, "sd", LA)
    assert summary.format == "SDG&E CSV"
    got = readings(factory)
    assert got[(0, 1)] == [(1588316400, 900, 400), (1588317300, 900, 300)]
    assert got[(0, 19)] == [(1588316400, 900, 0), (1588317300, 900, 100)]


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ("usage_point,start,duration\nA,2024-01-01T00:00:00Z,900\n", "lacks column(s) value"),
        ("usage_point,start,duration,value\nA,2024-01-01T00:00:00Z,900,abc\n", "is not a number"),
        ("usage_point,start,duration,value\nA,2024-01-01T00:00:00,900,1\n", "no time zone"),
        (
            "usage_point,start,duration,value,unit\nA,2024-01-01T00:00:00Z,900,1,parsecs\n",
            "unit 'parsecs'",
        ),
        (
            "usage_point,start,duration,value\nA,2024-01-01T00:00:00Z,900,1\n"
            "A,2024-01-01T00:00:00Z,900,2\n",
            "appears twice",
        ),
        ("usage_point,start,duration,value,colour\n", "unknown column(s) colour"),
        ("when,how much\n2024,1\n", "unrecognised CSV header"),
    ],
)
def test_bad_csv_is_refused_whole(
    tmp_path: Path, factory: sessionmaker[Session], body: str, message: str
) -> None:
    f = tmp_path / "bad.csv"
    f.write_text(body)
    with pytest.raises(IngestError) as info:
        ingest_file(factory, f, "x", LA)
    assert message in str(info.value)
    with factory() as session:
        assert session.scalars(select(UsagePoint)).first() is None


def test_daily_readings_crossing_local_midnight_are_all_kept(
    tmp_path: Path, factory: sessionmaker[Session]
) -> None:
    """Daily gas readings at 08:00Z start at 01:00 local in summer and run into the next
    local day's block; none may be lost to the next block (regression)."""
    f = tmp_path / "gas.csv"
    rows = [
        f"G-1,{datetime(2024, 10, 15, 8, tzinfo=UTC) + timedelta(days=i):%Y-%m-%dT%H:%M:%SZ},"
        f"86400,{i + 1},therm"
        for i in range(40)
    ]
    f.write_text("usage_point,start,duration,value,unit\n" + "\n".join(rows) + "\n")
    summary = ingest_file(factory, f, "gas", LA)
    assert summary.readings == 40
    got = readings(factory)[(1, 1)]
    assert [v for _, _, v in got] == [1000 * (i + 1) for i in range(40)]
    again = ingest_file(factory, f, "gas", LA)
    assert again.blocks.changed is False
    assert len(readings(factory)[(1, 1)]) == 40
