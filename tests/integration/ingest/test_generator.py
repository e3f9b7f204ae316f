"""The synthetic data generator: seeded, realistic, with a full customer tree."""

from __future__ import annotations

import itertools
from datetime import date, datetime
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from gbconnect.customer import models as cm
from gbconnect.ingest.generator import GeneratorOptions, customer_profile, generate_customers
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
        # Every channel but the net one (flowDirection 4, signed) is non-negative.
        unsigned = (
            select(um.IntervalBlock.data)
            .join(um.MeterReading, um.MeterReading.id == um.IntervalBlock.meter_reading_id)
            .join(um.ReadingType, um.ReadingType.id == um.MeterReading.reading_type_id)
            .where(um.ReadingType.flow_direction != 4)
        )
        values = [v for data in session.scalars(unsigned) for v in blocks.decode(data).values]
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


# -- the blocks a real customer would have (REQ.21 section 5) ---------------------------

OPTS = GeneratorOptions(
    customers=12, days=35, interval=3600, seed=7, end=date(2024, 11, 20), zone=LA
)


def _generated(factory: sessionmaker[Session]) -> Session:
    generate_customers(factory, OPTS)
    return factory()


def _channels(session: Session, **wanted: int) -> list[tuple[um.MeterReading, um.ReadingType]]:
    stmt = select(um.MeterReading, um.ReadingType).join(
        um.ReadingType, um.ReadingType.id == um.MeterReading.reading_type_id
    )
    for column, value in wanted.items():
        stmt = stmt.where(getattr(um.ReadingType, column) == value)
    return [(mr, rt) for mr, rt in session.execute(stmt).all()]


def _values(session: Session, mr: um.MeterReading) -> blocks.Readings:
    data = session.scalars(
        select(um.IntervalBlock.data)
        .where(um.IntervalBlock.meter_reading_id == mr.id)
        .order_by(um.IntervalBlock.start)
    ).all()
    decoded = [blocks.decode(d) for d in data]
    return blocks.Readings(
        starts=[s for r in decoded for s in r.starts],
        durations=[s for r in decoded for s in r.durations],
        values=[s for r in decoded for s in r.values],
        costs=[c for r in decoded for c in (r.costs or [None] * len(r.starts))],
    )


def _profiles() -> dict[str, list[int]]:
    out: dict[str, list[int]] = {}
    for i in range(OPTS.customers):
        out.setdefault(customer_profile(OPTS, i)[0], []).append(i)
    return out


def test_every_usage_point_links_local_time_parameters(factory: sessionmaker[Session]) -> None:
    """FB_1: LocalTimeParameters, linked from every UsagePoint (America/Los_Angeles)."""
    with _generated(factory) as session:
        points = session.scalars(select(um.UsagePoint)).all()
        assert points and all(up.local_time_parameters is not None for up in points)
        ltp = points[0].local_time_parameters
        assert ltp is not None
        assert (ltp.tz_offset, ltp.dst_offset) == (-28800, 3600)
        assert (ltp.dst_start_rule, ltp.dst_end_rule) == ("360E2000", "B40E2000")


def test_tou_customers_have_interval_cost(factory: sessionmaker[Session]) -> None:
    """FB_12: the delivered readings of time-of-use (solar, EV) customers are priced."""
    with _generated(factory) as session:
        priced = 0
        for mr, rt in _channels(session, flow_direction=1, accumulation_behaviour=4, commodity=1):
            r = _values(session, mr)
            if any(c is not None for c in r.costs or ()):
                priced += 1
                assert rt.currency == 840
                # Peak (4-9 pm) at 0.45 USD/kWh, off-peak 0.30, in 10^-5 USD.
                for v, c in zip(r.values, r.costs or (), strict=True):
                    assert c in (round(v * 45), round(v * 30))  # type: ignore[operator]
        tou = len(_profiles().get("solar", [])) + len(_profiles().get("ev", []))
        assert priced == tou > 0


def test_commercial_customers_have_a_demand_channel(factory: sessionmaker[Session]) -> None:
    """FB_6: a demand ReadingType (kind 37, W) with its own MeterReading."""
    with _generated(factory) as session:
        demand = _channels(session, kind=37, uom=38)
        assert len(demand) == len(_profiles()["commercial"]) > 0
        for mr, rt in demand:
            assert rt.interval_length == OPTS.interval
            r = _values(session, mr)
            # One hour more for the autumn DST day.
            assert len(r.values) == OPTS.days * 24 + 1 and min(r.values) > 0  # type: ignore[type-var]


def test_solar_customers_have_a_net_channel(factory: sessionmaker[Session]) -> None:
    """FB_7: net metering, flowDirection 4: delivered less received, signed."""
    with _generated(factory) as session:
        net = _channels(session, flow_direction=4)
        assert len(net) == len(_profiles()["solar"]) > 0
        for mr, _rt in net:
            up = mr.usage_point_id
            by_flow = {
                rt.flow_direction: _values(session, m).values
                for m, rt in _channels(session, accumulation_behaviour=4, commodity=1)
                if m.usage_point_id == up and rt.kind == 12
            }
            assert by_flow[4] == [
                a - b  # type: ignore[operator]
                for a, b in zip(by_flow[1], by_flow[19], strict=True)
            ]
            assert min(by_flow[4]) < 0 < max(by_flow[4])  # type: ignore[type-var]


