"""Serving ESPI resources: check in one short session, then answer.

A route gives :meth:`Responder.serve` a *plan*: a function that, inside a database
session, authenticates nothing itself but resolves ids and scope and returns a
:class:`Prepared` (a feed to stream or a small document) or raises
:class:`~gbconnect.oauth.guard.AccessDenied`. The responder authenticates the
token against the route's access table, parses the query parameters (400 on a bad
one), adds ``ETag``/``Last-Modified`` and answers 304 when it can, and streams feeds
from a session of their own in chunks.
"""

from __future__ import annotations

import hashlib
import itertools
from collections.abc import AsyncIterator, Callable, Generator, Iterator
from dataclasses import dataclass
from email.utils import formatdate, parsedate_to_datetime
from functools import lru_cache
from typing import Any, TypeVar

from anyio import CancelScope, CapacityLimiter
from fastapi.responses import JSONResponse, Response, StreamingResponse
from sqlalchemy.orm import Session, sessionmaker
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.types import Receive, Scope, Send

from gbconnect.db.rowreader import DatabaseUnavailable, Pair, RowReader
from gbconnect.espi.atom import ATOM, MEDIA_TYPE, feed
from gbconnect.oauth.guard import AccessDenied, Caller, authenticate, caller_of, token_digest
from gbconnect.resource import now
from gbconnect.web.query import FeedQuery, QueryError, parse_query

Plan = Callable[[Session], Iterator[str]]
XML_DECLARATION = '<?xml version="1.0" encoding="UTF-8"?>\n'
CHUNK = 256 * 1024
T = TypeVar("T")


def standalone(entry_xml: str) -> str:
    """An entry as a document of its own: the XML declaration and the Atom namespace."""
    return XML_DECLARATION + entry_xml.replace("<entry>", f'<entry xmlns="{ATOM}">', 1)


@dataclass
class Prepared:
    """A checked request: what to stream, and when its content last changed."""

    run: Plan
    modified: int | None = None
    grant_key: str = ""
    body: str | None = None  # a small document, answered without streaming

    def __call__(self, session: Session) -> Iterator[str]:
        return self.run(session)


@lru_cache(maxsize=4096)
def http_date(epoch: int) -> str:
    """RFC 9110 section 5.6.7 IMF-fixdate (cached: many responses share a time)."""
    return formatdate(epoch, usegmt=True)


def validators(request: Request, prepared: Prepared) -> dict[str, str]:
    """``ETag`` and ``Last-Modified`` (RFC 9110 section 8.8) of a response whose content
    is known to change only with ``prepared.modified``; the ETag also covers the URL
    and the grant (a narrower scope is another representation)."""
    if prepared.modified is None:
        return {}
    scope = request.scope
    seed = f"{scope['path']}?{scope['query_string']!r}|{prepared.modified}|{prepared.grant_key}"
    tag = hashlib.sha256(seed.encode()).hexdigest()[:32]
    return {
        "ETag": f'W/"{tag}"',
        "Last-Modified": http_date(prepared.modified),
        "Cache-Control": "private, no-cache",
    }


def not_modified(request: Request, headers: dict[str, str], modified: int | None) -> bool:
    """RFC 9110 section 13.1: If-None-Match wins over If-Modified-Since."""
    if_none_match = request.headers.get("if-none-match")
    if if_none_match is not None:
        tags = {t.strip().removeprefix("W/") for t in if_none_match.split(",")}
        return "*" in tags or headers["ETag"].removeprefix("W/") in tags
    since = request.headers.get("if-modified-since")
    if since and modified is not None:
        try:
            when = parsedate_to_datetime(since)
        except (TypeError, ValueError, IndexError):
            return False
        if when.tzinfo is None:
            return False
        return modified <= int(when.timestamp())
    return False


def page(items: Iterator[T], query: FeedQuery) -> Iterator[T]:
    """``start-index`` (1-based) and ``max-results``; closes ``items`` when done so
    that a database cursor behind it is released at once."""
    start = query.start_index - 1
    stop = None if query.max_results is None else start + query.max_results
    try:
        yield from itertools.islice(items, start, stop)
    finally:
        close = getattr(items, "close", None)
        if close is not None:
            close()


