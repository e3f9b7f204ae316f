"""Seeded, realistic synthetic customers and meter data (``gbconnect generate``).

Profiles: residential (season, weather and time-of-day shape, weekdays against
weekends), rooftop solar with forward, reverse and net channels (REQ.21 FB_8, FB_7
flowDirection 4), EV charging, small commercial with a demand channel (FB_6: kind 37,
W) and peak and ratchet demand on its bills (FB_27), daily gas in therms with a winter
peak (FB_10), and monthly UsageSummaries priced by a simple time-of-use tariff with
line items (FB_15/16/26), the previous day's consumption (FB_27) and the bill to date
of the last period (FB_28). Solar and EV customers are on a time-of-use rate whose
price is on every delivered interval (FB_12). Every electric usage point has daily
register reads (FB_9: accumulationBehaviour 1, kWh); commercial and some residential
points have monthly ElectricPowerQualitySummaries (FB_17); every usage point links
to the customer's LocalTimeParameters (FB_1). Every customer gets a Customer,
CustomerAccount, CustomerAgreement (Service ID; commercial and some residential
agreements with a DemandResponseProgram enrolment), ServiceLocation and Meter.
History runs to any length ``--days`` allows (48 months and beyond).

The same seed gives the same data; customer i's data depends only on (seed, i).
"""

from __future__ import annotations

import calendar
import itertools
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from functools import lru_cache
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np
from numpy.typing import NDArray
from sqlalchemy import insert, select
from sqlalchemy.orm import Session, sessionmaker

from gbconnect.audit import Actor
from gbconnect.customer import models as cm
from gbconnect.ingest.localtime import local_day_starts, offsets_at, transitions
from gbconnect.ingest.owners import retail_customer
from gbconnect.ingest.runs import GENERATOR, tracked
from gbconnect.ingest.series import Channel, meter_reading_for, store_channel
from gbconnect.ingest.summary import FileSummary
from gbconnect.notify.events import NewData
from gbconnect.notify.outbox import publish
from gbconnect.resource import now as now_seconds
from gbconnect.usage import blocks as codec
from gbconnect.usage import models as um
from gbconnect.usage.services import PackedBlock, store_blocks

F64 = NDArray[np.float64]

FIRST = [
    "Ana",
    "Ben",
    "Carmen",
    "Dev",
    "Elena",
    "Farid",
    "Grace",
    "Hiro",
    "Isabel",
    "Jamal",
    "Kim",
    "Luis",
    "Maya",
    "Noah",
    "Olga",
    "Priya",
    "Quinn",
    "Rosa",
    "Sam",
    "Tariq",
]
LAST = [
    "Alvarez",
    "Brooks",
    "Chen",
    "Diaz",
    "Evans",
    "Fischer",
    "Garcia",
    "Huang",
    "Ito",
    "Johnson",
    "Khan",
    "Lopez",
    "Miller",
    "Nguyen",
    "Okafor",
    "Patel",
    "Reyes",
    "Smith",
]
STREETS = [
    "Oak St",
    "Mission Blvd",
    "Cedar Ave",
    "Harbor Way",
    "Sunset Dr",
    "Elm St",
    "Valley Rd",
    "Bay St",
    "Pine Ct",
    "Lakeview Ave",
]
CITIES = [
    ("Oakland", "94607"),
    ("San Jose", "95112"),
    ("Fresno", "93721"),
    ("Sacramento", "95814"),
    ("Santa Rosa", "95404"),
    ("Bakersfield", "93301"),
]

# Time-of-use tariff (US cents per kWh, hundred-thousandths of USD in ESPI).
PEAK_HOURS = (16, 21)
PEAK_PRICE = 0.45
OFF_PEAK_PRICE = 0.30
EXPORT_CREDIT = 0.08
BASE_CHARGE_PER_DAY = 0.40
GAS_PRICE = 2.10
USD = 840

#: Demand response programs (customer.xsd DemandResponseProgram), by customer kind.
DR_PROGRAMS = {
    "commercial": ("Capacity Bidding Program", "https://example.com/programs/cbp"),
    "residential": ("SmartAC", "https://example.com/programs/smartac"),
}


@dataclass(frozen=True)
class GeneratorOptions:
    customers: int
    days: int
    interval: int = 900
    seed: int = 1
    end: date | None = None  # last day (default: yesterday, local)
    zone: ZoneInfo = field(default_factory=lambda: ZoneInfo("America/Los_Angeles"))
    first_index: int = 0


