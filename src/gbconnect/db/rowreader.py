"""Reads on the event loop, for the routes third parties call most.

Requests in general check and resolve in an ORM session in a worker thread
(:mod:`gbconnect.web.serving`). The resources third parties poll are the exception:
at a utility's scale they are most of the traffic, and each needs one row: the token
with its grant, and beside it the resource (:mod:`gbconnect.api.rowpath`). A
:class:`Pair` names the two selects; a few routes then read a handful of rows more
(:class:`Rows`: one day's IntervalBlocks, a ReadingType's commodities). A
:class:`RowReader` reads both without a session and without a thread:

* on SQLite, as one statement (``first LEFT JOIN second ON true``) through the DB-API
  cursor, on the event loop (a local file: well under a millisecond);
* on PostgreSQL, through a psycopg 3 asynchronous pool of autocommit connections (a
  SELECT alone needs no BEGIN/ROLLBACK). Reads that arrive in the same turn of the
  event loop go to the server together, as one statement over arrays of their
  parameters (``unnest(...) WITH ORDINALITY`` joined LATERAL to both selects), so
  that under load one round trip and one driver call serve many requests. The
  :class:`Rows` go the same way, every row of each read coming back with its
  ``batch_index``. The statement is compiled once by SQLAlchemy's psycopg dialect
  and prepared server-side on each connection. A connection broken under a read (a restarted
  server) is retried once after the pool has tested its idle connections; an
  unreachable database raises :class:`DatabaseUnavailable`.

The selects are Core ``select()`` of columns with named bind parameters (those of a
pair with no column names in common): rows come back as named tuples, with only the
result processors their column types need (JSON text on SQLite), not SQLAlchemy's
whole result machinery.
"""

from __future__ import annotations

import asyncio
from collections import namedtuple
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from prometheus_client import Histogram
from sqlalchemy import Engine, Select, bindparam, func, select, true
from sqlalchemy.dialects import postgresql
from sqlalchemy.sql import visitors
from sqlalchemy.sql.elements import BindParameter

from gbconnect.errors import UnavailableError

#: Reads sent to PostgreSQL in one statement at most.
MAX_BATCH = 64

#: How many reads each PostgreSQL statement served (on /metrics).
READS_PER_STATEMENT = Histogram(
    "gbconnect_hot_reads_per_statement",
    "Row-path reads answered by one PostgreSQL statement",
    buckets=(1, 2, 4, 8, 16, 32, 64),
)


class DatabaseUnavailable(UnavailableError):
    """The database could not be reached: 503 ``temporarily_unavailable``. The caller
    is told only that (the driver's message names hosts and ports)."""

    @property
    def description(self) -> str:
        return "the database is unavailable"


class Row(Protocol):
    """A result row: columns as attributes."""

    def __getattr__(self, name: str) -> Any: ...


@dataclass(eq=False)
class Pair:
    """Two selects that do not depend on each other, read as one row: ``first`` must
    find a row (else there is no row at all), ``second`` may not (its columns are
    then None). Both take the same named parameters, each using those it needs."""

    first: Select[Any]
    second: Select[Any]
    combined: Select[Any] = field(init=False)
    row: Any = field(init=False)  # the namedtuple class of the rows
    _shape: _Shape = field(init=False)

    def __post_init__(self) -> None:
        left = self.first.subquery("t")
        right = self.second.subquery("r")
        self.combined = select(left, right).select_from(left.outerjoin(right, true()))
        self._shape = _Shape(self.combined)
        self.row = self._shape.row

    def make(self, values: Sequence[Any], dialect: Any) -> Row:
        """A row of ``values`` as the driver returned them (:meth:`_Shape.make`)."""
        return self._shape.make(values, dialect)


@dataclass(eq=False)
class Rows:
    """One select read as a list of rows: the few rows of a bounded feed (one day's
    IntervalBlocks), read on the same path as a :class:`Pair`, after it."""

    statement: Select[Any]
    _shape: _Shape = field(init=False)

    def __post_init__(self) -> None:
        self._shape = _Shape(self.statement)

    def make(self, values: Sequence[Any], dialect: Any) -> Row:
        return self._shape.make(values, dialect)


