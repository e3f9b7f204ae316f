"""The world of the OAuth and API tests (tests.factories.world) on each database."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from tests.factories.app import app_client, make_settings
from tests.factories.world import World, build_world


@pytest.fixture
def world(db_url: str, engine: Engine, factory: sessionmaker[Session]) -> Iterator[World]:
    """The world on a database of its own, with the application serving it."""
    settings = make_settings(db_url)
    seed = build_world(factory, settings)
    with app_client(settings, engine) as client:
        yield World.of(seed, client, settings, factory)