@dataclass
class GeneratorResult:
    customers: int = 0
    summary: FileSummary = field(default_factory=lambda: FileSummary("generator", "synthetic"))

    def line(self) -> str:
        s = self.summary
        return (
            f"generated {self.customers} customer(s): {s.usage_points} usage point(s), "
            f"{s.meter_readings} meter reading(s), {s.readings:,} reading(s), "
            f"{s.summaries} billing summar{'y' if s.summaries == 1 else 'ies'}"
        )


def _local_hours(
    starts: NDArray[np.int64], zone: ZoneInfo
) -> tuple[F64, NDArray[np.int64], NDArray[np.int64]]:
    table = transitions(zone, int(starts[0]), int(starts[-1]))
    local = starts + offsets_at(starts, table)
    hour = (local % 86400) / 3600.0
    day = local // 86400
    weekday = (day + 3) % 7  # 1970-01-01 was a Thursday: Monday = 0
    return hour, day, weekday


def _bump(hour: F64, center: float | NDArray[np.floating[Any]], width: float) -> F64:
    d = np.minimum(np.abs(hour - center), 24 - np.abs(hour - center))
    result: F64 = np.exp(-0.5 * (d / width) ** 2)
    return result


class _Customer:
    def __init__(self, opts: GeneratorOptions, index: int) -> None:
        self.opts = opts
        self.index = index
        self.rng = np.random.default_rng([opts.seed, index])
        r = self.rng.random()
        self.profile = (
            "commercial"
            if r < 0.10
            else "solar"
            if r < 0.25
            else "ev"
            if r < 0.40
            else "residential"
        )
        self.gas = self.profile != "commercial" and self.rng.random() < 0.6
        self.size = float(self.rng.uniform(0.7, 1.5))
        # Features drawn from a stream of their own, so that the data above stays the
        # same for a seed.
        self.extra = np.random.default_rng([opts.seed, index, 1])
        #: On a time-of-use rate whose price is on each delivered interval (FB_12).
        self.tou_cost = self.profile in ("solar", "ev")
        #: Monthly ElectricPowerQualitySummaries (FB_17).
        self.quality = self.profile == "commercial" or self.extra.random() < 0.4
        #: Enrolled in a demand response program.
        self.demand_response = self.profile == "commercial" or self.extra.random() < 0.25

    def electric_load(
        self, starts: NDArray[np.int64], temp: F64, day_index: NDArray[np.int64]
    ) -> F64:
        """Average power in W for each interval."""
        hour, _day, weekday = _local_hours(starts, self.opts.zone)
        weekend = weekday >= 5
        t = temp[day_index]
        cooling = np.clip(t - 24.0, 0, None) * 180.0 * _bump(hour, 17, 4)
        heating = np.clip(14.0 - t, 0, None) * 40.0
        if self.profile == "commercial":
            open_hours = (~weekend) & (hour >= 8) & (hour < 18)
            base = 2500.0 + 9000.0 * open_hours + 1500.0 * _bump(hour, 13, 3) * ~weekend
            load = base + 4 * cooling + 2 * heating
        else:
            morning = 600.0 * _bump(hour, 7.5 + weekend * 1.5, 1.2)
            evening = 1200.0 * _bump(hour, 19.0, 2.0)
            daytime = 350.0 * weekend * _bump(hour, 13, 3)
            load = 350.0 + morning + evening + daytime + cooling + heating
        noise = self.rng.lognormal(0.0, 0.25, size=starts.size)
        return np.asarray(load * noise * self.size, dtype=np.float64)

    def gas_daily(self, temp: F64) -> NDArray[np.int64]:
        """Daily gas use in thousandths of a therm for days of mean temperature ``temp``
        (degrees C): a base load plus heating below 16 C, with day-to-day noise."""
        therms = np.clip(0.6 + np.clip(16.0 - temp, 0, None) * 0.28, 0.2, None)
        therms = therms * self.rng.lognormal(0, 0.15, size=therms.size) * self.size
        return np.rint(therms * 1000).astype(np.int64)  # therm x 10^-3

    def solar(self, starts: NDArray[np.int64], doy: F64, day_index: NDArray[np.int64]) -> F64:
        hour, _d, _w = _local_hours(starts, self.opts.zone)
        season = 0.75 + 0.25 * np.cos((doy - 172) / 365.25 * 2 * np.pi)
        clouds = self.rng.uniform(0.35, 1.0, size=int(day_index.max()) + 1)[day_index]
        daylight = np.clip(np.cos((hour - 13.0) / 7.0 * np.pi / 2), 0, None) ** 1.5
        kw = float(self.rng.uniform(4.0, 7.5))
        return np.asarray(kw * 1000.0 * daylight * season * clouds, dtype=np.float64)

    def ev(self, starts: NDArray[np.int64], day_index: NDArray[np.int64]) -> F64:
        hour, _d, _w = _local_hours(starts, self.opts.zone)
        n_days = int(day_index.max()) + 1
        charging_day = self.rng.random(n_days) < 0.45
        begin = self.rng.uniform(21.0, 23.5, size=n_days)
        length = self.rng.uniform(1.5, 4.0, size=n_days)
        h = np.where(hour < 12, hour + 24, hour)
        b = begin[day_index]
        on = charging_day[day_index] & (h >= b) & (h < b + length[day_index])
        return np.asarray(on * 7200.0, dtype=np.float64)


