"""One-statement reads on the event loop, for the API's hottest routes.

Most API requests check and resolve in an ORM session in a worker thread
(:mod:`gbconnect.api.serving`). Third-party polling of one IntervalBlock is the
exception: at a utility's scale it is most of the traffic, and it needs exactly one
row (the token, its grant and the block, joined in one statement). A
:class:`RowReader` answers such a statement without a session and without a thread:

* on PostgreSQL, through a psycopg 3 asynchronous connection pool in autocommit mode
  (no BEGIN/ROLLBACK round trips; a SELECT alone needs no transaction). The
  statement is compiled once by SQLAlchemy's psycopg dialect and prepared
  server-side on each connection at its first use. A connection broken under it
  (a restarted server) is retried once on a fresh connection; an unreachable
  database raises :class:`DatabaseUnavailable`.
* on SQLite, on the event loop with the engine's own pool (a local file: well under
  a millisecond).

Statements given to a reader are Core ``select()`` of plain columns (integers,
strings, bytes): rows come back with attribute access by column name and without
SQLAlchemy's result processing.
"""

from __future__ import annotations

from collections import namedtuple
from dataclasses import dataclass
from typing import Any, Protocol, cast

from sqlalchemy import Engine, Select
from sqlalchemy.dialects import postgresql


class DatabaseUnavailable(Exception):
    """The database could not be reached (the API answers 503)."""


class Row(Protocol):
    """A result row: columns as attributes."""

    def __getattr__(self, name: str) -> Any: ...


@dataclass
class _Compiled:
    statement: Select[Any]
    sql: str
    defaults: dict[str, Any]  # values of literal binds (``kind == 'access'``)
    positional: tuple[str, ...] | None  # parameter order for "?" placeholders
    row: Any = None  # the namedtuple class of its rows, made at the first row

    def values(self, params: dict[str, Any]) -> list[Any]:
        """The parameters in placeholder order (literal binds from the statement)."""
        if self.positional is None:
            raise ValueError("the statement was not compiled with positional parameters")
        return [params[n] if n in params else self.defaults[n] for n in self.positional]


def _compile(cache: dict[int, _Compiled], statement: Select[Any], dialect: Any) -> _Compiled:
    """``statement`` compiled once for ``dialect`` (statements are module constants)."""
    known = cache.get(id(statement))
    if known is None or known.statement is not statement:
        compiled = statement.compile(dialect=dialect)
        positional = compiled.positiontup
        known = _Compiled(
            statement,
            str(compiled),
            dict(compiled.params),
            tuple(positional) if positional is not None else None,
        )
        cache[id(statement)] = known
    return known


class RowReader(Protocol):
    async def open(self) -> None: ...

    async def close(self) -> None: ...

    async def first(self, statement: Select[Any], params: dict[str, Any]) -> Row | None:
        """The first row of ``statement`` with ``params`` bound, or None."""
        ...


class SqliteRowReader:
    """Reads through the engine's pool, on the calling (event-loop) thread, with the
    DB-API cursor directly (the statement compiled once for SQLite)."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._compiled: dict[int, _Compiled] = {}

    async def open(self) -> None:
        return None

    async def close(self) -> None:
        return None

    async def first(self, statement: Select[Any], params: dict[str, Any]) -> Row | None:
        compiled = _compile(self._compiled, statement, self.engine.dialect)
        values = compiled.values(params)
        raw = self.engine.raw_connection()
        try:
            cursor = raw.cursor()
            try:
                cursor.execute(compiled.sql, values)
                found = cursor.fetchone()
                if found is None:
                    return None
                if compiled.row is None:
                    compiled.row = namedtuple("Row", [d[0] for d in cursor.description])  # type: ignore[misc]
                row: Row = compiled.row._make(found)
                return row
            finally:
                cursor.close()
        finally:
            raw.close()  # back to the pool


class PostgresRowReader:
    """Reads through a psycopg asynchronous pool of autocommit connections."""

    def __init__(self, engine: Engine, max_size: int, timeout: float = 10.0) -> None:
        self.conninfo = engine.url.set(drivername="postgresql").render_as_string(
            hide_password=False
        )
        self.max_size = max_size
        self.timeout = timeout
        # "$1" placeholders, as the server takes them.
        self.dialect = postgresql.psycopg.dialect(paramstyle="numeric_dollar")  # type: ignore[no-untyped-call]
        self._compiled: dict[int, _Compiled] = {}
        self._pool: Any = None

    async def open(self) -> None:
        from psycopg_pool import AsyncConnectionPool

        self._pool = AsyncConnectionPool(
            self.conninfo,
            min_size=1,
            max_size=self.max_size,
            kwargs={"autocommit": True},
            timeout=self.timeout,
            open=False,
        )
        # Open without waiting: the server starts even while the database is down,
        # and /healthz says so.
        await self._pool.open(wait=False)

    async def close(self) -> None:
        if self._pool is not None:
            await self._pool.close()
            self._pool = None

    async def first(self, statement: Select[Any], params: dict[str, Any]) -> Row | None:
        import psycopg
        from psycopg import AsyncRawCursor
        from psycopg.rows import namedtuple_row
        from psycopg_pool import PoolTimeout

        if self._pool is None:
            raise DatabaseUnavailable("the row reader is not open")
        compiled = _compile(self._compiled, statement, self.dialect)
        values = compiled.values(params)
        for attempt in (1, 2):
            try:
                conn = await self._pool.getconn()
                try:
                    # A raw cursor takes the $n statement as it is (no conversion per
                    # call); prepare=True: prepared server-side from the first use.
                    cursor = AsyncRawCursor(conn, row_factory=namedtuple_row)
                    await cursor.execute(compiled.sql, values, prepare=True)
                    found: Any = await cursor.fetchone()
                    return cast("Row | None", found)
                finally:
                    # The pool checks the connection's state and drops a broken one.
                    await self._pool.putconn(conn)
            except PoolTimeout as exc:
                raise DatabaseUnavailable("no database connection became free") from exc
            except psycopg.OperationalError as exc:
                # A broken connection (the server restarted): the pool drops it on
                # return; have it test its idle ones too, then try once more.
                if attempt == 2:
                    raise DatabaseUnavailable(str(exc).splitlines()[0]) from exc
                await self._pool.check()
        raise AssertionError("unreachable")


def make_row_reader(engine: Engine, max_size: int = 16, timeout: float = 10.0) -> RowReader:
    """The reader for ``engine``'s database."""
    if engine.dialect.name == "postgresql":
        return PostgresRowReader(engine, max_size, timeout)
    return SqliteRowReader(engine)
