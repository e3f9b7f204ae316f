"""Seeded, realistic synthetic customers and meter data (``gbconnect generate``).

Profiles: residential (season, weather and time-of-day shape, weekdays against
weekends), rooftop solar with forward and reverse channels (net metering, REQ.21
FB_7/FB_8), EV charging, small commercial with demand (FB_27 peakDemand), daily gas
in therms with a winter peak (FB_10), and monthly UsageSummaries priced by a simple
time-of-use tariff with line items (FB_15/16/26). Every customer gets a Customer,
CustomerAccount, CustomerAgreement (Service ID), ServiceLocation and Meter.

The same seed gives the same data; customer i's data depends only on (seed, i).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np
from numpy.typing import NDArray
from sqlalchemy import insert, select
from sqlalchemy.orm import Session, sessionmaker

from gbconnect.customer import models as cm
from gbconnect.ingest.localtime import offsets_at, transitions
from gbconnect.ingest.owners import retail_customer
from gbconnect.ingest.series import Channel, meter_reading_for, store_channel
from gbconnect.ingest.summary import FileSummary
from gbconnect.resource import now as now_seconds
from gbconnect.usage import models as um

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
) -> GeneratorResult:
    """Generate ``opts.customers`` customers, one transaction each."""
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
                meter_reading_title="Energy delivered (Wh)",
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
    gas_days = None
    if c.gas:
        day_starts = starts[np.flatnonzero(np.diff(day_index, prepend=-1))]
        t = temp[: day_starts.size]
        therms = np.clip(0.6 + np.clip(16.0 - t, 0, None) * 0.28, 0.2, None)
        therms = therms * rng.lognormal(0, 0.15, size=therms.size) * c.size
        gas_values = np.rint(therms * 1000).astype(np.int64)  # therm x 10^-3
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
            agreement = _get_or_add(
                session,
                cm.CustomerAgreement,
                mine,
                f"generated:agreement:{i}:{kind_name}",
                customer_account_id=account.id,
                agreement_id=agreement_no,
                name=f"{kind_name.title()} service {agreement_no}",
                title=f"Service ID {agreement_no}",
                sign_date=int(starts[0]) - 86400 * int(rng.integers(30, 3000)),
                published=now,
                updated=now,
                details={"agreementId": agreement_no},
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
    summary.usage_points += len(touched)

    # Monthly bills priced by the time-of-use tariff.
    peak = (hour_grid >= PEAK_HOURS[0]) & (hour_grid < PEAK_HOURS[1])
    month_of = np.array(
        [(first_day + timedelta(days=int(d))).month for d in range(int(day_index[-1]) + 1)]
    )[day_index]
    year_of = np.array(
        [(first_day + timedelta(days=int(d))).year for d in range(int(day_index[-1]) + 1)]
    )[day_index]
    for m_start, m_end in _months(first_day, opts.days):
        sel = (month_of == m_start.month) & (year_of == m_start.year)
        if not sel.any():
            continue
        idx = np.flatnonzero(sel)
        p_start, p_end = int(starts[idx[0]]), int(starts[idx[-1]] + opts.interval)
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
        if c.profile == "commercial":
            demand_w = int(np.rint(forward[idx].max()))
            measurements["peakDemand"] = {
                "powerOfTenMultiplier": "0",
                "timeStamp": str(int(starts[idx[int(np.argmax(forward[idx]))]])),
                "uom": "38",
                "value": str(demand_w),
            }
        _get_or_add(
            session,
            um.UsageSummary,
            {"usage_point_id": agreements["electric"]},
            f"generated:bill:{i}:{p_start}",
            title=f"Bill {m_start:%B %Y}",
            billing_period_start=p_start,
            billing_period_duration=p_end - p_start,
            bill_last_period=total,
            cost_additional_last_period=_money(days_in * BASE_CHARGE_PER_DAY),
            currency=USD,
            quality_of_reading=0,
            status_timestamp=p_end,
            commodity=1,
            tariff_profile="TOU-D (4-9 pm)",
            measurements=measurements,
            line_items=items,
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
