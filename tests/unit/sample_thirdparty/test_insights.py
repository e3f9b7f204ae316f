"""The sample third party's insights on hand-built readings (REQ.21 FB_4/5 interval
energy, FB_7 net with flowDirection 4, FB_8 received with flowDirection 19, FB_10 gas)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import pytest

from gbconnect.sample_thirdparty.insights import (
    SELF_CONSUMPTION_NOTE,
    baseload_w,
    daily_totals,
    evening_peak,
    hours,
    insights,
    per_hour,
    solar,
)

DAY0 = 1714521600  # 2024-05-01T00:00:00Z


@dataclass(frozen=True)
class R:
    start: int
    duration: int
    value: float
    unit: str = "Wh"
    flow_direction: int | None = 1
    meter_reading: str = "mr"


def quarter_hours(wh_by_hour: list[float], start: int = DAY0, flow: int | None = 1) -> list[R]:
    """Four 15-minute readings per hour, each a quarter of the hour's Wh."""
    return [
        R(start + 3600 * h + 900 * q, 900, wh / 4, flow_direction=flow, meter_reading=f"mr{flow}")
        for h, wh in enumerate(wh_by_hour)
        for q in range(4)
    ]


def pst(_at: int) -> int:
    return -8 * 3600


def test_baseload_is_the_mean_of_the_lowest_tenth_of_hourly_demand() -> None:
    # 20 hours: two quiet ones (100 and 200 Wh) -> the lowest 10 % is those two.
    day = [100.0, 200.0] + [1000.0] * 18
    assert baseload_w(quarter_hours(day)) == pytest.approx(150.0)


def test_baseload_converts_a_partial_hour_to_demand() -> None:
    # One 15-minute reading of 50 Wh is 200 W, not 50.
    assert baseload_w([R(DAY0, 900, 50.0)]) == pytest.approx(200.0)


def test_baseload_reads_kwh_and_ignores_other_units() -> None:
    readings = [R(DAY0, 3600, 0.3, unit="kWh"), R(DAY0 + 3600, 3600, 5.0, unit="therm")]
    assert baseload_w(readings) == pytest.approx(300.0)
    assert baseload_w([R(DAY0, 3600, 5.0, unit="therm")]) is None
    assert baseload_w([]) is None


def test_daily_readings_do_not_count_as_hourly_demand() -> None:
    assert baseload_w([R(DAY0, 86400, 24000.0)]) is None
    assert daily_totals([R(DAY0, 86400, 24000.0)])[0].delivered == pytest.approx(24.0)


def test_baseload_leaves_out_exporting_net_hours() -> None:
    day = quarter_hours([-500.0, 300.0, 400.0], flow=4)
    assert baseload_w(day) == pytest.approx(300.0)


def test_baseload_leaves_out_hours_with_received_energy() -> None:
    # Solar covers the home at noon: nothing delivered, but the home still draws.
    delivered = quarter_hours([0.0, 0.0, 250.0, 400.0])
    received = quarter_hours([600.0, 100.0, 0.0, 0.0], flow=19)
    assert baseload_w(delivered + received) == pytest.approx(250.0)


def test_evening_peak_share_and_hour_on_the_local_clock() -> None:
    # 24 UTC hours; 1 kWh each except 2 kWh at 03:00 UTC = 19:00 PST.
    day = [1000.0] * 24
    day[3] = 2000.0
    got = evening_peak(quarter_hours(day), pst)
    assert got is not None
    assert got.peak_hour == 19
    # 16:00-21:00 PST are 00:00-05:00 UTC: 1+1+1+2+1 of 25 kWh.
    assert got.share == pytest.approx(6 / 25)
    assert got.total_kwh == pytest.approx(25.0)
    assert got.evening_kwh == pytest.approx(6.0)


def test_evening_peak_none_without_delivered_energy() -> None:
    assert evening_peak([]) is None
    assert evening_peak(quarter_hours([100.0], flow=19)) is None


def test_no_solar_when_nothing_is_exported() -> None:
    assert solar(quarter_hours([100.0, 200.0])) is None
    assert solar(quarter_hours([100.0, 200.0], flow=4)) is None
    assert insights(quarter_hours([100.0])).solar is None


