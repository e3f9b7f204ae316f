"""SCE net-metering and solar-plan downloads (CSV-LAYOUTS.md, SCE): delivered and
received sections, named in the column header (real files, with a non-breaking space)
or by a line of their own (older files), become two channels."""

from __future__ import annotations

from zoneinfo import ZoneInfo

import pytest

from gbconnect.ingest.csv import read_csv
from gbconnect.ingest.errors import IngestError
from gbconnect.ingest.series import Channel

LA = ZoneInfo("America/Los_Angeles")
NBSP = "\u00a0"
UNIT = "(Real energy in kilowatt-hours)"
PREAMBLE = "\ufeffEnergy Usage Information\nFor location: 123 Ocean Ave\n\n"


def header(direction: str) -> str:
    """The column header of a real download: the direction after a space and an NBSP."""
    return (
        f"Energy {NBSP}{direction} time period,Usage{NBSP}{direction}{UNIT}{UNIT},Reading quality\n"
    )


def day(date: str, values: tuple[str, str]) -> str:
    return (
        f'"Data for period starting: {date} 00:00:00  for 24 hours"\n'
        f'"{date} 00:00:00 to {date} 00:15:00",{values[0]},Actual\n'
        f'"{date} 00:15:00 to {date} 00:30:00",{values[1]},Actual\n'
    )


def by_flow(channels: list[Channel]) -> dict[int, list[tuple[int, int, int]]]:
    return {
        int(ch.reading_type["flow_direction"]): list(
            zip(ch.starts.tolist(), ch.durations.tolist(), ch.values.tolist(), strict=True)
        )
        for ch in channels
    }


EXPECTED = {
    1: [
        (1588316400, 900, 200),
        (1588317300, 900, 300),
        (1588402800, 900, 400),
        (1588403700, 900, 500),
    ],
    19: [
        (1588316400, 900, 0),
        (1588317300, 900, 100),
        (1588402800, 900, 700),
        (1588403700, 900, 800),
    ],
}


def real_download() -> bytes:
    """Each day's delivered block, then its received block, both from 00:00."""
    body = PREAMBLE
    for date, delivered, received in (
        ("2020-05-01", ("0.200", "0.300"), ("0.000", "0.100")),
        ("2020-05-02", ("0.400", "0.500"), ("0.700", "0.800")),
    ):
        body += header("Delivered") + day(date, delivered)
        body += header("Received") + day(date, received)
    return body.encode("utf-8")


@pytest.mark.parametrize("fast", [True, False])
def test_sce_direction_named_in_column_header_with_nbsp(fast: bool) -> None:
    data = real_download()
    assert b"\xc2\xa0Received time period" in data
    layout, channels = read_csv("sce.csv", data.decode("utf-8"), LA, fast)
    assert layout == "SCE CSV"
    assert by_flow(channels) == EXPECTED


@pytest.mark.parametrize("fast", [True, False])
def test_sce_direction_named_by_standalone_lines(fast: bool) -> None:
    plain = "Energy consumption time period,Usage(Real energy in kilowatt-hours),Reading quality\n"
    body = PREAMBLE + "Energy Delivered\n"
    body += plain + day("2020-05-01", ("0.200", "0.300"))
    body += plain + day("2020-05-02", ("0.400", "0.500"))
    body += "\nEnergy Received\n"
    body += plain + day("2020-05-01", ("0.000", "0.100"))
    body += plain + day("2020-05-02", ("0.700", "0.800"))
    _, channels = read_csv("sce.csv", body, LA, fast)
    assert by_flow(channels) == EXPECTED


def test_sce_sections_that_cannot_be_told_apart_are_refused() -> None:
    plain = "Energy consumption time period,Usage(Real energy in kilowatt-hours),Reading quality\n"
    body = PREAMBLE + plain + day("2020-05-01", ("0.200", "0.300"))
    body += plain + day("2020-05-01", ("0.000", "0.100"))
    with pytest.raises(IngestError) as caught:
        read_csv("sce.csv", body, LA)
    assert caught.value.line == 10  # the first repeated row
    assert "cannot be told apart" in caught.value.message
    assert "2020-05-01 00:00:00 to 2020-05-01 00:15:00" in caught.value.message


def test_sce_autumn_repeated_hour_in_one_section_is_not_two_sections() -> None:
    plain = "Energy consumption time period,Usage(Real energy in kilowatt-hours),Reading quality\n"
    rows = (
        '"2020-11-01 00:45:00 to 2020-11-01 01:00:00",0.100,Actual\n'
        '"2020-11-01 01:00:00 to 2020-11-01 01:15:00",0.100,Actual\n'
        '"2020-11-01 01:00:00 to 2020-11-01 01:15:00",0.100,Actual\n'
    )
    body = PREAMBLE + '"Data for period starting: 2020-11-01 00:00:00  for 25 hours"\n'
    body += plain + rows
    _, channels = read_csv("sce.csv", body, LA, False)
    (ch,) = channels
    assert ch.starts.tolist() == [1604216700, 1604217600, 1604221200]