def test_electric_usage_points_have_daily_register_reads(
    factory: sessionmaker[Session],
) -> None:
    """FB_9: a cumulative register (accumulationBehaviour 1, kWh), read daily."""
    with _generated(factory) as session:
        registers = _channels(session, accumulation_behaviour=1)
        electric = session.scalars(select(um.UsagePoint).where(um.UsagePoint.service_kind == 0))
        assert {mr.usage_point_id for mr, _rt in registers} == {up.id for up in electric}
        for mr, rt in registers:
            assert (rt.uom, rt.power_of_ten_multiplier, rt.interval_length) == (72, 3, 86400)
            r = _values(session, mr)
            assert len(r.values) == OPTS.days
            assert all(a <= b for a, b in itertools.pairwise(r.values))  # type: ignore[operator]
            assert 90000 in r.durations  # the autumn DST day is 25 hours long
        # Stored one block per month: 35 days to 20 November span two months.
        count = session.execute(
            select(func.count())
            .select_from(um.IntervalBlock)
            .where(um.IntervalBlock.meter_reading_id == registers[0][0].id)
        ).scalar_one()
        assert count == 2


def test_some_usage_points_have_power_quality_summaries(factory: sessionmaker[Session]) -> None:
    """FB_17: monthly ElectricPowerQualitySummaries, commercial customers' always."""
    with _generated(factory) as session:
        rows = session.scalars(select(um.ElectricPowerQualitySummary)).all()
        assert rows and all(q.summary_interval_duration and q.mains_voltage for q in rows)
        owners = {
            up.retail_customer_id
            for up in session.scalars(
                select(um.UsagePoint).where(um.UsagePoint.id.in_({q.usage_point_id for q in rows}))
            )
        }
        commercial = session.scalars(
            select(cm.Customer.retail_customer_id).where(cm.Customer.kind == "commercialIndustrial")
        ).all()
        assert set(commercial) <= owners


def test_bills_carry_demands_and_previous_day_values(factory: sessionmaker[Session]) -> None:
    """FB_27: peak and ratchet demand (commercial), previous-day consumption (net for
    solar customers)."""
    with _generated(factory) as session:
        bills = session.scalars(select(um.UsageSummary).where(um.UsageSummary.commodity == 1))
        seen: set[str] = set()
        for bill in bills:
            m = bill.measurements or {}
            seen |= set(m)
            assert "previousDayOverallConsumption" in m
            if "peakDemand" in m:
                assert int(m["ratchetDemand"]["value"]) >= int(m["peakDemand"]["value"])
                assert (bill.details or {})["ratchetDemandPeriod"]["duration"]
        assert {"peakDemand", "ratchetDemand", "previousDayNetConsumption"} <= seen


def test_last_bill_has_bill_to_date(factory: sessionmaker[Session]) -> None:
    """FB_28: billToDate on each usage point's current (last) billing period only."""
    with _generated(factory) as session:
        bills = session.scalars(select(um.UsageSummary)).all()
        last = {}
        for b in bills:
            if b.usage_point_id not in last or b.billing_period_start > last[b.usage_point_id]:
                last[b.usage_point_id] = b.billing_period_start
        for b in bills:
            current = b.billing_period_start == last[b.usage_point_id]
            assert (b.bill_to_date is not None) == current
            if current:
                assert b.bill_to_date == b.bill_last_period


def test_agreements_have_demand_response_enrolment(factory: sessionmaker[Session]) -> None:
    """customer.xsd CustomerAgreement DemandResponseProgram: commercial customers and
    some households are enrolled."""
    with _generated(factory) as session:
        enrolled = [
            a
            for a in session.scalars(select(cm.CustomerAgreement))
            if "DemandResponseProgram" in (a.details or {})
        ]
        assert len(enrolled) >= len(_profiles()["commercial"]) > 0
        program = enrolled[0].details["DemandResponseProgram"][0]  # type: ignore[index]
        assert program["enrollmentStatus"] == "enrolled"
        assert int(program["programDate"][0]["programDate"]) >= (enrolled[0].sign_date or 0)


def test_history_of_48_months(factory: sessionmaker[Session]) -> None:
    """Four years of data (1461 days), a bill a month, every day in a block."""
    opts = GeneratorOptions(customers=1, days=1461, seed=3, end=date(2024, 12, 31), zone=LA)
    generate_customers(factory, opts)
    with factory() as session:
        first = session.scalars(select(func.min(um.IntervalBlock.start))).one()
        assert first == int(datetime(2021, 1, 1, tzinfo=LA).timestamp())
        bills = session.execute(
            select(func.count()).select_from(um.UsageSummary).where(um.UsageSummary.commodity == 1)
        ).scalar_one()
        assert bills == 48


def test_csv_export_leaves_register_reads_out(factory: sessionmaker[Session]) -> None:
    """The gbconnect CSV carries interval quantities only: a register's cumulative
    reads (FB_9) written as rows would be read back as consumption."""
    from gbconnect.api.export import export_csv

    with _generated(factory) as session:
        registers = _channels(session, accumulation_behaviour=1)
        up_id = registers[0][0].usage_point_id
        owner = session.get(um.UsagePoint, up_id).retail_customer_id  # type: ignore[union-attr]
        delta = sum(
            len(_values(session, mr).values)
            for mr, rt in _channels(session)
            if mr.usage_point_id == up_id
            and rt.accumulation_behaviour in (None, 4)
            and rt.uom in (72, 169)
        )
        lines = "".join(export_csv(session, owner, [up_id])).splitlines()
        assert len(lines) - 1 == delta  # the header, then one row per interval reading
