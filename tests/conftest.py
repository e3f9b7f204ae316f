"""Shared fixtures: a database of each kind (SQLite and a real PostgreSQL server) and
the test data in ../shared."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from gbconnect.db import make_engine, make_sessionmaker
from tests.databases import Build, Databases, PostgresDatabases, SqliteDatabases
from tests.factories.world import store_world
from tests.pgserver import PostgresServer
from tests.shared import samples_dir, schemas_dir, shared_path


@pytest.fixture(scope="session")
def postgres() -> Iterator[PostgresServer]:
    server = PostgresServer()
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="session")
def sqlite_databases(tmp_path_factory: pytest.TempPathFactory) -> SqliteDatabases:
    return SqliteDatabases(tmp_path_factory.mktemp("databases"))


@pytest.fixture(scope="session")
def postgresql_databases(postgres: PostgresServer) -> Iterator[PostgresDatabases]:
    databases = PostgresDatabases(postgres)
    yield databases
    databases.close()


@pytest.fixture(scope="session")
def postgres_url(postgresql_databases: PostgresDatabases) -> str:
    """A migrated PostgreSQL database for the session (a test that ends its
    connections)."""
    return postgresql_databases.create()


#: Stored states a test gets by using the fixture of the same name: built once per
#: database kind, copied for each test.
TEMPLATES: dict[str, Build] = {"world": store_world}


@pytest.fixture(params=["sqlite", "postgresql"])
def databases(request: pytest.FixtureRequest) -> Databases:
    """Each kind of database: SQLite and a real PostgreSQL server."""
    found: Databases = request.getfixturevalue(f"{request.param}_databases")
    return found


@pytest.fixture
def db_url(request: pytest.FixtureRequest, databases: Databases) -> Iterator[str]:
    """A migrated database of the test's own: empty, or holding what a fixture of
    :data:`TEMPLATES` that the test uses needs."""
    template = "empty"
    for name, build in TEMPLATES.items():
        if name in request.fixturenames:
            databases.template(name, build)
            template = name
    url = databases.empty() if template == "empty" else databases.create(template)
    yield url
    databases.drop(url)


@pytest.fixture
def engine(db_url: str) -> Iterator[Engine]:
    eng = make_engine(db_url)
    yield eng
    eng.dispose()


@pytest.fixture
def factory(engine: Engine) -> sessionmaker[Session]:
    return make_sessionmaker(engine)


@pytest.fixture(scope="session")
def shared() -> Path:
    """``../shared`` beside the repository (fails the test, saying so, when absent)."""
    return shared_path()


@pytest.fixture(scope="session")
def schemas() -> Path:
    """``../shared/espi/xsd/4.0``: the ESPI 4.0, customer and Atom schemas."""
    return schemas_dir()


@pytest.fixture(scope="session")
def samples() -> Path:
    """``../shared/samples/xml``: the public Green Button sample files."""
    return samples_dir()
