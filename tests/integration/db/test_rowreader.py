"""The event-loop row reader (gbconnect.db.rowreader): many reads at once, each with its
own answer, on SQLite and on PostgreSQL (where reads of one loop turn share one
statement)."""

from __future__ import annotations

import asyncio
import random
from typing import Any

import pytest
from prometheus_client import REGISTRY
from sqlalchemy import create_engine, select

from gbconnect.api.usage import _BLOCK_WITH_TOKEN
from gbconnect.db import make_engine
from gbconnect.db.rowreader import DatabaseUnavailable, PostgresRowReader, make_row_reader
from gbconnect.oauth.secrets import digest
from gbconnect.usage import models as um
from tests.polling import polling_customer
from tests.serverproc import free_port


def _reads(url: str) -> list[dict[str, Any]]:
    """Parameters of block reads: good ones, a forged token, ids that do not belong."""
    token, path = polling_customer(url, 4)
    parts = path.split("/")
    sid, up, mr = int(parts[-7]), int(parts[-5]), int(parts[-3])
    engine = make_engine(url)
    with engine.connect() as conn:
        blocks = conn.scalars(select(um.IntervalBlock.id).order_by(um.IntervalBlock.start)).all()
    engine.dispose()
    good = digest(token)
    reads = [{"token_hash": good, "ib": b, "mr": mr, "up": up, "sid": sid} for b in blocks]
    reads += [
        {"token_hash": digest("forged"), "ib": blocks[0], "mr": mr, "up": up, "sid": sid},
        {"token_hash": good, "ib": blocks[0] + 1, "mr": mr, "up": up, "sid": sid},
        {"token_hash": good, "ib": blocks[1], "mr": mr + 1, "up": up, "sid": sid},
        {"token_hash": good, "ib": blocks[2], "mr": mr, "up": up, "sid": sid + 1},
    ]
    return reads


def _summary(row: Any) -> tuple[Any, ...] | None:
    return None if row is None else (row.token_id, row.id, row.start, row.data)


def _statements() -> tuple[float, float]:
    """(statements, reads) counted so far by the PostgreSQL reader."""
    count = REGISTRY.get_sample_value("gbconnect_hot_reads_per_statement_count") or 0.0
    total = REGISTRY.get_sample_value("gbconnect_hot_reads_per_statement_sum") or 0.0
    return count, total


def test_reads_at_once_each_get_their_own_row(db_url: str) -> None:
    reads = _reads(db_url)
    before = _statements()

    async def run() -> tuple[list[Any], list[Any]]:
        reader = make_row_reader(make_engine(db_url), max_size=4)
        await reader.open()
        try:
            alone = [_summary(await reader.first(_BLOCK_WITH_TOKEN, r)) for r in reads]
            mixed = reads * 20
            random.Random(7).shuffle(mixed)
            together = await asyncio.gather(*(reader.first(_BLOCK_WITH_TOKEN, r) for r in mixed))
            expected = {id(r): s for r, s in zip(reads, alone, strict=True)}
            return [expected[id(r)] for r in mixed], [_summary(row) for row in together]
        finally:
            await reader.close()

    expected, got = asyncio.run(run())
    assert got == expected
    statements, answered = (a - b for a, b in zip(_statements(), before, strict=True))
    if db_url.startswith("postgresql"):
        # Each read alone took a statement; those at once shared a few.
        assert answered == len(reads) * 21
        assert statements < len(reads) + 20
    assert sum(1 for s in expected if s is not None and s[1] is not None) == 4 * 20
    assert sum(1 for s in expected if s is None) == 20  # the forged token: no row at all
    assert sum(1 for s in expected if s is not None and s[1] is None) == 3 * 20


def test_a_read_given_up_on_leaves_the_others_alone(db_url: str) -> None:
    reads = _reads(db_url)[:4]

    async def run() -> list[Any]:
        reader = make_row_reader(make_engine(db_url), max_size=2)
        await reader.open()
        try:
            tasks = [asyncio.ensure_future(reader.first(_BLOCK_WITH_TOKEN, r)) for r in reads * 5]
            await asyncio.sleep(0)
            for t in tasks[::3]:
                t.cancel()
            done = await asyncio.gather(*tasks, return_exceptions=True)
            return [d for i, d in enumerate(done) if i % 3]
        finally:
            await reader.close()

    answers = asyncio.run(run())
    assert len(answers) == 13 and all(a is not None and a.id is not None for a in answers)