def customer_profile(opts: GeneratorOptions, index: int) -> tuple[str, bool]:
    """Customer ``index``'s profile (residential, solar, ev, commercial) and whether it
    has gas service, without generating its data."""
    c = _Customer(opts, index)
    return c.profile, c.gas


@dataclass
class _Tagged(Channel):
    """A channel told apart from another of the same commodity, flow direction and
    interval length on its usage point (demand beside energy, a register beside
    interval data)."""

    tag: str = ""

    @property
    def key_suffix(self) -> str:
        return f"{super().key_suffix}-{self.tag}"


def _dst_rule(when: datetime, weekday: int) -> str:
    """espi.xsd DstRuleType of a transition at local wall time ``when`` (REQ.21 section
    6.3.1.5): month, operator (nth or last weekday of the month), weekday (Monday 1),
    hour and seconds, as 8 hex digits."""
    days = calendar.monthrange(when.year, when.month)[1]
    nth = (when.day - 1) // 7 + 1
    operator = 7 if nth >= 4 and when.day + 7 > days else nth + 1
    seconds = when.minute * 60 + when.second
    rule = when.month << 28 | operator << 25 | weekday << 17 | when.hour << 12 | seconds
    return f"{rule:08X}"


@lru_cache(maxsize=16)
def local_time_of(zone: ZoneInfo, year: int) -> tuple[int, int, str, str]:
    """LocalTimeParameters of ``zone`` in ``year`` (REQ.21 FB_1, espi.xsd
    TimeConfiguration): (tzOffset, dstOffset, dstStartRule, dstEndRule), the rules
    read from the zone's transitions that year; ``FFFFFFFF`` (no DST processing)
    when it keeps none."""

    def offset(t: int) -> int:
        value = datetime.fromtimestamp(t, tz=zone).utcoffset()
        return int(value.total_seconds()) if value is not None else 0

    first = int(datetime(year, 1, 1, tzinfo=UTC).timestamp())
    found: list[tuple[int, int, int]] = []  # (instant, offset before, offset after)
    before = offset(first)
    for d in range(1, 367):
        t = first + d * 86400
        after = offset(t)
        if after != before:
            lo, hi = t - 86400, t
            while hi - lo > 1:
                mid = (lo + hi) // 2
                lo, hi = (mid, hi) if offset(mid) == before else (lo, mid)
            found.append((hi, before, after))
            before = after
    if not found:
        return before, 0, "FFFFFFFF", "FFFFFFFF"
    offsets = [o for _t, a, b in found for o in (a, b)]
    standard, summer = min(offsets), max(offsets)
    rules = {}
    for instant, old, new in found:
        wall = datetime.fromtimestamp(instant + old, tz=UTC)
        rules[new > old] = _dst_rule(wall, wall.isoweekday())
    return standard, summer - standard, rules.get(True, "FFFFFFFF"), rules.get(False, "FFFFFFFF")


def _weather(rng: np.random.Generator, first_day: date, n_days: int) -> tuple[F64, F64]:
    doy = np.array(
        [(first_day + timedelta(days=i)).timetuple().tm_yday for i in range(n_days)],
        dtype=np.float64,
    )
    seasonal = 17.0 - 9.0 * np.cos((doy - 15) / 365.25 * 2 * np.pi)
    anomaly = np.zeros(n_days)
    for i in range(1, n_days):
        anomaly[i] = 0.8 * anomaly[i - 1] + rng.normal(0, 1.6)
    return seasonal + anomaly, doy


def _grid(opts: GeneratorOptions, first_day: date, n_days: int) -> NDArray[np.int64]:
    zone = opts.zone
    start = int(datetime(first_day.year, first_day.month, first_day.day, tzinfo=zone).timestamp())
    last = first_day + timedelta(days=n_days)
    end = int(datetime(last.year, last.month, last.day, tzinfo=zone).timestamp())
    return np.arange(start, end, opts.interval, dtype=np.int64)


def _electric_rt(interval: int, flow: int) -> dict[str, int]:
    return {
        "accumulation_behaviour": 4,
        "commodity": 1,
        "flow_direction": flow,
        "interval_length": interval,
        "kind": 12,
        "uom": 72,
        "power_of_ten_multiplier": 0,
        "phase": 769,
        "time_attribute": 0,
        "data_qualifier": 12,
        "default_quality": 0,
        "currency": USD,
    }


