"""The buckets and measures of :mod:`gbconnect.usage.aggregate` (no database)."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

from gbconnect.usage.aggregate import bucket_edges, bucket_labels, measure_of, year_before
from gbconnect.usage.models import ReadingType

LA = ZoneInfo("America/Los_Angeles")


def test_local_days_of_23_and_25_hours() -> None:
    edges = bucket_edges(date(2024, 3, 9), date(2024, 3, 10), "day", LA)
    assert (edges[1:] - edges[:-1]).tolist() == [86400, 23 * 3600]
    edges = bucket_edges(date(2024, 11, 3), date(2024, 11, 3), "hour", LA)
    assert edges.size - 1 == 25
    labels = bucket_labels(edges, "hour", LA)
    assert labels[:3] == ["2024-11-03 00:00", "2024-11-03 01:00", "2024-11-03 01:00"]


def test_months_are_clipped_to_the_period() -> None:
    edges = bucket_edges(date(2024, 1, 15), date(2024, 3, 10), "month", LA)
    days = [datetime.fromtimestamp(int(t), LA).date() for t in edges]
    assert days == [date(2024, 1, 15), date(2024, 2, 1), date(2024, 3, 1), date(2024, 3, 11)]
    assert bucket_labels(edges, "month", LA) == ["2024-01", "2024-02", "2024-03"]


def test_a_year_before_keeps_the_buckets() -> None:
    assert year_before(date(2024, 2, 29)) == date(2023, 2, 28)
    now = bucket_edges(date(2024, 2, 27), date(2024, 3, 1), "day", LA)
    before = bucket_edges(date(2024, 2, 27), date(2024, 3, 1), "day", LA, shift_year=True)
    assert before.size == now.size
    # 28 and 29 February both start at 28 February 2023: the 28th is empty a year
    # before, the 29th holds the 28th (a reading counts in the last bucket it opens).
    assert before[1] == before[2]


def _rt(**columns: int) -> ReadingType:
    return ReadingType(**{"accumulation_behaviour": 4, "flow_direction": 1, **columns})


def test_measures_from_uom_and_power_of_ten() -> None:
    energy = measure_of(_rt(uom=72, power_of_ten_multiplier=3))
    assert energy is not None and (energy.key, energy.unit, energy.scale) == ("import", "kWh", 1.0)
    export = measure_of(_rt(uom=72, flow_direction=19))
    assert export is not None and export.key == "export"
    gas = measure_of(_rt(uom=169, power_of_ten_multiplier=-3))
    assert gas is not None and gas.unit == "therms" and abs(gas.scale - 1e-3) < 1e-15
    demand = measure_of(_rt(uom=38, accumulation_behaviour=6))
    assert demand is not None and demand.peak and demand.unit == "kW"
    assert measure_of(_rt(uom=72, flow_direction=4)) is None  # net: import minus export
    assert measure_of(_rt(uom=72, accumulation_behaviour=1)) is None  # a register
    assert measure_of(_rt(uom=999)) is None
    assert measure_of(None) is None
