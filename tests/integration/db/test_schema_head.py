"""The schema check without Alembic (gbconnect.db.current_revision, SCHEMA_HEAD), on
SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import Engine, text

from gbconnect.db import SCHEMA_HEAD, current_revision, head_revision, make_engine, migrations_head
from tests.databases import Databases


@pytest.fixture
def own(databases: Databases, db_url: str) -> Iterator[Engine]:
    """A migrated database of this test alone (it changes alembic_version)."""
    url = databases.create()
    engine = make_engine(url)
    yield engine
    engine.dispose()
    databases.drop(url)


def test_the_head_is_alembics(engine: Engine) -> None:
    assert migrations_head(engine) == SCHEMA_HEAD == head_revision(engine)


def test_a_migrated_database_is_at_the_head(engine: Engine) -> None:
    assert current_revision(engine) == SCHEMA_HEAD


def test_a_database_without_migrations_has_no_revision(own: Engine) -> None:
    with own.begin() as conn:
        conn.execute(text("DELETE FROM alembic_version"))
    assert current_revision(own) is None
    with own.begin() as conn:
        conn.execute(text("DROP TABLE alembic_version"))
    assert current_revision(own) is None


def test_several_heads_are_refused(own: Engine) -> None:
    with own.begin() as conn:
        conn.execute(text("INSERT INTO alembic_version (version_num) VALUES ('9999')"))
    with pytest.raises(RuntimeError, match="several schema heads"):
        current_revision(own)
