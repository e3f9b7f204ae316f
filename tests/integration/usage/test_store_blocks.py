"""Storing packed blocks: idempotent re-import, newer data replacing older."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from gbconnect.ingest.owners import retail_customer
from gbconnect.usage import blocks
from gbconnect.usage.models import IntervalBlock, MeterReading, UsagePoint
from gbconnect.usage.services import PackedBlock, store_blocks

DAY = 86400


def _meter_reading(session: Session) -> int:
    owner = retail_customer(session, "alice")
    up = UsagePoint(retail_customer_id=owner.id, service_kind=0, source_key="up")
    session.add(up)
    session.flush()
    mr = MeterReading(usage_point_id=up.id, source_key="mr")
    session.add(mr)
    session.flush()
    return int(mr.id)


def _day(day: int, value: int, step: int = 3600) -> PackedBlock:
    n = DAY // step
    r = blocks.Readings(
        starts=[day * DAY + i * step for i in range(n)], durations=[step] * n, values=[value] * n
    )
    return PackedBlock.pack(r, day * DAY, DAY)


def _stored(session: Session, mr: int) -> list[tuple[int, int, list[int | None], int, int]]:
    rows = session.execute(
        select(IntervalBlock)
        .where(IntervalBlock.meter_reading_id == mr)
        .order_by(IntervalBlock.start)
    ).scalars()
    return [
        (b.start, b.duration, blocks.decode(b.data).values, b.published, b.updated) for b in rows
    ]


def test_insert_reimport_and_replace(factory: sessionmaker[Session]) -> None:
    with factory() as session, session.begin():
        mr = _meter_reading(session)
        stats = store_blocks(session.connection(), mr, [_day(1, 5), _day(2, 6)], now=1000)
        assert (stats.inserted, stats.readings) == (2, 48)
    with factory() as session, session.begin():
        stats = store_blocks(session.connection(), mr, [_day(1, 5), _day(2, 6)], now=2000)
        assert (stats.inserted, stats.replaced, stats.unchanged) == (0, 0, 2)
        assert [row[4] for row in _stored(session, mr)] == [1000, 1000]
    with factory() as session, session.begin():
        stats = store_blocks(session.connection(), mr, [_day(2, 7)], now=3000)
        assert (stats.replaced, stats.unchanged) == (1, 0)
        rows = _stored(session, mr)
        assert rows[1][2] == [7] * 24
        assert (rows[1][3], rows[1][4]) == (1000, 3000)  # published kept, updated moved
        assert rows[0][4] == 1000
        assert session.get(MeterReading, mr).updated == 3000  # type: ignore[union-attr]


def test_newer_block_with_other_boundaries_trims_the_old(factory: sessionmaker[Session]) -> None:
    with factory() as session, session.begin():
        mr = _meter_reading(session)
        # One block covering days 10-12, then a corrected day 11 on its own.
        r = blocks.Readings(
            starts=[10 * DAY + i * 3600 for i in range(72)], durations=[3600] * 72, values=[1] * 72
        )
        store_blocks(session.connection(), mr, [PackedBlock.pack(r, 10 * DAY, 3 * DAY)], 100)
        stats = store_blocks(session.connection(), mr, [_day(11, 9)], now=200)
        assert stats.inserted == 1 and stats.trimmed == 1
        rows = _stored(session, mr)
        values = [v for row in rows for v in row[2]]
        assert len(values) == 72  # no reading lost, none doubled
        assert values.count(9) == 24 and values.count(1) == 48
        starts = [
            s
            for row in session.execute(
                select(IntervalBlock.data).where(IntervalBlock.meter_reading_id == mr)
            ).scalars()
            for s in blocks.decode(row).starts
        ]
        assert len(set(starts)) == 72


def test_store_nothing_is_a_no_op(factory: sessionmaker[Session]) -> None:
    with factory() as session, session.begin():
        mr = _meter_reading(session)
        assert not store_blocks(session.connection(), mr, [], now=1).changed


def test_reading_running_past_its_block_survives_the_next_block(
    factory: sessionmaker[Session],
) -> None:
    # Daily readings at 07:00 lasting 25 hours: each overlaps the next by an hour.
    def day(d: int) -> PackedBlock:
        r = blocks.Readings(starts=[d * DAY + 7 * 3600], durations=[25 * 3600], values=[d])
        packed = PackedBlock.pack(r, d * DAY, DAY)
        # As a caller that gives only the interval builds it.
        return PackedBlock(packed.start, packed.duration, 1, packed.data, packed.readings_end)

    with factory() as session, session.begin():
        mr = _meter_reading(session)
        stats = store_blocks(session.connection(), mr, [day(1), day(2), day(3)], now=1)
        assert stats.readings == 3 and not stats.replaced_readings
        assert [row[2] for row in _stored(session, mr)] == [[1], [2], [3]]
        stats = store_blocks(session.connection(), mr, [day(2)], now=2)  # again, alone
        assert not stats.changed and not stats.replaced_readings
        assert [row[2] for row in _stored(session, mr)] == [[1], [2], [3]]
