"""Database engine, sessions, the declarative base and schema migrations.

SQLite is the embedded default and PostgreSQL (psycopg 3) the production store;
the same Alembic migrations build both (DESIGN.md, "Decisions already measured").
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, ClassVar

from sqlalchemy import BigInteger, Engine, MetaData, create_engine, event, inspect, text
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    """Declarative base of every gbconnect model."""

    metadata = MetaData(naming_convention=NAMING)
    type_annotation_map: ClassVar[dict[Any, Any]] = {int: BigInteger}


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.close()


#: Connections of the worker threads: more than the threads (16 on PostgreSQL), since
#: a streaming feed holds its connection between chunks, so that a busy server neither
#: waits for nor re-opens connections; at most 40 with the overflow.
POOL = {"pool_size": 20, "max_overflow": 20}


def make_engine(url: str, **kwargs: Any) -> Engine:
    """Create an engine for ``url`` (SQLite gets WAL and enforced foreign keys)."""
    if ":memory:" in url:  # one connection, shared (SQLAlchemy's own pool for it)
        kwargs = {k: v for k, v in kwargs.items() if k not in POOL}
    else:
        kwargs = {**POOL, **kwargs}
    if url.startswith("sqlite"):
        path = url.split("sqlite:///", 1)[-1]
        if path and path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, **kwargs)
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    return create_engine(url, pool_pre_ping=True, **kwargs)


def make_sessionmaker(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(engine, expire_on_commit=False)


@contextmanager
def session_scope(factory: sessionmaker[Session]) -> Iterator[Session]:
    """A session committed on success and rolled back on any error."""
    session = factory()
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()


def _alembic_config(engine: Engine) -> Any:
    from alembic.config import Config

    here = Path(__file__).parent.parent / "migrations"
    config = Config()
    config.set_main_option("script_location", str(here))
    config.attributes["engine"] = engine
    return config


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Create or upgrade the schema of ``engine``'s database (``gbconnect init``)."""
    from alembic import command

    command.upgrade(_alembic_config(engine), revision)


#: The newest migration (``migrations/versions``). The schema check of every start
#: (``gbconnect serve``, ``/healthz``) compares the database with it without loading
#: Alembic (about 10 MiB of a served process); a test holds it equal to Alembic's
#: head, so a new migration must move it.
SCHEMA_HEAD = "0013"


def current_revision(engine: Engine) -> str | None:
    """The Alembic revision the database is at (its ``alembic_version`` row), or None
    for an empty database. Read with one query, as Alembic reads it."""
    with engine.connect() as conn:
        if not inspect(conn).has_table("alembic_version"):
            return None
        rows = conn.execute(text("SELECT version_num FROM alembic_version")).scalars().all()
    if len(rows) > 1:
        raise RuntimeError(f"the database has several schema heads: {sorted(rows)}")
    return rows[0] if rows else None


def head_revision(engine: Engine | None = None) -> str:
    """The revision a current schema is at (:data:`SCHEMA_HEAD`)."""
    return SCHEMA_HEAD


def migrations_head(engine: Engine) -> str | None:
    """The head of the migration scripts, as Alembic reads them."""
    from alembic.script import ScriptDirectory

    head: str | None = ScriptDirectory.from_config(_alembic_config(engine)).get_current_head()
    return head
