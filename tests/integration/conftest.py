"""The world of the OAuth and API tests (tests.factories.world) on each database."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from tests.databases import Databases
from tests.factories.app import app_client, make_settings
from tests.factories.world import World, store_world


@pytest.fixture
def world(
    databases: Databases, db_url: str, engine: Engine, factory: sessionmaker[Session]
) -> Iterator[World]:
    """The world on a database of the test's own (a copy of the world stored once per
    database kind), with the application serving it."""
    seed = databases.template("world", store_world)
    settings = make_settings(db_url)
    with app_client(settings, engine) as client:
        yield World.of(seed, client, settings, factory)