class _Shape:
    """The rows of a select: a namedtuple of its column names, and the result
    processors its column types need on a dialect (JSON text to Python on SQLite,
    integers to booleans), applied as SQLAlchemy's result would."""

    def __init__(self, statement: Select[Any]) -> None:
        self.columns = list(statement.selected_columns)
        self.row: Any = namedtuple("Row", [str(c.key) for c in self.columns])  # type: ignore[misc]
        self._processors: dict[str, list[tuple[int, Callable[[Any], Any]]]] = {}

    def make(self, values: Sequence[Any], dialect: Any) -> Row:
        processors = self._processors.get(dialect.name)
        if processors is None:
            processors = []
            for i, column in enumerate(self.columns):
                process: Any = column.type._cached_result_processor(dialect, None)
                if process is not None:
                    processors.append((i, process))
            self._processors[dialect.name] = processors
        if not processors:
            return self.row._make(values)  # type: ignore[no-any-return]
        out = list(values)
        for i, process in processors:
            out[i] = process(out[i])
        return self.row._make(out)  # type: ignore[no-any-return]


class RowReader(Protocol):
    async def open(self) -> None: ...

    async def close(self) -> None: ...

    async def first(self, pair: Pair, params: dict[str, Any]) -> Row | None:
        """The row of ``pair`` with ``params`` bound, or None."""
        ...

    async def all(self, rows: Rows, params: dict[str, Any]) -> list[Row]:
        """Every row of ``rows`` with ``params`` bound."""
        ...

    async def execute(self, statement: Select[Any], params: dict[str, Any]) -> Any:
        """Run ``statement`` (a write that returns a row: a data-modifying ``WITH``) in
        a transaction of its own; the first column of its first row."""
        ...


@dataclass
class _Compiled:
    sql: str
    order: tuple[str, ...]  # parameter names in placeholder order
    defaults: dict[str, Any]  # values of literal binds (``kind == 'access'``)


def _compiled(statement: Select[Any], dialect: Any) -> _Compiled:
    compiled = statement.compile(dialect=dialect)
    if compiled.positiontup is None:
        raise ValueError("a positional parameter style is needed")
    return _Compiled(str(compiled), tuple(compiled.positiontup), dict(compiled.params))


