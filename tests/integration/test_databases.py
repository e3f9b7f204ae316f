"""Each test's database is a copy of a template that the test may change at will:
neither the template nor another copy sees the change (SQLite and PostgreSQL)."""

from __future__ import annotations

from sqlalchemy import delete, func, select

from gbconnect.db import make_engine, make_sessionmaker
from gbconnect.usage.models import IntervalBlock, UsagePoint
from tests.databases import Databases
from tests.factories.world import store_world


def _counts(url: str) -> tuple[int, int]:
    engine = make_engine(url)
    try:
        with make_sessionmaker(engine)() as session:
            points = session.scalar(select(func.count()).select_from(UsagePoint))
            blocks = session.scalar(select(func.count()).select_from(IntervalBlock))
            return int(points or 0), int(blocks or 0)
    finally:
        engine.dispose()


def test_copies_are_independent(databases: Databases) -> None:
    seed = databases.template("world", store_world)
    assert databases.template("world", store_world) is seed  # built once
    first, second = databases.create("world"), databases.create("world")
    try:
        stored = _counts(first)
        assert stored[0] == len(seed.alice_points) + len(seed.bob_points) and stored[1] > 0
        engine = make_engine(first)
        with make_sessionmaker(engine)() as session, session.begin():
            session.execute(delete(IntervalBlock))
        engine.dispose()
        assert _counts(first) == (stored[0], 0)
        assert _counts(second) == stored
        third = databases.create("world")
        assert _counts(third) == stored
        databases.drop(third)
        for empty in (databases.create(), databases.empty()):
            assert _counts(empty) == (0, 0)
            databases.drop(empty)
    finally:
        databases.drop(first)
        databases.drop(second)