def _gas_rt() -> dict[str, int]:
    return {
        "accumulation_behaviour": 4,
        "commodity": 7,
        "flow_direction": 1,
        "interval_length": 86400,
        "kind": 12,
        "uom": 169,
        "power_of_ten_multiplier": -3,
        "phase": 0,
        "time_attribute": 0,
        "data_qualifier": 12,
        "default_quality": 0,
        "currency": USD,
    }


def _months(first_day: date, n_days: int) -> list[tuple[date, date]]:
    out = []
    d = first_day
    end = first_day + timedelta(days=n_days)
    while d < end:
        nxt = date(d.year + (d.month == 12), d.month % 12 + 1, 1)
        out.append((d, min(nxt, end)))
        d = nxt
    return out


def _register_rt(flow: int) -> dict[str, int]:
    """A daily register read in kWh (REQ.21 FB_9: accumulationBehaviour 1, bulkQuantity)."""
    return {
        "accumulation_behaviour": 1,
        "commodity": 1,
        "flow_direction": flow,
        "interval_length": 86400,
        "kind": 12,
        "uom": 72,
        "power_of_ten_multiplier": 3,
        "phase": 769,
        "time_attribute": 0,
        "data_qualifier": 12,
        "default_quality": 0,
    }


def _store_register(
    session: Session,
    owner: cm.RetailCustomer,
    ch: Channel,
    zone: ZoneInfo,
    summary: FileSummary,
    now: int,
) -> None:
    """Store daily register reads ``ch`` one block per local month (a read a day: daily
    blocks of one reading each would be a row per reading)."""
    _up, mr = meter_reading_for(session, owner, ch, now)
    day = local_day_starts(ch.starts, zone)
    local = day + offsets_at(day, transitions(zone, int(day[0]), int(day[-1])))
    months = np.array(
        [d.year * 12 + d.month for d in (datetime.fromtimestamp(int(t), UTC) for t in local)]
    )
    cuts = [0, *(np.flatnonzero(np.diff(months)) + 1).tolist(), ch.starts.size]
    packed = []
    for a, b in itertools.pairwise(cuts):
        end = int(ch.starts[b - 1] + ch.durations[b - 1])
        data = codec.encode_arrays(ch.starts[a:b], ch.durations[a:b], ch.values[a:b])
        packed.append(PackedBlock(int(ch.starts[a]), end - int(ch.starts[a]), b - a, data, end))
    summary.blocks.add(store_blocks(session.connection(), mr.id, packed, now))
    summary.readings += int(ch.starts.size)
    summary.meter_readings += 1