class SqliteRowReader:
    """Reads through the engine's pool with the DB-API cursor, on the event loop."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._compiled: dict[int, tuple[object, _Compiled]] = {}

    async def open(self) -> None:
        return None

    async def close(self) -> None:
        return None

    async def first(self, pair: Pair, params: dict[str, Any]) -> Row | None:
        found = self._execute(pair, pair.combined, params, many=False)
        return None if not found else pair.make(found[0], self.engine.dialect)

    async def all(self, rows: Rows, params: dict[str, Any]) -> list[Row]:
        dialect = self.engine.dialect
        return [rows.make(r, dialect) for r in self._execute(rows, rows.statement, params)]

    async def execute(self, statement: Select[Any], params: dict[str, Any]) -> Any:
        raw = self.engine.raw_connection()
        try:
            compiled = self._compiled_for(statement, statement)
            values = [params[n] if n in params else compiled.defaults[n] for n in compiled.order]
            cursor = raw.cursor()
            try:
                cursor.execute(compiled.sql, values)
                found = cursor.fetchone()
            finally:
                cursor.close()
            raw.commit()
        finally:
            raw.close()
        return None if found is None else found[0]

    def _compiled_for(self, key: object, statement: Select[Any]) -> _Compiled:
        known = self._compiled.get(id(key))
        if known is None or known[0] is not key:
            known = (key, _compiled(statement, self.engine.dialect))
            self._compiled[id(key)] = known
        return known[1]

    def _execute(
        self, key: object, statement: Select[Any], params: dict[str, Any], many: bool = True
    ) -> list[Any]:
        compiled = self._compiled_for(key, statement)
        values = [params[n] if n in params else compiled.defaults[n] for n in compiled.order]
        raw = self.engine.raw_connection()
        try:
            cursor = raw.cursor()
            try:
                cursor.execute(compiled.sql, values)
                found = list(cursor.fetchall() if many else cursor.fetchmany(1))
            finally:
                cursor.close()
        finally:
            raw.close()  # back to the pool
        return found


@dataclass
class _Batched:
    """A pair, or rows, as one PostgreSQL statement over arrays of parameters."""

    source: Pair | Rows
    names: tuple[str, ...]  # the parameters that vary per read
    compiled: _Compiled

    def values(self, reads: list[dict[str, Any]]) -> list[Any]:
        columns = {f"{n}_list": [r[n] for r in reads] for n in self.names}
        return [
            columns[n] if n in columns else self.compiled.defaults[n] for n in self.compiled.order
        ]


def _batched(source: Pair | Rows, names: tuple[str, ...], dialect: Any) -> _Batched:
    """For a pair: ``SELECT q.batch_index, t.*, r.* FROM unnest(...) WITH ORDINALITY
    AS q(...) JOIN LATERAL (first) t ON true LEFT JOIN LATERAL (second) r ON true``,
    each select reading its parameters from ``q`` and limited to its first row. For
    rows: ``SELECT q.batch_index, r.* FROM unnest(...) ... JOIN LATERAL (statement) r
    ON true`` ordered by ``batch_index`` and then as the statement orders its rows."""
    parts = [source.first, source.second] if isinstance(source, Pair) else [source.statement]
    types: dict[str, Any] = {}
    for part in parts:
        for key, bind in part.compile(dialect=dialect).binds.items():
            if key in names:
                types[key] = bind.type
    missing = set(names) - set(types)
    if missing:
        raise ValueError(f"parameters {sorted(missing)} are not used by the statement")
    arrays = [bindparam(f"{n}_list", type_=postgresql.ARRAY(types[n])) for n in names]
    q = (
        func.unnest(*arrays)
        .table_valued(*names, with_ordinality="batch_index")
        .render_derived(name="q")
    )

    def from_q(element: Any) -> Any:
        if isinstance(element, BindParameter) and element.key in names:
            return q.c[element.key]
        return None

    def rewritten(part: Select[Any]) -> Any:
        return visitors.replacement_traverse(part, {}, from_q)  # type: ignore[call-overload]

    if isinstance(source, Pair):
        left = rewritten(source.first).limit(1).lateral("t")
        right = rewritten(source.second).limit(1).lateral("r")
        statement = select(q.c.batch_index, left, right).select_from(
            q.join(left, true()).outerjoin(right, true())
        )
    else:
        inner = rewritten(source.statement).lateral("r")
        order = [inner.c[str(c.key)] for c in source.statement._order_by_clauses]
        statement = (
            select(q.c.batch_index, inner)
            .select_from(q.join(inner, true()))
            .order_by(q.c.batch_index, *order)
        )
    return _Batched(source, names, _compiled(statement, dialect))


_Read = tuple["Pair | Rows", dict[str, Any], "asyncio.Future[Any]"]


class PostgresRowReader:
    """Reads through a psycopg asynchronous pool, those of one loop turn together."""

    def __init__(self, engine: Engine, max_size: int, timeout: float = 10.0) -> None:
        self.conninfo = engine.url.set(drivername="postgresql").render_as_string(
            hide_password=False
        )
        self.max_size = max_size
        self.timeout = timeout
        # "$1" placeholders, as the server takes them.
        self.dialect = postgresql.psycopg.dialect(paramstyle="numeric_dollar")  # type: ignore[no-untyped-call]
        self._batched: dict[int, _Batched] = {}
        self._writes: dict[int, tuple[Select[Any], _Compiled]] = {}
        self._pool: Any = None
        self._waiting: list[_Read] = []
        self._flush_planned = False
        self._running: set[asyncio.Task[None]] = set()

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
        if self._running:
            await asyncio.gather(*self._running, return_exceptions=True)
        if self._pool is not None:
            await self._pool.close()
            self._pool = None

    async def first(self, pair: Pair, params: dict[str, Any]) -> Row | None:
        row: Row | None = await self._queued(pair, params)
        return row

    async def all(self, rows: Rows, params: dict[str, Any]) -> list[Row]:
        found: list[Row] = await self._queued(rows, params)
        return found

    async def _queued(self, source: Pair | Rows, params: dict[str, Any]) -> Any:
        """The answer to a read, sent with the others of this turn of the loop."""
        if self._pool is None:
            raise DatabaseUnavailable("the row reader is not open")
        loop = asyncio.get_running_loop()
        answer: asyncio.Future[Any] = loop.create_future()
        self._waiting.append((source, params, answer))
        if not self._flush_planned:
            self._flush_planned = True
            loop.call_soon(self._flush)
        return await answer

    def _flush(self) -> None:
        """Send what arrived in this turn of the loop: one statement per pair (of at
        most MAX_BATCH reads), each on a connection of its own."""
        self._flush_planned = False
        waiting, self._waiting = self._waiting, []
        groups: dict[int, list[_Read]] = {}
        for read in waiting:
            groups.setdefault(id(read[0]), []).append(read)
        for reads in groups.values():
            for at in range(0, len(reads), MAX_BATCH):
                task = asyncio.get_running_loop().create_task(
                    self._answer(reads[at : at + MAX_BATCH])
                )
                self._running.add(task)
                task.add_done_callback(self._running.discard)

    async def _answer(self, reads: list[_Read]) -> None:
        reads = [r for r in reads if not r[2].done()]  # a request that went away
        if not reads:
            return
        source = reads[0][0]
        READS_PER_STATEMENT.observe(len(reads))
        try:
            batched = self._batched_for(source, tuple(reads[0][1]))
            rows = await self._fetch(batched.compiled.sql, batched.values([r[1] for r in reads]))
        except Exception as exc:  # every waiting request learns of it, none hangs
            for _, _, answer in reads:
                if not answer.done():
                    answer.set_exception(
                        DatabaseUnavailable(str(exc))
                        if isinstance(exc, DatabaseUnavailable)
                        else exc
                    )
            return
        if isinstance(source, Rows):
            many: dict[int, list[Row]] = {}
            for row in rows:
                many.setdefault(row[0], []).append(source.make(row[1:], self.dialect))
            for index, (_, _, answer) in enumerate(reads, start=1):
                if not answer.done():
                    answer.set_result(many.get(index, []))
            return
        by_index: dict[int, Any] = {}
        for row in rows:
            by_index.setdefault(row[0], row)
        for index, (_, _, answer) in enumerate(reads, start=1):
            if not answer.done():
                row = by_index.get(index)
                answer.set_result(None if row is None else source.make(row[1:], self.dialect))

    async def execute(self, statement: Select[Any], params: dict[str, Any]) -> Any:
        """One statement of its own, in autocommit (atomic), never retried: a write
        whose connection broke may have been applied."""
        if self._pool is None:
            raise DatabaseUnavailable("the row reader is not open")
        known = self._writes.get(id(statement))
        if known is None or known[0] is not statement:
            known = (statement, _compiled(statement, self.dialect))
            self._writes[id(statement)] = known
        compiled = known[1]
        values = [params[n] if n in params else compiled.defaults[n] for n in compiled.order]
        rows = await self._fetch(compiled.sql, values, retry=False)
        return rows[0][0] if rows else None

    def _batched_for(self, source: Pair | Rows, names: tuple[str, ...]) -> _Batched:
        known = self._batched.get(id(source))
        if known is None or known.source is not source or known.names != names:
            known = _batched(source, names, self.dialect)
            self._batched[id(source)] = known
        return known

    async def _fetch(self, sql: str, values: list[Any], retry: bool = True) -> list[Any]:
        import psycopg
        from psycopg import AsyncRawCursor
        from psycopg_pool import PoolTimeout

        for attempt in (1, 2):
            try:
                conn = await self._pool.getconn()
                try:
                    # A raw cursor takes the $n statement as it is; prepare=True: a
                    # server-side prepared statement from the first use.
                    cursor = AsyncRawCursor(conn)
                    await cursor.execute(sql, values, prepare=True)
                    rows: list[Any] = await cursor.fetchall()
                    return rows
                finally:
                    # The pool checks the connection's state and drops a broken one.
                    await self._pool.putconn(conn)
            except PoolTimeout as exc:
                raise DatabaseUnavailable("no database connection became free") from exc
            except psycopg.OperationalError as exc:
                # A broken connection (the server restarted): have the pool test its
                # idle connections too, then try once more.
                if attempt == 2 or not retry:
                    raise DatabaseUnavailable(str(exc).splitlines()[0]) from exc
                await self._pool.check()
        raise AssertionError("unreachable")


def make_row_reader(engine: Engine, max_size: int = 16, timeout: float = 10.0) -> RowReader:
    """The reader for ``engine``'s database."""
    if engine.dialect.name == "postgresql":
        return PostgresRowReader(engine, max_size, timeout)
    return SqliteRowReader(engine)
