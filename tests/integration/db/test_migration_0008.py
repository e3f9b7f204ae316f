"""Migration 0008 (guest access) agrees with the models on SQLite and PostgreSQL
and goes down and up again without losing a customer or a grant."""

from __future__ import annotations

from alembic import command
from sqlalchemy import func, inspect, select

from gbconnect.db import _alembic_config, upgrade
from gbconnect.oauth import models as om
from tests.factories.world import World
from tests.integration.db.test_migration_0005 import differences


def test_0008_agrees_and_goes_down_and_up_keeping_the_data(world: World) -> None:
    world.code_tokens()
    engine = world.factory.kw["bind"]
    assert differences(engine) == []
    command.downgrade(_alembic_config(engine), "0007")
    assert "one_time_code" not in inspect(engine).get_table_names()
    upgrade(engine)
    assert differences(engine) == []
    with world.factory() as s:
        assert s.scalar(select(func.count()).select_from(om.Authorization)) == 1
