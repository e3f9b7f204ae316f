"""The sample third party's insights: pure functions over interval readings.

What a third party can honestly say from a Connect My Data feed (REQ.21 FB_4/5 interval
energy, FB_7 net metering with flowDirection 4, FB_8 received energy with flowDirection
19, FB_10 gas), computed on the customer's local clock (the UsagePoint's
LocalTimeParameters, REQ.21 espi.xsd ``LocalTimeParameters``):

- **baseload**: the average of the lowest 10 % of hourly demand, in W. An hour's demand
  is its energy divided by the time its intervals cover (Wh x 3600 / seconds), so a
  partial hour is not mistaken for a quiet one. An hour with any export (received
  energy, or a net below zero) hides the house's own use behind the panels'
  output, so only the hours without export count.
- **evening peak**: the share of the energy delivered between 16:00 and 21:00 local
  time, and the local hour of the day with the highest average energy.
- **solar**: when the feed has received energy (flowDirection 19) or net readings going
  negative, the exported kWh and the share of hours exporting. Self-consumption (the
  solar energy used in the house) is not observable from a net meter's data alone: it
  needs the production, which the meter does not see; the export share stands in.
- **daily totals**: electricity in kWh delivered and received; gas (therm, m3, ft3) in
  its own unit.

Readings longer than an hour (daily or monthly values) feed the daily totals only.
The functions take anything shaped like :class:`gbconnect.client.Reading` (the
:class:`Interval` protocol) and a UTC-offset function (``LocalTime.utcoffset``).
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Protocol

#: flowDirection codes (REQ.21 code tables, FlowDirectionKind).
FORWARD = 1
NET = 4
REVERSE = 19
#: Local hours counted as the evening: 16:00 up to 21:00.
EVENING = range(16, 21)
#: Gas units the parser names (uom 169 therm, 42 m3, 119 ft3).
GAS_UNITS = ("therm", "m3", "ft3")
SELF_CONSUMPTION_NOTE = (
    "Self-consumption (the share of your solar energy used at home) cannot be seen in "
    "a net meter's data alone: the meter does not measure what the panels produce. "
    "The share of hours exporting is shown instead."
)

#: Seconds east of UTC at a UTC instant (``LocalTime.utcoffset``).
Offset = Callable[[int], int]


class Interval(Protocol):
    """What the insights read of a reading (:class:`gbconnect.client.Reading` fits)."""

    @property
    def meter_reading(self) -> str: ...
    @property
    def start(self) -> int: ...
    @property
    def duration(self) -> int: ...
    @property
    def value(self) -> float: ...
    @property
    def unit(self) -> str: ...
    @property
    def flow_direction(self) -> int | None: ...


def utc(_at: int) -> int:
    """The offset of UTC itself: when a UsagePoint has no LocalTimeParameters."""
    return 0


def per_hour(offset: Offset) -> Offset:
    """``offset`` computed once per UTC hour (DST changes fall on whole hours, and
    ``LocalTime.utcoffset`` works out the year's rules on each call)."""
    cache: dict[int, int] = {}

    def cached(at: int) -> int:
        hour = at - at % 3600
        found = cache.get(hour)
        if found is None:
            found = cache[hour] = offset(hour)
        return found

    return cached


def _wh(reading: Interval) -> float | None:
    """The reading's energy in Wh, or None when it is not electric energy."""
    if reading.unit == "Wh":
        return reading.value
    if reading.unit == "kWh":
        return reading.value * 1000.0
    return None


def _split(reading: Interval, wh: float) -> tuple[float, float]:
    """(delivered, received) Wh of an electric energy reading by its flowDirection:
    net readings (4) are delivered when positive and received when negative."""
    if reading.flow_direction == REVERSE:
        return 0.0, abs(wh)
    if reading.flow_direction == NET:
        return max(wh, 0.0), max(-wh, 0.0)
    return wh, 0.0


@dataclass(frozen=True)
class Hour:
    """One local clock hour: ``start`` is its wall-clock time as epoch seconds (the
    local time read as if it were UTC), the energies in Wh, ``seconds`` covered by
    delivered or net readings (a received channel beside them is not counted twice)."""

    start: int
    delivered_wh: float
    received_wh: float
    net_wh: float
    seconds: int
    has_net: bool

    @property
    def hour_of_day(self) -> int:
        return (self.start // 3600) % 24

    @property
    def demand_w(self) -> float:
        """Average demand over the covered time (W)."""
        energy = self.net_wh if self.has_net else self.delivered_wh
        return energy * 3600.0 / self.seconds if self.seconds else 0.0


def _finest(group: list[Interval]) -> tuple[int, int]:
    """Sort key of a channel: shortest typical interval first, then most readings."""
    durations = sorted(r.duration for r in group)
    return durations[len(durations) // 2], -len(group)


def channels(readings: Iterable[Interval]) -> list[Interval]:
    """One channel per kind of the same energy, so that nothing is counted twice:
    readings are grouped by MeterReading; of several electric channels of the same
    flowDirection (15-minute and hourly, say) the finest is kept, and net channels
    (4) are dropped when a delivered or received channel is there; of gas, the finest
    channel per unit. Other readings (demand in W, water, cost) are dropped."""
    groups: dict[str, list[Interval]] = defaultdict(list)
    for r in readings:
        if _wh(r) is not None or r.unit in GAS_UNITS:
            groups[r.meter_reading].append(r)
    best: dict[tuple[str, int | None], list[Interval]] = {}
    for group in groups.values():
        first = group[0]
        kind = (
            ("gas:" + first.unit, None) if first.unit in GAS_UNITS else ("wh", first.flow_direction)
        )
        if kind not in best or _finest(group) < _finest(best[kind]):
            best[kind] = group
    electric = {k[1] for k in best if k[0] == "wh"}
    if electric - {NET}:
        best.pop(("wh", NET), None)
    out = [r for group in best.values() for r in group]
    out.sort(key=lambda r: r.start)
    return out


def hours(readings: Iterable[Interval], offset: Offset = utc) -> list[Hour]:
    """Electric energy readings of at most an hour, gathered by local clock hour."""
    acc: dict[int, list[float]] = defaultdict(lambda: [0.0, 0.0, 0.0, 0.0, 0.0])
    for r in readings:
        wh = _wh(r)
        if wh is None or r.duration <= 0 or r.duration > 3600:
            continue
        local = r.start + offset(r.start)
        slot = acc[local - local % 3600]
        delivered, received = _split(r, wh)
        slot[0] += delivered
        slot[1] += received
        slot[2] += delivered - received
        if r.flow_direction != REVERSE:  # the time the home's use is measured over
            slot[3] += r.duration
        if r.flow_direction == NET:
            slot[4] = 1.0
    return [
        Hour(start, d, rec, net, int(sec), bool(has_net))
        for start, (d, rec, net, sec, has_net) in sorted(acc.items())
    ]


def baseload_w(readings: Iterable[Interval], offset: Offset = utc) -> float | None:
    """The average of the lowest 10 % (at least one) of hourly demand, in W; None
    without hourly electric data. Hours with export are left out (see the module)."""
    kept = [h for h in hours(readings, offset) if h.received_wh <= 0]
    demands = sorted(h.demand_w for h in kept if h.seconds)
    if not demands:
        return None
    lowest = demands[: max(1, math.ceil(len(demands) * 0.1))]
    return sum(lowest) / len(lowest)


@dataclass(frozen=True)
class EveningPeak:
    """``share`` of the delivered energy between 16:00 and 21:00 local time (0..1);
    ``peak_hour`` the local hour of the day (0..23) with the highest average energy."""

    share: float
    peak_hour: int
    evening_kwh: float
    total_kwh: float


def evening_peak(readings: Iterable[Interval], offset: Offset = utc) -> EveningPeak | None:
    """The evening's share of delivered energy and the peak hour; None without
    hourly electric data or when nothing was delivered."""
    by_hour: dict[int, list[float]] = defaultdict(lambda: [0.0, 0.0])
    total = evening = 0.0
    for h in hours(readings, offset):
        total += h.delivered_wh
        if h.hour_of_day in EVENING:
            evening += h.delivered_wh
        slot = by_hour[h.hour_of_day]
        slot[0] += h.delivered_wh
        slot[1] += 1
    if total <= 0:
        return None
    peak = max(by_hour, key=lambda hod: (by_hour[hod][0] / by_hour[hod][1], -hod))
    return EveningPeak(evening / total, peak, evening / 1000.0, total / 1000.0)


@dataclass(frozen=True)
class Solar:
    """Energy sent back to the grid: ``exported_kwh``, ``export_hour_share`` (0..1,
    the hours with any export among the hours with data) and what showed it:
    ``"received"`` (flowDirection 19) or ``"net"`` (net readings below zero)."""

    exported_kwh: float
    export_hour_share: float
    observed_from: str
    note: str = SELF_CONSUMPTION_NOTE


def solar(readings: Iterable[Interval], offset: Offset = utc) -> Solar | None:
    """Export seen in the feed, or None when nothing shows any (no flowDirection 19
    reading, no negative net reading)."""
    items = list(readings)
    received = any(_wh(r) is not None and r.flow_direction == REVERSE for r in items)
    negative = any((wh := _wh(r)) is not None and r.flow_direction == NET and wh < 0 for r in items)
    if not received and not negative:
        return None
    exported = 0.0
    for r in items:
        wh = _wh(r)
        if wh is not None:
            exported += _split(r, wh)[1]
    hs = hours(items, offset)
    exporting = sum(1 for h in hs if h.received_wh > 0)
    share = exporting / len(hs) if hs else 0.0
    return Solar(exported / 1000.0, share, "received" if received else "net")


@dataclass(frozen=True)
class DayTotal:
    """One local day: electricity in kWh (``delivered``, ``received``) or gas in
    ``unit`` (``delivered`` only)."""

    day: date
    delivered: float
    received: float
    unit: str


def daily_totals(
    readings: Iterable[Interval], offset: Offset = utc, *, gas: bool = False
) -> list[DayTotal]:
    """Totals per local day (by each reading's start): electricity in kWh, or with
    ``gas`` the gas readings in their unit (the most common one when several)."""
    items = list(readings)
    days: dict[date, list[float]] = defaultdict(lambda: [0.0, 0.0])
    units: dict[str, int] = defaultdict(int)
    for r in items:
        if gas:
            if r.unit not in GAS_UNITS:
                continue
            units[r.unit] += 1
            delivered, received = r.value, 0.0
        else:
            wh = _wh(r)
            if wh is None:
                continue
            delivered, received = (v / 1000.0 for v in _split(r, wh))
        local = r.start + offset(r.start)
        day = datetime.fromtimestamp(local, UTC).date()
        days[day][0] += delivered
        days[day][1] += received
    if gas:
        if not units:
            return []
        unit = max(units, key=lambda u: units[u])
        if len(units) > 1:  # mixed units are not summed together: keep the main one
            return daily_totals([r for r in items if r.unit == unit], offset, gas=True)
    else:
        unit = "kWh"
    return [DayTotal(d, v[0], v[1], unit) for d, v in sorted(days.items())]


@dataclass(frozen=True)
class Insights:
    """Everything the usage page shows for one customer."""

    baseload_w: float | None
    evening: EveningPeak | None
    solar: Solar | None
    electric_days: list[DayTotal]
    gas_days: list[DayTotal]


def insights(readings: Iterable[Interval], offset: Offset = utc) -> Insights:
    """All the insights of ``readings`` at once, on one channel of each kind
    (:func:`channels`)."""
    items = channels(readings)
    offset = per_hour(offset)
    return Insights(
        baseload_w(items, offset),
        evening_peak(items, offset),
        solar(items, offset),
        daily_totals(items, offset),
        daily_totals(items, offset, gas=True),
    )


__all__ = [
    "SELF_CONSUMPTION_NOTE",
    "DayTotal",
    "EveningPeak",
    "Hour",
    "Insights",
    "Interval",
    "Offset",
    "Solar",
    "baseload_w",
    "channels",
    "daily_totals",
    "evening_peak",
    "hours",
    "insights",
    "per_hour",
    "solar",
    "utc",
]
