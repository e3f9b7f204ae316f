"""Migration 0005: the batch_package table agrees with its model (Alembic's
autogenerate comparison finds nothing to do) on SQLite and PostgreSQL, and goes down
and up again."""

from __future__ import annotations

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Engine, inspect

from gbconnect import models  # noqa: F401  (registers every table)
from gbconnect.db import Base, _alembic_config, current_revision, head_revision, upgrade


def differences(engine: Engine) -> list[object]:
    with engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        return list(compare_metadata(context, Base.metadata))


def test_the_model_and_the_migration_agree(engine: Engine) -> None:
    assert current_revision(engine) == head_revision(engine)
    assert differences(engine) == []


def test_0005_goes_down_and_up(engine: Engine) -> None:
    command.downgrade(_alembic_config(engine), "0004")
    assert "batch_package" not in inspect(engine).get_table_names()
    upgrade(engine)
    assert "batch_package" in inspect(engine).get_table_names()
    assert differences(engine) == []
