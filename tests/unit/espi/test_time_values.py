"""ESPI and Atom time values, including the quirks of real files."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gbconnect.espi.times import (
    TimeValueError,
    iso,
    parse_atom_time,
    parse_duration,
    parse_timestamp,
)
from gbconnect.ingest.csv.text import parse_clock, parse_dates, parse_numbers, parse_utc
from gbconnect.ingest.errors import FieldError, LocalTimeError
from gbconnect.ingest.localtime import local_day_starts, local_to_utc

LA = ZoneInfo("America/Los_Angeles")


def test_timestamps() -> None:
    assert parse_timestamp("1333252800") == 1333252800
    assert parse_timestamp(" 1333252800.0 ") == 1333252800
    assert parse_timestamp("1721154384.66136") == 1721154384  # float timestamps
    assert parse_timestamp("1333252800000") == 1333252800  # milliseconds
    for bad in ("", "abc", "nan", None):
        with pytest.raises(TimeValueError):
            parse_timestamp(bad)


def test_durations() -> None:
    assert parse_duration("900") == 900
    assert parse_duration("86400000000") == 86400000  # ms overflowing UInt32
    with pytest.raises(TimeValueError):
        parse_duration("-5")


def test_atom_times() -> None:
    assert parse_atom_time("2012-10-24T00:00:00Z") == 1351036800
    assert parse_atom_time("2024-06-21") == 1718928000  # a bare date
    assert parse_atom_time("2024-07-16T10:26:24") == 1721125584  # no zone: UTC
    assert parse_atom_time(None) is None
    with pytest.raises(TimeValueError):
        parse_atom_time("yesterday")
    assert iso(0) == "1970-01-01T00:00:00Z"


@given(st.integers(min_value=0, max_value=253402300799))
def test_iso_is_rfc3339_utc(epoch: int) -> None:
    expected = datetime.fromtimestamp(epoch, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    assert iso(epoch) == expected
    assert parse_atom_time(iso(epoch)) == epoch


def test_vectorised_fields() -> None:
    assert parse_dates(["2024-05-01", "5/2/2024"]).tolist() == [1714521600, 1714608000]
    assert parse_clock(["00:15", "23:45"]).tolist() == [900, 85500]
    assert parse_clock(["12:00 AM", "1:30 PM"]).tolist() == [0, 48600]
    assert parse_utc(["2024-05-01T00:00:00Z"]).tolist() == [1714521600]
    assert parse_utc(["2024-05-01T02:00:00+02:00", "1714521600"]).tolist() == [1714521600] * 2
    assert parse_numbers(["0.123", "1"], 1000.0, "v").tolist() == [123, 1000]
    for fn, bad in (
        (parse_dates, ["2024-02-30"]),
        (parse_clock, ["25:00"]),
        (parse_utc, ["2024-05-01T00:00:00"]),
        (parse_dates, ["soon"]),
    ):
        with pytest.raises(FieldError):
            fn(bad)
    with pytest.raises(FieldError) as info:
        parse_numbers(["1", "x"], 1.0, "value")
    assert info.value.index == 1


def test_local_times_across_dst() -> None:
    # Autumn 2024-11-03: 01:00-02:00 local happens twice (PDT, then PST).
    naive = np.array(
        [1730595600, 1730597400, 1730595600, 1730597400], dtype=np.int64
    )  # 01:00, 01:30 twice
    utc = local_to_utc(naive, LA)
    assert (utc - naive).tolist() == [7 * 3600, 7 * 3600, 8 * 3600, 8 * 3600]
    # Spring 2024-03-10 02:30 local does not exist.
    with pytest.raises(LocalTimeError):
        local_to_utc(np.array([1710037800], dtype=np.int64), LA)


def test_local_day_starts() -> None:
    # An instant on 2024-11-03 (a 25-hour day) maps to that day's local midnight.
    instant = np.array([1730620800], dtype=np.int64)  # 2024-11-03T08:00Z
    assert local_day_starts(instant, LA).tolist() == [1730617200]  # 2024-11-03T07:00Z


@settings(max_examples=200)
@given(
    st.sampled_from(
        ["America/Los_Angeles", "America/New_York", "Europe/London", "Australia/Sydney"]
    ),
    st.lists(st.integers(0, 6 * 366 * 86400 // 900), min_size=1, max_size=300, unique=True),
)
def test_local_to_utc_round_trips_increasing_instants(zone_name: str, steps: list[int]) -> None:
    """Wall-clock times written in time order read back to the same UTC instants,
    the autumn's repeated hour included (the first is daylight time, the second not)."""
    zone = ZoneInfo(zone_name)

    def wall(t: int) -> int:
        return int(datetime.fromtimestamp(t, UTC).astimezone(zone).replace(tzinfo=UTC).timestamp())

    instants = {1577836800 + s * 900 for s in steps}
    # A repeated wall time is read as its second occurrence only after its first: a
    # file that holds the autumn's second hour also holds the first.
    instants |= {t - 3600 for t in instants if wall(t - 3600) == wall(t)}
    utc = np.array(sorted(instants), dtype=np.int64)
    naive = np.array([wall(int(t)) for t in utc], dtype=np.int64)
    assert local_to_utc(naive, zone).tolist() == utc.tolist()


def test_a_lone_repeated_wall_time_is_read_as_its_first_occurrence() -> None:
    sydney = ZoneInfo("Australia/Sydney")
    # 2020-04-05 02:00 happened twice in Sydney: at 15:00Z (daylight) and at 16:00Z.
    wall = np.array([int(datetime(2020, 4, 5, 2, 0, tzinfo=UTC).timestamp())], dtype=np.int64)
    assert local_to_utc(wall, sydney).tolist() == [1586012400]
    both = np.array([wall[0], wall[0]], dtype=np.int64)
    assert local_to_utc(both, sydney).tolist() == [1586012400, 1586016000]
