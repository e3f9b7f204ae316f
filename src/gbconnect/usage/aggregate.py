"""A usage point's readings summed per hour, day or month of the utility's time zone.

What the customer's "My usage" page shows, computed here and not in the browser: the
packed blocks (:mod:`gbconnect.usage.blocks`) of the usage point's interval channels
in a period are decoded as numpy columns and reduced per bucket, for the period and
for the same period a year before, with the bills (UsageSummary) of the period.

What a channel means comes from its ReadingType (REQ.21 FB_4): ``uom`` names the unit
and ``powerOfTenMultiplier`` its scale, as the CSV export reads them
(:mod:`gbconnect.api.export`): energy in Wh is shown in kWh, forward flow (1) as
electricity from the grid and reverse flow (19) as electricity sent to it (solar);
net flow (4) is their difference, left out; gas in therms or m³; demand in W is shown
in kW as the highest reading of each bucket. Register reads (accumulationBehaviour 1,
cumulative) are not consumption and are left out. When several channels measure the
same thing (15-minute and hourly energy), the finest one is used, never their sum.

A reading counts in the bucket where it starts (as the ESPI feeds select readings by
start). Buckets are local: 23 or 25 hours in the days DST begins or ends.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import cast
from zoneinfo import ZoneInfo

import numpy as np
from numpy.typing import NDArray
from sqlalchemy import Table, func, select
from sqlalchemy.orm import Session

from gbconnect.i18n import N_, ngettext
from gbconnect.i18n import gettext as _
from gbconnect.usage import blocks
from gbconnect.usage.models import IntervalBlock, MeterReading, ReadingType, UsageSummary

_ib = cast(Table, IntervalBlock.__table__)
_mr = cast(Table, MeterReading.__table__)

STEPS = ("hour", "day", "month")
#: Seconds of a step, to tell a channel read less often than the step asks.
STEP_SECONDS = {"hour": 3600, "day": 86400, "month": 28 * 86400}

#: ReadingType uom -> (unit shown, scale at powerOfTenMultiplier 0, highest not sum).
UNITS: dict[int, tuple[str, float, bool]] = {
    72: ("kWh", 1e-3, False),
    169: ("therms", 1.0, False),
    42: ("m³", 1.0, False),
    128: ("gal", 1.0, False),
    38: ("kW", 1e-3, True),
}
#: ISO 4217 numeric -> symbol shown before an amount.
#: Bill amounts are in hundred-thousandths of the currency (REQ.21 cost, Int48).
COST_SCALE = 1e-5


@dataclass(frozen=True, slots=True)
class Measure:
    """What one channel's readings are, as the page names them."""

    key: str
    label: str
    unit: str
    #: Stored value x scale = value in ``unit``.
    scale: float
    #: The highest reading of a bucket (demand), not their sum.
    peak: bool = False


def measure_of(rt: ReadingType | None) -> Measure | None:
    """The measure of readings of ReadingType ``rt``; None for what the page does not
    show (registers, net flow, unknown units)."""
    if rt is None or rt.uom not in UNITS:
        return None
    unit, scale, peak = UNITS[rt.uom]
    scale *= 10.0 ** (rt.power_of_ten_multiplier or 0)
    flow = rt.flow_direction or 1
    if peak:
        return Measure("demand", N_("Peak demand"), unit, scale, True) if flow == 1 else None
    if rt.accumulation_behaviour not in (None, 4):
        return None  # cumulative register reads, not what was used in the interval
    if rt.uom == 72:
        if flow == 1:
            return Measure("import", N_("From the grid"), unit, scale)
        if flow == 19:
            return Measure("export", N_("Sent to the grid"), unit, scale)
        return None
    if rt.uom == 128:
        return Measure("water", N_("Water used"), unit, scale)
    return Measure("gas", N_("Gas used"), unit, scale)


@dataclass(frozen=True, slots=True)
class Channel:
    """One MeterReading of the usage point and what it measures."""

    meter_reading_id: int
    measure: Measure
    #: Seconds between readings (ReadingType intervalLength); 0 when unstated.
    interval: int


#: The order measures are shown in.
ORDER = ("import", "export", "demand", "gas", "water")


def channels_of(session: Session, usage_point_id: int) -> list[Channel]:
    """The usage point's channels the page shows: one per measure, the finest."""
    rows = session.execute(
        select(MeterReading.id, ReadingType)
        .join(ReadingType, ReadingType.id == MeterReading.reading_type_id)
        .where(MeterReading.usage_point_id == usage_point_id)
        .order_by(MeterReading.id)
    ).all()
    best: dict[str, Channel] = {}
    for mr_id, rt in rows:
        measure = measure_of(rt)
        if measure is None:
            continue
        channel = Channel(mr_id, measure, int(rt.interval_length or 0))
        known = best.get(measure.key)
        if known is None or 0 < channel.interval < (known.interval or 2**62):
            best[measure.key] = channel
    return sorted(best.values(), key=lambda c: ORDER.index(c.measure.key))