def test_solar_from_received_energy() -> None:
    readings = quarter_hours([500.0] * 4) + quarter_hours([0.0, 0.0, 800.0, 400.0], flow=19)
    got = solar(readings)
    assert got is not None
    assert got.observed_from == "received"
    assert got.exported_kwh == pytest.approx(1.2)
    assert got.export_hour_share == pytest.approx(0.5)
    assert got.note == SELF_CONSUMPTION_NOTE and "cannot be seen" in got.note


def test_solar_from_net_readings_going_negative() -> None:
    got = solar(quarter_hours([300.0, -200.0, -600.0, 100.0], flow=4))
    assert got is not None
    assert got.observed_from == "net"
    assert got.exported_kwh == pytest.approx(0.8)
    assert got.export_hour_share == pytest.approx(0.5)


def test_hours_gather_by_local_hour() -> None:
    got = hours(quarter_hours([100.0, 200.0]), pst)
    assert [h.hour_of_day for h in got] == [16, 17]
    assert [h.seconds for h in got] == [3600, 3600]


def test_daily_totals_electric_by_local_day() -> None:
    readings = quarter_hours([1000.0] * 48) + quarter_hours([500.0], flow=19)
    got = daily_totals(readings, pst)
    # 48 UTC hours from 2024-05-01T00Z are 16:00 on 30 April to 16:00 on 2 May PST.
    assert [d.day for d in got] == [date(2024, 4, 30), date(2024, 5, 1), date(2024, 5, 2)]
    assert [d.delivered for d in got] == pytest.approx([8.0, 24.0, 16.0])
    assert got[0].received == pytest.approx(0.5)
    assert {d.unit for d in got} == {"kWh"}


def test_gas_daily_totals_in_their_own_unit() -> None:
    gas = [R(DAY0 + 86400 * i, 86400, 1.5 + i, unit="therm", flow_direction=None) for i in range(3)]
    got = daily_totals([*gas, *quarter_hours([1000.0])], gas=True)
    assert [(d.day, d.delivered, d.unit) for d in got] == [
        (date(2024, 5, 1), 1.5, "therm"),
        (date(2024, 5, 2), 2.5, "therm"),
        (date(2024, 5, 3), 3.5, "therm"),
    ]
    assert daily_totals(quarter_hours([1000.0]), gas=True) == []


def test_gas_in_mixed_units_keeps_the_main_unit() -> None:
    gas = [R(DAY0, 86400, 2.0, unit="m3"), R(DAY0, 86400, 3.0, unit="m3")]
    gas.append(R(DAY0, 86400, 1.0, unit="therm"))
    (got,) = daily_totals(gas, gas=True)
    assert (got.delivered, got.unit) == (5.0, "m3")


def test_insights_gathers_everything() -> None:
    got = insights(quarter_hours([200.0] * 24))
    assert got.baseload_w == pytest.approx(200.0)
    assert got.evening is not None and got.evening.share == pytest.approx(5 / 24)
    assert len(got.electric_days) == 1 and got.gas_days == []


def test_one_channel_of_each_kind_nothing_counted_twice() -> None:
    fine = quarter_hours([400.0, 400.0])
    coarse = [R(DAY0 + 3600 * h, 3600, 400.0, meter_reading="hourly") for h in range(2)]
    net = quarter_hours([100.0, -300.0], flow=4)
    received = quarter_hours([0.0, 700.0], flow=19)
    demand = [R(DAY0, 900, 1600.0, unit="W", meter_reading="demand")]
    got = insights([*coarse, *fine, *net, *received, *demand])
    assert got.electric_days[0].delivered == pytest.approx(0.8)
    assert got.electric_days[0].received == pytest.approx(0.7)
    assert got.solar is not None and got.solar.observed_from == "received"
    # Without delivered or received channels the net channel is what there is.
    only_net = insights(net)
    assert only_net.solar is not None and only_net.solar.observed_from == "net"


def test_per_hour_asks_once_an_hour() -> None:
    asked: list[int] = []

    def offset(at: int) -> int:
        asked.append(at)
        return -7 * 3600

    cached = per_hour(offset)
    assert [cached(DAY0 + s) for s in (0, 900, 3599, 3600)] == [-7 * 3600] * 4
    assert asked == [DAY0, DAY0 + 3600]
