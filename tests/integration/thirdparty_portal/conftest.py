"""The third-party portal's tests: the world served with its mail written to a folder
and alice made one of the utility's test customers (the connectivity test's round
trip uses her). SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest
from sqlalchemy import Engine

from gbconnect.config import load_settings
from gbconnect.customer.models import RetailCustomer
from tests.factories.app import SECRET_KEY, app_client
from tests.factories.world import World


@pytest.fixture
def portal(world: World, engine: Engine, tmp_path: Path) -> Iterator[World]:
    settings = load_settings(
        database_url=world.settings.database_url,
        secret_key=SECRET_KEY,
        mail_dir=tmp_path / "mail",
    )
    with world.factory() as s:
        alice = s.query(RetailCustomer).filter_by(username="alice").one()
        alice.is_test = True
        s.commit()
    with app_client(settings, engine) as client:
        yield replace(world, client=client, settings=settings)
