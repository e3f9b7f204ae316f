"""Usage data of a customer: interval readings (ESPI UsagePoint, MeterReading,
ReadingType, IntervalBlock; REQ.21 FB_4/FB_13/FB_14), a bill (UsageSummary, FB_15/FB_51),
a power-quality summary (FB_5), LocalTimeParameters (FB_3) and a usage point without
readings."""

from __future__ import annotations

import time
from zoneinfo import ZoneInfo

import numpy as np
from sqlalchemy import select
from sqlalchemy.orm import Session

from gbconnect.customer.models import RetailCustomer
from gbconnect.ingest.series import Channel, store_channel
from gbconnect.ingest.summary import FileSummary
from gbconnect.usage import models as um
from gbconnect.usage.models import UsagePoint
from tests.factories.records import add_customer_records

#: Day (UTC midnight) after the last reading of the stored data: today.
TODAY = (int(time.time()) // 86400) * 86400
#: Days of data a customer gets unless told otherwise.
DAYS = 45
ZONE = ZoneInfo("America/Los_Angeles")

#: The electricity ReadingType: 15-minute delivered energy in Wh, with cost in USD.
ELECTRIC = {
    "accumulation_behaviour": 4,
    "commodity": 1,
    "flow_direction": 1,
    "interval_length": 900,
    "kind": 12,
    "uom": 72,
    "power_of_ten_multiplier": 0,
    "currency": 840,
    "phase": 769,
}
#: The gas ReadingType: daily volume in m³ × 10⁻³.
GAS = {
    "accumulation_behaviour": 4,
    "commodity": 7,
    "flow_direction": 1,
    "interval_length": 86400,
    "kind": 12,
    "uom": 169,
    "power_of_ten_multiplier": -3,
}


def electric_channel(key: str, days: int = DAYS, today: int = TODAY) -> Channel:
    """``days`` of 15-minute electricity with cost, ending at ``today``."""
    start = today - days * 86400
    n = days * 96
    return Channel(
        usage_point_key=key,
        usage_point_title="Home electric",
        service_kind=0,
        reading_type=ELECTRIC,
        starts=start + 900 * np.arange(n, dtype=np.int64),
        durations=np.full(n, 900, dtype=np.int64),
        values=(np.arange(n, dtype=np.int64) % 500) + 100,
        costs=(np.arange(n, dtype=np.int64) % 50) * 100,
    )


def gas_channel(key: str, days: int = DAYS, today: int = TODAY) -> Channel:
    """``days`` of daily gas readings (08:00 UTC each day), ending at ``today``."""
    start = today - days * 86400
    return Channel(
        usage_point_key=key,
        usage_point_title="Home gas",
        service_kind=1,
        reading_type=GAS,
        starts=start + 86400 * np.arange(days, dtype=np.int64) + 8 * 3600,
        durations=np.full(days, 86400, dtype=np.int64),
        values=np.full(days, 2500, dtype=np.int64),
    )


def usage_points(session: Session, owner: RetailCustomer) -> list[UsagePoint]:
    """The customer's usage points, electricity first (by ServiceCategory kind)."""
    return list(
        session.scalars(
            select(UsagePoint)
            .where(UsagePoint.retail_customer_id == owner.id)
            .order_by(UsagePoint.service_kind)
        )
    )


def store_usage(
    session: Session, owner: RetailCustomer, days: int = DAYS, today: int = TODAY
) -> list[int]:
    """A customer's data: ``days`` of 15-minute electricity with cost, daily gas, a bill,
    a power-quality summary and LocalTimeParameters, with customer.xsd records for the
    electric point; returns the usage point ids (electricity, gas)."""
    summary = FileSummary("world", "test")
    prefix = owner.username
    for ch in (
        electric_channel(f"{prefix}-electric", days, today),
        gas_channel(f"{prefix}-gas", days, today),
    ):
        store_channel(session, owner, ch, ZONE, summary, today)
    ups = usage_points(session, owner)
    ltp = um.LocalTimeParameters(
        retail_customer_id=owner.id,
        dst_end_rule="B40E2000",
        dst_offset=3600,
        dst_start_rule="360E2000",
        tz_offset=-28800,
    )
    session.add(ltp)
    session.flush()
    for up in ups:
        up.local_time_parameters_id = ltp.id
    add_bill(session, ups[0].id, today)
    add_power_quality(session, ups[0].id, today)
    session.flush()
    add_customer_records(session, owner.id, ups[0].id)
    return [up.id for up in ups]


def add_bill(session: Session, up_id: int, today: int = TODAY) -> um.UsageSummary:
    """A 30-day UsageSummary ending at ``today``: $8,812 for 612 kWh (FB_15/FB_51)."""
    bill = um.UsageSummary(
        usage_point_id=up_id,
        billing_period_start=today - 30 * 86400,
        billing_period_duration=30 * 86400,
        bill_last_period=8_812_000,
        currency=840,
        status_timestamp=today,
        measurements={
            "overallConsumptionLastPeriod": {
                "powerOfTenMultiplier": "0",
                "uom": "72",
                "value": "612000",
            }
        },
        line_items=[{"amount": "8812000", "note": "Energy charges", "itemKind": "1"}],
    )
    session.add(bill)
    return bill


def add_power_quality(
    session: Session, up_id: int, today: int = TODAY
) -> um.ElectricPowerQualitySummary:
    """One day's ElectricPowerQualitySummary before ``today`` (FB_5)."""
    pq = um.ElectricPowerQualitySummary(
        usage_point_id=up_id,
        summary_interval_start=today - 86400,
        summary_interval_duration=86400,
        mains_voltage=240,
    )
    session.add(pq)
    return pq


def empty_usage_point(session: Session, owner: RetailCustomer, title: str) -> UsagePoint:
    """An electricity usage point without readings."""
    up = UsagePoint(retail_customer_id=owner.id, service_kind=0, status=1, title=title)
    session.add(up)
    session.flush()
    return up