def test_every_waiting_read_learns_the_database_is_down() -> None:
    engine = create_engine(f"postgresql+psycopg://nobody@127.0.0.1:{free_port()}/none")
    params = {"token_hash": "x", "ib": 1, "mr": 2, "up": 3, "sid": 4}

    async def run() -> list[Any]:
        reader = PostgresRowReader(engine, max_size=2, timeout=0.5)
        await reader.open()
        try:
            return await asyncio.gather(
                *(reader.first(_BLOCK_WITH_TOKEN, params) for _ in range(5)),
                return_exceptions=True,
            )
        finally:
            await reader.close()

    answers = asyncio.run(run())
    assert all(isinstance(a, DatabaseUnavailable) for a in answers), answers


def test_a_closed_reader_refuses() -> None:
    reader = PostgresRowReader(create_engine("postgresql+psycopg://x@127.0.0.1:1/x"), 1)
    with pytest.raises(DatabaseUnavailable):
        asyncio.run(reader.first(_BLOCK_WITH_TOKEN, {}))


def test_rows_read_at_once_each_get_their_own_rows_in_order(db_url: str) -> None:
    """Several rows per read (gbconnect.api.rowpath.BLOCKS): reads of one loop turn
    share a statement on PostgreSQL, and each gets its own rows, ordered by start."""
    from gbconnect.api.rowpath import BLOCKS

    polling_customer(db_url, 6)
    engine = make_engine(db_url)
    with engine.connect() as conn:
        mr = conn.scalar(select(um.MeterReading.id))
        starts = list(conn.scalars(select(um.IntervalBlock.start).order_by(um.IntervalBlock.start)))
    engine.dispose()
    assert mr is not None and len(starts) >= 6
    low, high = -(1 << 62), 1 << 62
    windows = [(starts[0], starts[2]), (starts[1], starts[5]), (starts[3], starts[3]), (low, high)]
    reads = [
        {"mr": mr, "lo": lo, "hi": hi, "updated_min": low, "updated_max": high}
        for lo, hi in windows
    ] + [{"mr": mr + 1, "lo": low, "hi": high, "updated_min": low, "updated_max": high}]

    async def run() -> tuple[list[Any], list[Any], list[Any]]:
        reader = make_row_reader(make_engine(db_url), max_size=2)
        await reader.open()
        try:
            alone = [[r.start for r in await reader.all(BLOCKS, p)] for p in reads]
            mixed = reads * 5
            random.Random(3).shuffle(mixed)
            together = await asyncio.gather(*(reader.all(BLOCKS, p) for p in mixed))
            expected = {id(p): a for p, a in zip(reads, alone, strict=True)}
            got = [[r.start for r in t] for t in together]
            return alone, [expected[id(p)] for p in mixed], got
        finally:
            await reader.close()

    alone, expected, got = asyncio.run(run())
    assert got == expected
    # Blocks overlapping [lo, hi), by start; another meter reading's: none.
    assert alone == [starts[0:2], starts[1:5], [], starts, []]


def test_execute_runs_one_statement_and_commits_it(db_url: str) -> None:
    """``execute``: a statement of its own, its first column back, committed at once
    (PostgreSQL: a data-modifying WITH, as the token endpoint writes)."""
    from sqlalchemy import bindparam, func, update

    polling_customer(db_url, 1)
    engine = make_engine(db_url)
    mr = um.MeterReading.__table__
    count = select(func.count()).select_from(mr).where(mr.c.id != bindparam("not_id"))

    async def run() -> tuple[Any, Any]:
        reader = make_row_reader(engine, max_size=2)
        await reader.open()
        try:
            counted = await reader.execute(count, {"not_id": 0})
            written = None
            if db_url.startswith("postgresql"):
                renamed = (
                    update(mr).values(title=bindparam("title")).returning(mr.c.id).cte("renamed")
                )
                written = await reader.execute(
                    select(func.count()).select_from(renamed), {"title": "written"}
                )
            return counted, written
        finally:
            await reader.close()

    counted, written = asyncio.run(run())
    assert counted == 1
    if db_url.startswith("postgresql"):
        assert written == 1
        with engine.connect() as conn:
            assert conn.scalar(select(mr.c.title)) == "written"
    engine.dispose()