@dataclass
class _Streaming:
    """A feed past its first chunk; its generator holds a session."""

    chunks: Generator[tuple[bytes, bool], None, None]
    first: bytes
    headers: dict[str, str]
    done: bool = False


class FeedResponse(StreamingResponse):
    """The rest of a feed, a chunk per trip to a worker thread. Whatever happens (the
    last byte sent, the client gone, an error), the generator is closed, so that its
    session and connection go back to the pool at once, and the slot is released."""

    def __init__(self, streaming: _Streaming, release: Callable[[], None]) -> None:
        self.streaming = streaming
        self.release = release
        super().__init__(self._rest(), media_type=MEDIA_TYPE, headers=streaming.headers)

    async def _rest(self) -> AsyncIterator[bytes]:
        s = self.streaming
        yield s.first
        while not s.done:
            item = await run_in_threadpool(next, s.chunks, None)
            if item is None:
                s.done = True
                break
            chunk, s.done = item
            if chunk:
                yield chunk

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        try:
            await super().__call__(scope, receive, send)
        finally:
            with CancelScope(shield=True):
                if self.streaming.done:
                    self.streaming.chunks.close()  # at its last yield: nothing held
                else:
                    await run_in_threadpool(self.streaming.chunks.close)
                self.release()


def grant_key(caller: Caller) -> str:
    """What of the caller's grant shapes a representation (for the ETag)."""
    view = caller.grant
    return f"{caller.token_class}:" + (f"{view.id}:{view.updated}:{view.scope}" if view else "")


def bad_query(exc: QueryError) -> JSONResponse:
    """400 for a malformed query parameter (GBA test QRY002)."""
    return JSONResponse(
        {"error": "invalid_request", "error_description": str(exc)}, status_code=400
    )


def unavailable(exc: DatabaseUnavailable) -> JSONResponse:
    return JSONResponse(
        {"error": "temporarily_unavailable", "error_description": "the database is unavailable"},
        status_code=503,
        headers={"Retry-After": "5"},
    )