def _dr_program(c: _Customer, sign_date: int, first: int) -> dict[str, object]:
    """A demand response program enrolment (customer.xsd DemandResponseProgram on the
    CustomerAgreement; PG&E shares it with the account data)."""
    name, uri = DR_PROGRAMS["commercial" if c.profile == "commercial" else "residential"]
    enrolled = sign_date + 86400 * int(c.extra.integers(0, max(1, (first - sign_date) // 86400)))
    return {
        "programName": name,
        "enrollmentStatus": "enrolled",
        "programDescription": uri,
        "programDate": [{"programDate": str(enrolled), "programDateDescription": "Enrollment"}],
    }


def _measure(wh: int, when: int) -> dict[str, str]:
    """A SummaryMeasurement of ``wh`` Wh at ``when``."""
    return {"powerOfTenMultiplier": "0", "timeStamp": str(when), "uom": "72", "value": str(wh)}


def _quality_row(
    c: _Customer, up_id: int, i: int, start: int, end: int, now: int
) -> dict[str, Any]:
    """A month's ElectricPowerQualitySummary (REQ.21 FB_17; IEC 61000-4-30 counts)."""
    x = c.extra
    return {
        "usage_point_id": up_id,
        "source_key": f"generated:quality:{i}:{start}",
        "title": "Power quality",
        "flicker_plt": int(x.integers(0, 3)),
        "flicker_pst": int(x.integers(0, 5)),
        "harmonic_voltage": int(x.integers(1, 6)),
        "long_interruptions": int(x.poisson(0.1)),
        "mains_voltage": int(np.rint(x.normal(240.0, 1.5))),
        "measurement_protocol": 1,
        "power_frequency": 60,
        "rapid_voltage_changes": int(x.poisson(1.0)),
        "short_interruptions": int(x.poisson(0.5)),
        "summary_interval_start": start,
        "summary_interval_duration": end - start,
        "supply_voltage_dips": int(x.poisson(2.0)),
        "supply_voltage_imbalance": int(x.integers(0, 3)),
        "supply_voltage_variations": int(x.poisson(1.0)),
        "temp_overvoltage": int(x.poisson(0.2)),
        "published": now,
        "updated": now,
    }


def _add_missing(
    session: Session, model: type[Any], up_id: int, rows: list[dict[str, Any]]
) -> None:
    """Insert the ``rows`` of ``model`` whose source key ``up_id`` lacks, in one statement."""
    have = set(session.scalars(select(model.source_key).where(model.usage_point_id == up_id)))
    new = [r for r in rows if r["source_key"] not in have]
    if new:
        session.execute(insert(model), new)


def _money(amount: float) -> int:
    """USD -> hundred-thousandths (REQ.21 cost units)."""
    return round(amount * 100000)


def _line(
    note: str,
    amount: float,
    kind: int,
    when: int,
    wh: int | None = None,
    unit_cost: float | None = None,
) -> dict[str, object]:
    item: dict[str, object] = {"amount": str(_money(amount)), "dateTime": str(when), "note": note}
    if wh is not None:
        item["measurement"] = {"powerOfTenMultiplier": "0", "uom": "72", "value": str(wh)}
    item["itemKind"] = str(kind)
    if unit_cost is not None:
        item["unitCost"] = str(_money(unit_cost))
    return item


def _get_or_add(
    session: Session, model: type[Any], scope: dict[str, int], source_key: str, **values: Any
) -> Any:
    """The row of ``model`` with this ``source_key`` in ``scope``, added when absent, so
    that generating the same customers again changes nothing."""
    stmt = select(model).where(model.source_key == source_key)
    for col, val in scope.items():
        stmt = stmt.where(getattr(model, col) == val)
    found = session.scalars(stmt).one_or_none()
    if found is not None:
        return found
    obj = model(source_key=source_key, **scope, **values)
    session.add(obj)
    session.flush()
    return obj


def generate_customers(
    factory: sessionmaker[Session],
    opts: GeneratorOptions,
    progress: Callable[[int, int], None] | None = None,
    actor: Actor | None = None,
) -> GeneratorResult:
    """Generate ``opts.customers`` customers, one transaction each, and keep the run in
    the import history (:func:`gbconnect.ingest.runs.tracked`)."""
    return tracked(factory, GENERATOR, None, actor, lambda: _generate(factory, opts, progress))


def _generate(
    factory: sessionmaker[Session],
    opts: GeneratorOptions,
    progress: Callable[[int, int], None] | None,
) -> GeneratorResult:
    result = GeneratorResult()
    zone = opts.zone
    end = opts.end or (datetime.now(zone).date() - timedelta(days=1))
    first_day = end - timedelta(days=opts.days - 1)
    weather_rng = np.random.default_rng([opts.seed, 10**9])
    temp, doy = _weather(weather_rng, first_day, opts.days)
    starts = _grid(opts, first_day, opts.days)
    first_local = datetime(first_day.year, first_day.month, first_day.day, tzinfo=zone)
    day_index = ((starts - int(first_local.timestamp())) // 86400).astype(np.int64)
    # Exact local day of each interval (DST days are 23 or 25 hours long).
    _h, local_day, _w = _local_hours(starts, zone)
    day_index = (local_day - local_day[0]).astype(np.int64)
    for n in range(opts.customers):
        i = opts.first_index + n
        with factory() as session, session.begin():
            _one_customer(session, opts, i, first_day, starts, day_index, temp, doy, result)
        result.customers += 1
        if progress is not None:
            progress(n + 1, opts.customers)
    return result


def _one_customer(
    session: Session,
    opts: GeneratorOptions,
    i: int,
    first_day: date,
    starts: NDArray[np.int64],
    day_index: NDArray[np.int64],
    temp: F64,
    doy: F64,
    result: GeneratorResult,
) -> None:
    c = _Customer(opts, i)
    rng = c.rng
    now = now_seconds()
    summary = result.summary
    first, last = FIRST[int(rng.integers(len(FIRST)))], LAST[int(rng.integers(len(LAST)))]
    name = (
        f"{first} {last}"
        if c.profile != "commercial"
        else f"{last} {['Bakery', 'Dental', 'Hardware', 'Cafe'][i % 4]}"
    )
    owner = retail_customer(session, f"customer{i:05d}", name)
    owner.email = f"customer{i:05d}@example.com"
    city, zip_code = CITIES[int(rng.integers(len(CITIES)))]
    street = f"{int(rng.integers(100, 9999))} {STREETS[int(rng.integers(len(STREETS)))]}"
    address = f"{street}, {city}, CA {zip_code}"
    kind = "commercialIndustrial" if c.profile == "commercial" else "residential"
    mine = {"retail_customer_id": owner.id}
    customer = _get_or_add(
        session,
        cm.Customer,
        mine,
        f"generated:customer:{i}",
        kind=kind,
        name=name,
        title=name,
        published=now,
        updated=now,
        details={"kind": kind, "customerName": name},
    )
    account_no = f"{int(rng.integers(10**9, 10**10))}"
    account = _get_or_add(
        session,
        cm.CustomerAccount,
        mine,
        f"generated:account:{i}",
        customer_id=customer.id,
        account_id=account_no,
        title=f"Account {account_no}",
        published=now,
        updated=now,
        details={"accountId": account_no, "billingCycle": str(1 + i % 21)},
    )
    location = _get_or_add(
        session,
        cm.ServiceLocation,
        mine,
        f"generated:location:{i}",
        address=address,
        title=address,
        published=now,
        updated=now,
        details={
            "mainAddress": {
                "streetDetail": {"addressGeneral": street},
                "townDetail": {"name": city, "stateOrProvince": "CA", "code": zip_code},
            }
        },
    )

    hour_grid = _local_hours(starts, opts.zone)[0]
    load_w = c.electric_load(starts, temp, day_index)
    channels: list[tuple[str, Channel]] = []
    elec_key = f"generated:{i}:electric"
    forward = load_w
    reverse = None
    if c.profile == "solar":
        pv = c.solar(starts, doy[day_index], day_index)
        forward = np.clip(load_w - pv, 0, None)
        reverse = np.clip(pv - load_w, 0, None)
    if c.profile == "ev":
        forward = load_w + c.ev(starts, day_index)
    to_wh = opts.interval / 3600.0
    fwd_wh = np.rint(forward * to_wh).astype(np.int64)
    durations = np.full(starts.size, opts.interval, dtype=np.int64)
    peak = (hour_grid >= PEAK_HOURS[0]) & (hour_grid < PEAK_HOURS[1])
    costs = None
    if c.tou_cost:
        # Wh x USD/kWh x 100 = hundred-thousandths of USD (REQ.21 FB_12 cost).
        costs = np.rint(fwd_wh * np.where(peak, PEAK_PRICE, OFF_PEAK_PRICE) * 100)
        costs = costs.astype(np.int64)
    elec_title = (
        "Commercial electric service"
        if c.profile == "commercial"
        else "Residential electric service"
    )
    channels.append(
        (
            "electric",
            Channel(
                elec_key,
                elec_title,
                0,
                _electric_rt(opts.interval, 1),
                starts,
                durations,
                fwd_wh,
                costs=costs,
                meter_reading_title="Energy delivered (Wh)",
            ),
        )
    )
    if c.profile == "commercial":
        demand_rt = {**_electric_rt(opts.interval, 1), "kind": 37, "uom": 38}
        demand_rt.update(accumulation_behaviour=6, data_qualifier=2)
        channels.append(
            (
                "electric",
                _Tagged(
                    elec_key,
                    elec_title,
                    0,
                    demand_rt,
                    starts,
                    durations,
                    np.rint(forward).astype(np.int64),
                    meter_reading_title="Demand (W)",
                    tag="demand",
                ),
            )
        )
    rev_wh = None
    if reverse is not None:
        rev_wh = np.rint(reverse * to_wh).astype(np.int64)
        channels.append(
            (
                "electric",
                Channel(
                    elec_key,
                    elec_title,
                    0,
                    _electric_rt(opts.interval, 19),
                    starts,
                    durations,
                    rev_wh,
                    meter_reading_title="Energy received (Wh)",
                ),
            )
        )
        channels.append(
            (
                "electric",
                Channel(
                    elec_key,
                    elec_title,
                    0,
                    _electric_rt(opts.interval, 4),
                    starts,
                    durations,
                    fwd_wh - rev_wh,
                    meter_reading_title="Net energy (Wh)",
                ),
            )
        )
    gas_days = None
    day_first = np.flatnonzero(np.diff(day_index, prepend=-1))
    day_starts = starts[day_first]
    if c.gas:
        gas_values = c.gas_daily(temp[: day_starts.size])
        gas_durations = np.diff(np.append(day_starts, starts[-1] + opts.interval))
        gas_days = (day_starts, gas_values)
        channels.append(
            (
                "gas",
                Channel(
                    f"generated:{i}:gas",
                    "Residential gas service",
                    1,
                    _gas_rt(),
                    day_starts,
                    gas_durations,
                    gas_values,
                    meter_reading_title="Gas delivered (therms)",
                ),
            )
        )
    touched: set[int] = set()
    agreements = {}
    for kind_name, ch in channels:
        store_channel(session, owner, ch, opts.zone, summary, now, touched)
        if kind_name not in agreements:
            up, _mr = meter_reading_for(session, owner, ch, now)
            agreement_no = f"{int(rng.integers(10**9, 10**10))}"
            sign_date = int(starts[0]) - 86400 * int(rng.integers(30, 3000))
            agreement_details: dict[str, Any] = {"agreementId": agreement_no}
            if kind_name == "electric" and c.demand_response:
                program = _dr_program(c, sign_date, int(starts[0]))
                agreement_details["DemandResponseProgram"] = [program]
            agreement = _get_or_add(
                session,
                cm.CustomerAgreement,
                mine,
                f"generated:agreement:{i}:{kind_name}",
                customer_account_id=account.id,
                agreement_id=agreement_no,
                name=f"{kind_name.title()} service {agreement_no}",
                title=f"Service ID {agreement_no}",
                sign_date=sign_date,
                published=now,
                updated=now,
                details=agreement_details,
            )
            link = cm.agreement_usage_point.c
            if (
                session.execute(
                    select(link.usage_point_id).where(
                        link.customer_agreement_id == agreement.id, link.usage_point_id == up.id
                    )
                ).first()
                is None
            ):
                session.execute(
                    insert(cm.agreement_usage_point).values(
                        customer_agreement_id=agreement.id, usage_point_id=up.id
                    )
                )
            if location.customer_agreement_id is None:
                location.customer_agreement_id = agreement.id
            serial = f"{'E' if kind_name == 'electric' else 'G'}{int(rng.integers(10**7, 10**8))}"
            _get_or_add(
                session,
                cm.Meter,
                mine,
                f"generated:meter:{i}:{kind_name}",
                service_location_id=location.id,
                usage_point_id=up.id,
                serial_number=serial,
                form_number="2S" if kind_name == "electric" else None,
                title=f"Meter {serial}",
                published=now,
                updated=now,
                details={"serialNumber": serial},
            )
            agreements[kind_name] = up.id
    elec_up = agreements["electric"]
    last_day = first_day + timedelta(days=opts.days - 1)
    day_ends = np.append(day_starts[1:], starts[-1] + opts.interval)
    for flow, wh in ((1, fwd_wh), (19, rev_wh)):
        if wh is not None:
            reads = np.add.reduceat(wh, day_first)
            register = _Tagged(
                elec_key,
                elec_title,
                0,
                _register_rt(flow),
                day_starts,
                day_ends - day_starts,
                (int(c.extra.integers(1000, 60000)) * 1000 + np.cumsum(reads)) // 1000,
                meter_reading_title=f"Register, energy {'delivered' if flow == 1 else 'received'}",
                tag="register",
            )
            _store_register(session, owner, register, opts.zone, summary, now)
    tz_offset, dst_offset, dst_start, dst_end = local_time_of(opts.zone, last_day.year)
    ltp = _get_or_add(
        session,
        um.LocalTimeParameters,
        mine,
        f"generated:ltp:{i}",
        title="Local time",
        tz_offset=tz_offset,
        dst_offset=dst_offset,
        dst_start_rule=dst_start,
        dst_end_rule=dst_end,
        published=now,
        updated=now,
    )
    for up in session.scalars(select(um.UsagePoint).where(um.UsagePoint.id.in_(touched))):
        up.local_time_parameters_id = ltp.id
    summary.usage_points += len(touched)
    summary.usage_point_ids.update(touched)
    publish(session, NewData(tuple(sorted(touched))))

    # Monthly bills priced by the time-of-use tariff.
    month_of = np.array(
        [(first_day + timedelta(days=int(d))).month for d in range(int(day_index[-1]) + 1)]
    )[day_index]
    year_of = np.array(
        [(first_day + timedelta(days=int(d))).year for d in range(int(day_index[-1]) + 1)]
    )[day_index]
    months = _months(first_day, opts.days)
    peaks: list[tuple[int, int]] = []  # (period start, peak demand W) of each bill
    quality: list[dict[str, Any]] = []
    for m_start, m_end in months:
        sel = (month_of == m_start.month) & (year_of == m_start.year)
        if not sel.any():
            continue
        idx = np.flatnonzero(sel)
        p_start, p_end = int(starts[idx[0]]), int(starts[idx[-1]] + opts.interval)
        current = (m_start, m_end) == months[-1]
        last_day_idx = idx[day_index[idx] == day_index[idx[-1]]]
        days_in = (m_end - m_start).days
        peak_wh = int(fwd_wh[idx][peak[idx]].sum())
        off_wh = int(fwd_wh[idx][~peak[idx]].sum())
        export_wh = int(rev_wh[idx].sum()) if rev_wh is not None else 0
        items = [
            _line(
                "Peak energy (4-9 pm)", peak_wh / 1000 * PEAK_PRICE, 1, p_end, peak_wh, PEAK_PRICE
            ),
            _line(
                "Off-peak energy", off_wh / 1000 * OFF_PEAK_PRICE, 1, p_end, off_wh, OFF_PEAK_PRICE
            ),
            _line("Base services charge", days_in * BASE_CHARGE_PER_DAY, 2, p_end),
        ]
        if export_wh:
            items.append(
                _line(
                    "Net metering credit",
                    -export_wh / 1000 * EXPORT_CREDIT,
                    1,
                    p_end,
                    export_wh,
                    -EXPORT_CREDIT,
                )
            )
        total = sum(int(str(it["amount"])) for it in items)
        measurements: dict[str, object] = {
            "overallConsumptionLastPeriod": {
                "powerOfTenMultiplier": "0",
                "timeStamp": str(p_end),
                "uom": "72",
                "value": str(peak_wh + off_wh),
            }
        }
        if current:
            measurements["currentBillingPeriodOverAllConsumption"] = {
                **measurements["overallConsumptionLastPeriod"]  # type: ignore[dict-item]
            }
        if c.profile == "commercial":
            demand_w = int(np.rint(forward[idx].max()))
            measurements["peakDemand"] = {
                "powerOfTenMultiplier": "0",
                "timeStamp": str(int(starts[idx[int(np.argmax(forward[idx]))]])),
                "uom": "38",
                "value": str(demand_w),
            }
        # The previous day's consumption as of the period's end (REQ.21 FB_27).
        day_wh = int(fwd_wh[last_day_idx].sum())
        measurements["previousDayOverallConsumption"] = _measure(day_wh, p_end)
        if rev_wh is not None:
            net = day_wh - int(rev_wh[last_day_idx].sum())
            measurements["previousDayNetConsumption"] = _measure(net, p_end)
        bill_details: dict[str, object] | None = None
        if c.profile == "commercial":
            # Ratchet demand: the highest peak of the last twelve bills (FB_27).
            peaks.append((p_start, demand_w))
            window = peaks[-12:]
            measurements["ratchetDemand"] = {
                "powerOfTenMultiplier": "0",
                "timeStamp": str(p_end),
                "uom": "38",
                "value": str(max(w for _s, w in window)),
            }
            bill_details = {
                "ratchetDemandPeriod": {
                    "duration": str(p_end - window[0][0]),
                    "start": str(window[0][0]),
                }
            }
        if c.quality:
            quality.append(_quality_row(c, elec_up, i, p_start, p_end, now))
        _get_or_add(
            session,
            um.UsageSummary,
            {"usage_point_id": elec_up},
            f"generated:bill:{i}:{p_start}",
            title=f"Bill {m_start:%B %Y}",
            billing_period_start=p_start,
            billing_period_duration=p_end - p_start,
            bill_last_period=total,
            bill_to_date=total if current else None,
            cost_additional_last_period=_money(days_in * BASE_CHARGE_PER_DAY),
            currency=USD,
            quality_of_reading=0,
            status_timestamp=p_end,
            commodity=1,
            tariff_profile="TOU-D (4-9 pm)",
            measurements=measurements,
            line_items=items,
            details=bill_details,
            published=now,
            updated=now,
        )
        summary.summaries += 1
        if gas_days is not None:
            g_starts, g_values = gas_days
            g_sel = (g_starts >= p_start) & (g_starts < p_end)
            therms_milli = int(g_values[g_sel].sum())
            cost = therms_milli / 1000 * GAS_PRICE
            _get_or_add(
                session,
                um.UsageSummary,
                {"usage_point_id": agreements["gas"]},
                f"generated:gasbill:{i}:{p_start}",
                title=f"Gas bill {m_start:%B %Y}",
                billing_period_start=p_start,
                billing_period_duration=p_end - p_start,
                bill_last_period=_money(cost),
                bill_to_date=_money(cost) if current else None,
                currency=USD,
                quality_of_reading=0,
                status_timestamp=p_end,
                commodity=7,
                tariff_profile="G-1 residential gas",
                measurements={
                    "overallConsumptionLastPeriod": {
                        "powerOfTenMultiplier": "-3",
                        "timeStamp": str(p_end),
                        "uom": "169",
                        "value": str(therms_milli),
                    }
                },
                line_items=[_line("Gas procurement and transportation", cost, 1, p_end)],
                published=now,
                updated=now,
            )
            summary.summaries += 1
    _add_missing(session, um.ElectricPowerQualitySummary, elec_up, quality)
