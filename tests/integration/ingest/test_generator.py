"""The synthetic data generator: seeded, realistic, with a full customer tree."""

from __future__ import annotations

from datetime import date
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from gbconnect.customer import models as cm
from gbconnect.ingest.generator import GeneratorOptions, generate_customers
from gbconnect.usage import blocks
from gbconnect.usage import models as um

LA = ZoneInfo("America/Los_Angeles")


def _digest(factory: sessionmaker[Session]) -> list[tuple[int, int, bytes]]:
    with factory() as session:
        return [
            tuple(r)
            for r in session.execute(  # type: ignore[misc]
                select(
                    um.IntervalBlock.start, um.IntervalBlock.duration, um.IntervalBlock.data
                ).order_by(um.IntervalBlock.start, um.IntervalBlock.data)
            ).all()
        ]


def test_generator(factory: sessionmaker[Session]) -> None:
    opts = GeneratorOptions(
        customers=12, days=40, interval=900, seed=7, end=date(2024, 11, 20), zone=LA
    )
    result = generate_customers(factory, opts)
    assert result.customers == 12
    with factory() as session:
        count = lambda model: session.execute(  # noqa: E731
            select(func.count()).select_from(model)
        ).scalar_one()
        assert count(cm.RetailCustomer) == 12
        for model in (cm.Customer, cm.CustomerAccount, cm.ServiceLocation):
            assert count(model) == 12
        assert count(cm.CustomerAgreement) == count(um.UsagePoint)
        assert count(cm.Meter) == count(um.UsagePoint)
        assert session.execute(
            select(func.count()).select_from(cm.agreement_usage_point)
        ).scalar_one() == count(um.UsagePoint)
        kinds = set(session.scalars(select(um.UsagePoint.service_kind)))
        assert kinds == {0, 1}  # electric and gas
        flows = set(session.scalars(select(um.ReadingType.flow_direction)))
        assert {1, 19} <= flows  # net metering: forward and reverse
        # The autumn DST day (2024-11-03) is a 25-hour block of 100 quarter hours.
        dst = session.execute(
            select(um.IntervalBlock.reading_count, um.IntervalBlock.duration).where(
                um.IntervalBlock.start == 1730617200
            )
        ).all()
        assert dst and all(r == (100, 90000) for r in dst if r[0] != 1)
        bills = session.scalars(select(um.UsageSummary)).all()
        assert bills and all(b.line_items and b.bill_last_period is not None for b in bills)
        values = [
            v
            for data in session.scalars(select(um.IntervalBlock.data))
            for v in blocks.decode(data).values
        ]
        assert min(v for v in values if v is not None) >= 0
    first = _digest(factory)
    assert len(first) > 0


def test_same_seed_same_data(factory: sessionmaker[Session]) -> None:
    opts = GeneratorOptions(
        customers=2, days=3, interval=3600, seed=11, end=date(2024, 6, 3), zone=LA
    )
    generate_customers(factory, opts)
    a = _digest(factory)
    with factory() as session, session.begin():
        session.execute(um.IntervalBlock.__table__.delete())
    generate_customers(
        factory,
        GeneratorOptions(
            customers=2, days=3, interval=3600, seed=11, end=date(2024, 6, 3), zone=LA
        ),
    )
    assert _digest(factory) == a