class Responder:
    """Answers the routes of one access table (method, path) -> token classes."""

    def __init__(
        self,
        sessions: sessionmaker[Session],
        access: dict[tuple[str, str], set[str]],
        reader: RowReader | None = None,
        streams: CapacityLimiter | None = None,
    ) -> None:
        self.sessions = sessions
        self.access = access
        self.reader = reader
        self.streams = streams or CapacityLimiter(16)
        bind = sessions.kw.get("bind")
        self.inline = bind is not None and bind.dialect.name == "sqlite"
        # GETs only read: on PostgreSQL their sessions (the check's and the feed's) run
        # in autocommit, which spares the BEGIN and ROLLBACK round trips (each
        # statement sees committed data, as it would in a READ COMMITTED transaction;
        # feeds read in pages, with no server-side cursor to keep).
        self.reads = sessions
        if bind is not None and bind.dialect.name == "postgresql":
            self.reads = sessionmaker(
                bind=bind.execution_options(isolation_level="AUTOCOMMIT"),
                expire_on_commit=False,
            )

    async def serve(
        self, request: Request, key: tuple[str, str], plan: Callable[..., Any]
    ) -> Response:
        """Check, then answer: a small document, or a feed whose first chunk (about
        CHUNK bytes) is made in the same trip to a worker thread as the check. A feed
        that fits in it is answered whole; a larger one streams the rest (see
        :class:`FeedResponse`)."""

        sessions = self.reads if key[0] == "GET" else self.sessions

        def prepare() -> Response | Prepared:
            with sessions() as session:
                try:
                    caller = authenticate(request, session, self.access[key])
                    query = parse_query(request.query_params)
                    result: Response | Prepared = plan(session, caller, query)
                    if isinstance(result, Prepared) and result.modified is not None:
                        result.grant_key = grant_key(caller)
                    return result
                except AccessDenied as denied:
                    return denied.response()
                except QueryError as exc:
                    return bad_query(exc)

        def start() -> Response | _Streaming:
            prepared = prepare()
            if isinstance(prepared, Response):
                return prepared
            if prepared.body is not None:
                return self.answer(request, prepared)
            headers = validators(request, prepared)
            if headers and not_modified(request, headers, prepared.modified):
                return Response(status_code=304, headers=headers)
            chunks = self.chunks(prepared)
            first, last = next(chunks)
            if last:  # the whole feed: no streaming, no further trip
                chunks.close()
                return Response(first, media_type=MEDIA_TYPE, headers=headers)
            return _Streaming(chunks, first, headers)

        # One slot from the check to the last byte. A feed holds a database connection
        # while it streams; were streams unbounded, they could take every pooled
        # connection while the worker threads they need for their next chunk sat
        # waiting for one: a deadlock until the pool timeout. Waiting for a slot
        # happens here, on the event loop, holding nothing; the pool has room for
        # every slot and every worker thread (gbconnect.app).
        borrower = object()
        await self.streams.acquire_on_behalf_of(borrower)
        try:
            # SQLite is local: the check runs on the event loop (no thread hop). Over
            # a network (PostgreSQL), in a worker thread.
            outcome = start() if self.inline else await run_in_threadpool(start)
        except BaseException:
            self.streams.release_on_behalf_of(borrower)
            raise
        if isinstance(outcome, Response):
            self.streams.release_on_behalf_of(borrower)
            return outcome
        return FeedResponse(outcome, lambda: self.streams.release_on_behalf_of(borrower))

    async def serve_row(
        self,
        request: Request,
        key: tuple[str, str],
        pair: Pair,
        params: dict[str, Any],
        render: Callable[[Caller, Any, FeedQuery], Prepared],
    ) -> Response:
        """The hot path: ``pair`` (made by :func:`~gbconnect.oauth.guard.with_token`)
        reads the token and the resource as one row, on the event loop, with no
        session; ``render`` checks the scope on that row and writes a small document."""
        if self.reader is None:
            raise RuntimeError("this responder has no row reader")
        try:
            hashed = token_digest(request)
            row = await self.reader.first(pair, {**params, "token_hash": hashed})
            caller = caller_of(row, self.access[key], None)
            prepared = render(caller, row, parse_query(request.query_params))
        except AccessDenied as denied:
            return denied.response()
        except QueryError as exc:
            return bad_query(exc)
        except DatabaseUnavailable as exc:
            return unavailable(exc)
        if prepared.modified is not None:
            prepared.grant_key = grant_key(caller)
        return self.answer(request, prepared)

    def answer(self, request: Request, prepared: Prepared) -> Response:
        """Validators and 304, then the small document."""
        if prepared.body is None:
            raise ValueError("answer() takes a small document; serve() streams feeds")
        headers = validators(request, prepared)
        if headers and not_modified(request, headers, prepared.modified):
            return Response(status_code=304, headers=headers)
        return Response(prepared.body, media_type=MEDIA_TYPE, headers=headers)

    def chunks(self, prepared: Prepared) -> Generator[tuple[bytes, bool], None, None]:
        """(chunk, last): the feed's pieces gathered into chunks of about CHUNK bytes,
        each crossing from a worker thread to the event loop once."""
        buffer: list[str] = []
        size = 0
        with self.reads() as session:
            for piece in prepared(session):
                buffer.append(piece)
                size += len(piece)
                if size >= CHUNK:
                    yield "".join(buffer).encode(), False
                    buffer.clear()
                    size = 0
        # The session is closed before the last chunk leaves: after it there is
        # nothing to release, and no further trip to a worker thread.
        yield "".join(buffer).encode(), True

    @staticmethod
    def document(
        self_href: str,
        title: str,
        entries: Callable[[Session], Iterator[str]],
        modified: int | None = None,
    ) -> Prepared:
        def run(session: Session) -> Iterator[str]:
            yield from feed(
                self_href=self_href,
                title=title,
                updated=modified or now(),
                entries=entries(session),
            )

        return Prepared(run, modified)

    @staticmethod
    def single(text: str, modified: int | None = None) -> Prepared:
        """One entry: small, so answered whole without streaming."""
        body = standalone(text)
        return Prepared(lambda session: iter((body,)), modified, body=body)
