"""Databases for the tests, each a copy of a prepared template.

A template is built once per test session and database kind: ``empty`` is the
migrated schema (``gbconnect init``), others hold stored data (the OAuth and API
tests' world). Each test gets its own copy, which it may change at will, dropped at
its end: a file copy on SQLite; ``CREATE DATABASE ... TEMPLATE`` on PostgreSQL, far
less than storing the data again.

An empty database for one test (:meth:`Databases.empty`) is a copy on SQLite too; on
PostgreSQL it is one database emptied with ``TRUNCATE`` before each test, which was
measured faster there than a new database (``CREATE DATABASE`` checkpoints, and a new
database's first connections build their catalog caches).
"""

from __future__ import annotations

import itertools
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any, Protocol

import psycopg
from sqlalchemy import text

from gbconnect.db import Base, make_engine, upgrade
from tests.pgserver import PostgresServer

#: Builds a template's data in the (migrated, empty) database at the URL; its result
#: is kept for the tests that use the template.
Build = Callable[[str], Any]


def _migrate(url: str) -> None:
    engine = make_engine(url)
    try:
        upgrade(engine)
    finally:
        engine.dispose()


class Databases(Protocol):
    """Templates and per-test copies on one kind of database."""

    kind: str

    def template(self, name: str, build: Build) -> Any:
        """Build template ``name`` unless built; ``build``'s result, kept."""

    def create(self, template: str = "empty") -> str:
        """A new database copied from ``template``; its URL."""

    def empty(self) -> str:
        """A migrated, empty database for one test; its URL (valid until the next
        call)."""

    def drop(self, url: str) -> None:
        """Remove a database made by :meth:`create` or :meth:`empty`."""


class SqliteDatabases:
    """Database files in ``root``."""

    kind = "sqlite"

    def __init__(self, root: Path) -> None:
        self.root = root
        self._count = itertools.count()
        self._built: dict[str, Any] = {}
        _migrate(self._url(self._path("template-empty")))
        self._built["empty"] = None

    def _path(self, stem: str) -> Path:
        return self.root / f"{stem}.db"

    @staticmethod
    def _url(path: Path) -> str:
        return f"sqlite:///{path}"

    def template(self, name: str, build: Build) -> Any:
        if name not in self._built:
            path = self._path(f"template-{name}")
            shutil.copy(self._path("template-empty"), path)
            self._built[name] = build(self._url(path))
            # The build's engine is disposed: the last connection closed folds the
            # write-ahead log into the file, which alone is copied.
            assert not path.with_name(path.name + "-wal").exists(), path
        return self._built[name]

    def create(self, template: str = "empty") -> str:
        if template not in self._built:
            raise KeyError(f"no template {template!r} was built")
        path = self._path(f"test{next(self._count)}")
        shutil.copy(self._path(f"template-{template}"), path)
        return self._url(path)

    def empty(self) -> str:
        return self.create()

    def drop(self, url: str) -> None:
        path = Path(url.removeprefix("sqlite:///"))
        for suffix in ("", "-wal", "-shm"):
            path.with_name(path.name + suffix).unlink(missing_ok=True)


class PostgresDatabases:
    """Databases on a running PostgreSQL server."""

    kind = "postgresql"

    def __init__(self, server: PostgresServer) -> None:
        self.server = server
        self._count = itertools.count()
        self._built: dict[str, Any] = {}
        self._admin: psycopg.Connection[Any] | None = None
        self._execute('CREATE DATABASE "template_empty"')
        _migrate(self.server.url("template_empty"))
        self._built["empty"] = None
        self._scratch = self._copy("template_empty", "scratch")

    def _execute(self, sql: str) -> None:
        """Run ``sql`` on the maintenance database (reconnecting if a test ended the
        connection)."""
        if self._admin is None or self._admin.closed or self._admin.broken:
            self._admin = psycopg.connect(
                f"host=127.0.0.1 port={self.server.port} user={self.server.user} dbname=postgres",
                autocommit=True,
            )
        self._admin.execute(sql.encode())

    def _copy(self, source: str, name: str) -> str:
        self._execute(f'CREATE DATABASE "{name}" TEMPLATE "{source}" STRATEGY FILE_COPY')
        return self.server.url(name)

    def template(self, name: str, build: Build) -> Any:
        if name not in self._built:
            self._built[name] = build(self._copy("template_empty", f"template_{name}"))
        return self._built[name]

    def create(self, template: str = "empty") -> str:
        if template not in self._built:
            raise KeyError(f"no template {template!r} was built")
        return self._copy(f"template_{template}", f"test{next(self._count)}")

    def empty(self) -> str:
        tables = ", ".join(f'"{t.name}"' for t in Base.metadata.sorted_tables)
        engine = make_engine(self._scratch)
        try:
            with engine.begin() as conn:
                # The audit log refuses TRUNCATE by a trigger; the superuser that owns
                # the test server sets triggers aside for this one transaction.
                conn.execute(text("SET LOCAL session_replication_role = replica"))
                conn.execute(text(f"TRUNCATE {tables} CASCADE"))
        finally:
            engine.dispose()
        return self._scratch

    def drop(self, url: str) -> None:
        if url == self._scratch:
            return  # emptied again by the next test that needs it
        name = url.rsplit("/", 1)[-1]
        self._execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    def close(self) -> None:
        if self._admin is not None:
            self._admin.close()