def data_range(session: Session, channels: Sequence[Channel]) -> tuple[int, int] | None:
    """(first start, last end) of the stored blocks of ``channels``; None when empty."""
    if not channels:
        return None
    lo, hi = session.execute(
        select(func.min(_ib.c.start), func.max(_ib.c.start + _ib.c.duration)).where(
            _ib.c.meter_reading_id.in_([c.meter_reading_id for c in channels]),
            _ib.c.reading_count > 0,
        )
    ).one()
    return None if lo is None else (int(lo), int(hi))


# -- buckets ------------------------------------------------------------------------


def _midnight(day: date, zone: ZoneInfo) -> int:
    return int(datetime(day.year, day.month, day.day, tzinfo=zone).timestamp())


def year_before(day: date) -> date:
    """The same date a year before (28 February for a 29th)."""
    try:
        return day.replace(year=day.year - 1)
    except ValueError:
        return day.replace(year=day.year - 1, day=28)


def _edge_days(first: date, last: date, step: str) -> list[date]:
    """The local dates whose midnights bound the day or month buckets of [first, last]."""
    end = last + timedelta(days=1)
    if step == "day":
        return [first + timedelta(days=i) for i in range((end - first).days + 1)]
    days = [first]
    month = date(first.year + first.month // 12, first.month % 12 + 1, 1)
    while month < end:
        days.append(month)
        month = date(month.year + month.month // 12, month.month % 12 + 1, 1)
    days.append(end)
    return days


def bucket_edges(
    first: date, last: date, step: str, zone: ZoneInfo, shift_year: bool = False
) -> NDArray[np.int64]:
    """The n + 1 instants bounding the n buckets of local days ``first``..``last``;
    ``shift_year``: the same buckets a year before (hours: as many, from the same
    local date a year before)."""
    if step == "hour":
        start, end = _midnight(first, zone), _midnight(last + timedelta(days=1), zone)
        count = (end - start) // 3600
        if shift_year:
            start = _midnight(year_before(first), zone)
        return start + 3600 * np.arange(count + 1, dtype=np.int64)
    days = _edge_days(first, last, step)
    if shift_year:
        days = [year_before(d) for d in days]
    return np.array([_midnight(d, zone) for d in days], dtype=np.int64)


def bucket_labels(edges: NDArray[np.int64], step: str, zone: ZoneInfo) -> list[str]:
    """A label of each bucket: ``2024-03-05 14:00``, ``2024-03-05``, ``2024-03``."""
    fmt = {"hour": "%Y-%m-%d %H:%M", "day": "%Y-%m-%d", "month": "%Y-%m"}[step]
    return [datetime.fromtimestamp(int(t), zone).strftime(fmt) for t in edges[:-1]]


# -- reduction ------------------------------------------------------------------------


def reduce_channel(
    session: Session, channel: Channel, edges: NDArray[np.int64]
) -> list[float | None]:
    """The channel's readings per bucket of ``edges``, in the measure's unit: their
    sum (or the highest, for demand); None where no reading starts in a bucket."""
    n = int(edges.size) - 1
    lo, hi = int(edges[0]), int(edges[-1])
    reach = session.execute(
        select(_mr.c.max_block_duration).where(_mr.c.id == channel.meter_reading_id)
    ).scalar_one()
    datas = session.execute(
        select(_ib.c.data)
        .where(_ib.c.meter_reading_id == channel.meter_reading_id)
        .where(_ib.c.start >= lo - (reach or 0))
        .where(_ib.c.start < hi)
    ).scalars()
    parts = [blocks.decode_arrays(d) for d in datas]
    if not parts or n <= 0:
        return [None] * max(n, 0)
    starts = np.concatenate([p[0] for p in parts])
    values = np.concatenate([p[1] for p in parts])
    keep = (values != blocks.ABSENT) & (starts >= lo) & (starts < hi)
    starts, values = starts[keep], values[keep]
    where = np.searchsorted(edges, starts, side="right") - 1
    counts = np.bincount(where, minlength=n)
    if channel.measure.peak:
        out = np.full(n, np.iinfo(np.int64).min, dtype=np.int64)
        np.maximum.at(out, where, values)
        totals: NDArray[np.float64] = out.astype(np.float64)
    else:
        # Exact: integer sums stay below 2**53 (a year of 15-minute Wh is ~10**8).
        weights = values.astype(np.float64)
        totals = np.bincount(where, weights=weights, minlength=n).astype(np.float64)
    scale = channel.measure.scale
    return [float(t) * scale if c else None for t, c in zip(totals, counts, strict=True)]


@dataclass(slots=True)
class Series:
    """One measure per bucket, this period and the same buckets a year before."""

    measure: Measure
    values: list[float | None]
    last_year: list[float | None]

    @property
    def total(self) -> float | None:
        """The period's sum (demand: its highest), None without any reading."""
        return _total(self.values, self.measure.peak)

    @property
    def last_year_total(self) -> float | None:
        return _total(self.last_year, self.measure.peak)


def _total(values: list[float | None], peak: bool) -> float | None:
    present = [v for v in values if v is not None]
    if not present:
        return None
    return max(present) if peak else sum(present)


@dataclass(frozen=True, slots=True)
class Bill:
    """A UsageSummary of the period: its dates, amount and consumption."""

    title: str | None
    first: date
    last: date
    amount: float | None
    #: ISO 4217 numeric code (espi.xsd Currency; 840, US dollars, when unstated).
    currency: int
    consumption: float | None
    unit: str | None


def bills_of(session: Session, usage_point_id: int, lo: int, hi: int, zone: ZoneInfo) -> list[Bill]:
    """The bills (UsageSummary rows) whose billing period overlaps [lo, hi), by start."""
    rows = session.scalars(
        select(UsageSummary)
        .where(UsageSummary.usage_point_id == usage_point_id)
        .where(UsageSummary.billing_period_start < hi)
        .where(
            UsageSummary.billing_period_start
            + func.coalesce(UsageSummary.billing_period_duration, 0)
            > lo
        )
        .order_by(UsageSummary.billing_period_start, UsageSummary.id)
    )
    out = []
    for row in rows:
        start = row.billing_period_start or 0
        end = start + (row.billing_period_duration or 0)
        consumption, unit = _measurement(
            (row.measurements or {}).get("overallConsumptionLastPeriod")
        )
        out.append(
            Bill(
                title=row.title,
                first=datetime.fromtimestamp(start, zone).date(),
                last=datetime.fromtimestamp(max(end - 1, start), zone).date(),
                amount=None if row.bill_last_period is None else row.bill_last_period * COST_SCALE,
                currency=row.currency or 840,
                consumption=consumption,
                unit=unit,
            )
        )
    return out


def _measurement(stored: object) -> tuple[float | None, str | None]:
    """A SummaryMeasurement (value, uom, powerOfTenMultiplier as stored) in its unit."""
    if not isinstance(stored, dict):
        return None, None
    try:
        value = int(stored["value"])
        uom = int(stored.get("uom", 72))
        power = int(stored.get("powerOfTenMultiplier", 0))
    except (KeyError, TypeError, ValueError):
        return None, None
    if uom not in UNITS:
        return None, None
    unit, scale, _peak = UNITS[uom]
    return value * scale * 10.0**power, unit


@dataclass(slots=True)
class Usage:
    """What the page shows of one usage point over local days ``first``..``last``."""

    usage_point_id: int
    first: date
    last: date
    step: str
    labels: list[str]
    series: list[Series]
    bills: list[Bill]
    #: Sentences about what is not shown (a channel read less often than the step).
    notes: list[str] = field(default_factory=list)


def usage_of(
    session: Session,
    usage_point_id: int,
    first: date,
    last: date,
    step: str,
    zone: ZoneInfo,
    channels: Sequence[Channel] | None = None,
) -> Usage:
    """The usage point's channels per ``step`` over local days ``first``..``last``,
    with the same buckets a year before and the bills of the period."""
    if step not in STEPS:
        raise ValueError(f"unknown step {step!r}")
    if channels is None:
        channels = channels_of(session, usage_point_id)
    edges = bucket_edges(first, last, step, zone)
    before = bucket_edges(first, last, step, zone, shift_year=True)
    usage = Usage(usage_point_id, first, last, step, bucket_labels(edges, step, zone), [], [], [])
    for channel in channels:
        if channel.interval > STEP_SECONDS[step]:
            usage.notes.append(
                _(
                    "%(measure)s is read every %(duration)s: choose a longer step to see it.",
                    measure=_(channel.measure.label),
                    duration=_duration(channel.interval),
                )
            )
            continue
        usage.series.append(
            Series(
                channel.measure,
                reduce_channel(session, channel, edges),
                reduce_channel(session, channel, before),
            )
        )
    usage.bills = bills_of(session, usage_point_id, int(edges[0]), int(edges[-1]), zone)
    return usage


def _duration(seconds: int) -> str:
    """How often a channel is read, after "every": "day", "2 days", "hour"."""
    if seconds == 86400:
        return _("day")
    if seconds == 3600:
        return _("hour")
    if seconds % 86400 == 0:
        return ngettext("%(num)s day", "%(num)s days", seconds // 86400)
    if seconds % 3600 == 0:
        return ngettext("%(num)s hour", "%(num)s hours", seconds // 3600)
    return ngettext("%(num)s second", "%(num)s seconds", seconds)


__all__ = [
    "STEPS",
    "Bill",
    "Channel",
    "Measure",
    "Series",
    "Usage",
    "bills_of",
    "bucket_edges",
    "channels_of",
    "data_range",
    "measure_of",
    "reduce_channel",
    "usage_of",
    "year_before",
]
