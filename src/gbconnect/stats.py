"""What the store holds, in a few numbers (home page, ``gbconnect status``)."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from gbconnect.customer.models import RetailCustomer
from gbconnect.usage.models import IntervalBlock, MeterReading, UsagePoint, UsageSummary


@dataclass(frozen=True, slots=True)
class StoreCounts:
    customers: int
    usage_points: int
    electric: int
    gas: int
    meter_readings: int
    blocks: int
    readings: int
    summaries: int
    first: int | None
    last: int | None


def store_counts(session: Session) -> StoreCounts:
    def scalar(stmt: object) -> int:
        return int(session.execute(stmt).scalar_one() or 0)  # type: ignore[call-overload]

    first, last = session.execute(
        select(
            func.min(IntervalBlock.start), func.max(IntervalBlock.start + IntervalBlock.duration)
        )
    ).one()
    return StoreCounts(
        customers=scalar(select(func.count()).select_from(RetailCustomer)),
        usage_points=scalar(select(func.count()).select_from(UsagePoint)),
        electric=scalar(select(func.count()).where(UsagePoint.service_kind == 0)),
        gas=scalar(select(func.count()).where(UsagePoint.service_kind == 1)),
        meter_readings=scalar(select(func.count()).select_from(MeterReading)),
        blocks=scalar(select(func.count()).select_from(IntervalBlock)),
        readings=scalar(select(func.coalesce(func.sum(IntervalBlock.reading_count), 0))),
        summaries=scalar(select(func.count()).select_from(UsageSummary)),
        first=first,
        last=last,
    )
