"""The one request path of the ESPI resource server (REQ.21 section 1; RFC 6750;
RFC 9110).

Every ESPI route answers in the same four steps:

1. **check**: the Bearer token is authenticated against the token classes the matched
   route declares (:mod:`gbconnect.web.access`); then the route's *plan* resolves the
   ids and the scope, in the same short database session, and returns a
   :class:`Prepared` (a feed to stream or a small document), a finished response (a
   PUT or DELETE), or raises :class:`~gbconnect.oauth.guard.AccessDenied` (404 for
   what the token may not see, like what does not exist);
2. **query**: the feed parameters are parsed before the plan uses them
   (:mod:`gbconnect.web.query`; 400 ``invalid_request`` naming the bad parameter);
3. **validators**: ``ETag`` and ``Last-Modified`` (RFC 9110 section 8.8), and 304
   when the client already has the representation (section 13.1);
4. **body**: a small document whole; a feed whose first chunk holds all of it, whole
   too; a larger feed streamed in chunks of about :data:`CHUNK` bytes from a session
   of its own (:class:`FeedResponse`).

:func:`serve` checks in an ORM session. :func:`serve_row` is the same path for the
route third parties poll most (one IntervalBlock): its check reads the token and the
resource as one row (:mod:`gbconnect.db.rowreader`), on the event loop and without a
session, and its answer goes through the same validators (:meth:`Responder.answer`).
A mutation commits when its plan returns; a refusal rolls back.

**Rate limits** (:mod:`gbconnect.ratelimit`): once the token is authenticated and
before anything else, a third party's request is counted against its limits; beyond
one it is answered 429 and nothing of it is done. The count is decided without a
database round trip (the row path's check stays one statement), and every limited
answer carries the ``RateLimit-Policy`` and ``RateLimit`` fields.

**The ETag policy** (one for every resource): a weak ETag, the digest of

* the URL (path and query: another page or window is another representation),
* ``modified``, the newest ``updated`` the representation shows (also sent as
  ``Last-Modified``; a response without one gets no validators),
* the caller's grant: token class, third party, and the grant's id, ``updated`` and
  scope (a narrower scope is another representation), and
* when the body is a small document already in memory, a CRC-32 of it. ``updated``
  counts whole seconds: an Authorization revoked within the second of its grant keeps
  its ``updated`` but changes its body, and the ETag must move. CRC-32 suffices to tell
  two versions of one URL under one grant apart within one second, at a third of the
  cost of SHA-256 on the hot path (3.5 against 11 microseconds for a 15 KB entry).
  A streamed feed is never held whole: its ETag rests on the first three.
"""

from __future__ import annotations

import hashlib
import inspect
import itertools
import zlib
from collections.abc import AsyncIterator, Awaitable, Callable, Generator, Iterator
from collections.abc import Set as AbstractSet
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

from gbconnect.config import Settings
from gbconnect.db.rowreader import DatabaseUnavailable, Pair, RowReader
from gbconnect.espi.atom import ATOM, MEDIA_TYPE, feed
from gbconnect.oauth.guard import AccessDenied, Caller, authenticate, caller_of, token_digest
from gbconnect.oauth.mtls import presented_thumbprint
from gbconnect.ratelimit.limits import Decision, RateLimited, limiter_for
from gbconnect.resource import now
from gbconnect.web.access import allowed
from gbconnect.web.errors import api_error
from gbconnect.web.query import FeedQuery, QueryError, parse_query

XML_DECLARATION = '<?xml version="1.0" encoding="UTF-8"?>\n'
CHUNK = 256 * 1024
READS = frozenset({"GET", "HEAD"})
T = TypeVar("T")


def standalone(entry_xml: str) -> str:
    """An entry as a document of its own: the XML declaration and the Atom namespace."""
    return XML_DECLARATION + entry_xml.replace("<entry>", f'<entry xmlns="{ATOM}">', 1)


@dataclass
class Prepared:
    """A checked request: what to stream, and when its content last changed."""

    run: Callable[[Session], Iterator[str]]
    modified: int | None = None
    grant_key: str = ""
    body: str | bytes | None = None  # a small document, answered without streaming

    def __call__(self, session: Session) -> Iterator[str]:
        return self.run(session)


def _nothing(session: Session) -> Iterator[str]:
    return iter(())


def whole(body: str | bytes, modified: int | None = None) -> Prepared:
    """A small document, answered whole."""
    return Prepared(_nothing, modified, body=body)


def single(entry_xml: str, modified: int | None = None) -> Prepared:
    """One Atom entry as a document: small, so answered whole without streaming."""
    return whole(standalone(entry_xml), modified)


def document(
    self_href: str,
    title: str,
    entries: Callable[[Session], Iterator[str]],
    modified: int | None = None,
) -> Prepared:
    """An Atom feed of ``entries`` (read, when it is streamed, from a session of its
    own), ``updated`` at ``modified`` or now."""

    def run(session: Session) -> Iterator[str]:
        yield from feed(
            self_href=self_href, title=title, updated=modified or now(), entries=entries(session)
        )

    return Prepared(run, modified)


def paged(
    self_href: str,
    title: str,
    entries: Callable[[Session], Iterator[str]],
    query: FeedQuery,
    modified: int | None = None,
) -> Prepared:
    """A feed of ``entries``, paged by ``start-index`` and ``max-results``."""
    return document(self_href, title, lambda session: page(entries(session), query), modified)


def listed(
    self_href: str, title: str, texts: list[str], query: FeedQuery, modified: int | None = None
) -> Prepared:
    """A feed of entries already written, paged by ``query``."""
    return paged(self_href, title, lambda session: iter(texts), query, modified)


@dataclass
class Call:
    """A request past its token check: what a plan resolves ids and scope with."""

    session: Session
    caller: Caller
    query: FeedQuery
    settings: Settings


Plan = Callable[[Call], "Prepared | Response"]
#: The row path's check and document: (caller, row, query) -> the document, or an
#: awaitable of it when it reads more rows.
Render = Callable[[Caller, Any, FeedQuery], "Prepared | Awaitable[Prepared]"]


@lru_cache(maxsize=4096)
def http_date(epoch: int) -> str:
    """RFC 9110 section 5.6.7 IMF-fixdate (cached: many responses share a time)."""
    return formatdate(epoch, usegmt=True)


def validators(request: Request, prepared: Prepared) -> dict[str, str]:
    """``ETag`` and ``Last-Modified`` of a response (the module's ETag policy); none
    when ``prepared.modified`` is unknown."""
    if prepared.modified is None:
        return {}
    scope = request.scope
    seed = f"{scope['path']}?{scope['query_string']!r}|{prepared.modified}|{prepared.grant_key}"
    body = prepared.body
    if body is not None:
        crc = zlib.crc32(body.encode() if isinstance(body, str) else body)
        seed = f"{seed}|{crc:08x}"
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
class Streaming:
    """A feed past its first chunk; its generator holds a session."""

    chunks: Generator[tuple[bytes, bool], None, None]
    first: bytes
    headers: dict[str, str]
    done: bool = False


class FeedResponse(StreamingResponse):
    """The rest of a feed, a chunk per trip to a worker thread. Whatever happens (the
    last byte sent, the client gone, an error), the generator is closed, so that its
    session and connection go back to the pool at once, and the slot is released."""

    def __init__(
        self, streaming: Streaming, release: Callable[[], None], media_type: str = MEDIA_TYPE
    ) -> None:
        self.streaming = streaming
        self.release = release
        super().__init__(self._rest(), media_type=media_type, headers=streaming.headers)

    async def _rest(self) -> AsyncIterator[bytes]:
        s = self.streaming
        if s.first:
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
    grant = f"{view.id}:{view.updated}:{view.scope}" if view else ""
    return f"{caller.token_class}:{caller.application_id}:{grant}"


def invalid_request(description: str, status: int = 400) -> JSONResponse:
    """An ``invalid_request`` answer (RFC 6749 section 5.2 error body)."""
    return JSONResponse(
        {"error": "invalid_request", "error_description": description}, status_code=status
    )


class Responder:
    """The application's request path: its sessions, its row reader and the slots of
    its streams (one per application, in ``app.state.responder``)."""

    def __init__(
        self,
        settings: Settings,
        sessions: sessionmaker[Session],
        reader: RowReader | None = None,
        streams: CapacityLimiter | None = None,
    ) -> None:
        self.settings = settings
        self.sessions = sessions
        self.reader = reader
        self.streams = streams or CapacityLimiter(16)
        bind = sessions.kw.get("bind")
        # The API's rate limits (None when off: GBCONNECT_RATE_LIMITS).
        self.limiter = limiter_for(settings, bind) if bind is not None else None
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

    # -- check -----------------------------------------------------------------------

    def check(self, request: Request, plan: Callable[[Call], T]) -> T | Response:
        """Steps 1 and 2 in one session: the token against the route's classes, the
        query, then ``plan``; a refusal as its response. A mutation (a method not in
        :data:`READS`) commits when ``plan`` returns."""
        reading = request.method in READS
        with (self.reads if reading else self.sessions)() as session:
            try:
                caller = authenticate(
                    request,
                    session,
                    allowed(request),
                    presented_thumbprint(request, self.settings),
                    self.settings.mtls,
                )
                # Counted once: a request the row path passed on was counted there.
                counted = getattr(request.state, "rate_limit", None) is not None
                if self.limiter is not None and caller.client_id and not counted:
                    self.counted(request, self.limiter.check(caller))
                query = parse_query(request.query_params)
                result = plan(Call(session, caller, query, self.settings))
                if isinstance(result, Prepared):
                    result.grant_key = grant_key(caller)
                if not reading:
                    session.commit()
                return result
            except (AccessDenied, QueryError, RateLimited) as refusal:
                return api_error(refusal)

    @staticmethod
    def counted(request: Request, decision: Decision) -> None:
        """Keep an admitted request's limits for its answer's fields; raise
        :class:`~gbconnect.ratelimit.limits.RateLimited` for a refused one."""
        if not decision.allowed:
            raise RateLimited(decision)
        request.state.rate_limit = decision

    @staticmethod
    def limit_fields(request: Request, response: Response) -> Response:
        """``response`` with the ``RateLimit`` fields of its request, if it was counted."""
        decision = getattr(request.state, "rate_limit", None)
        if decision is not None:
            response.headers.update(decision.headers())
        return response

    def on_loop(self, request: Request) -> bool:
        """Whether a check runs on the event loop: a read of a local SQLite file (well
        under a millisecond). Remote databases, and writes (which may wait for SQLite's
        lock), run in a worker thread."""
        return self.inline and request.method in READS

    async def checked(self, request: Request, plan: Callable[[Call], T]) -> T | Response:
        """:meth:`check`, in a worker thread unless :meth:`on_loop`."""
        if self.on_loop(request):
            return self.check(request, plan)
        return await run_in_threadpool(self.check, request, plan)

    # -- answer ----------------------------------------------------------------------

    async def serve(self, request: Request, plan: Plan) -> Response:
        """Check, then answer: a small document, or a feed whose first chunk (about
        CHUNK bytes) is made in the same trip to a worker thread as the check. A feed
        that fits in it is answered whole; a larger one streams the rest (see
        :class:`FeedResponse`)."""

        def start() -> Response | Streaming:
            prepared = self.check(request, plan)
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
            return Streaming(chunks, first, headers)

        # One slot from the check to the last byte. A feed holds a database connection
        # while it streams; were streams unbounded, they could take every pooled
        # connection while the worker threads they need for their next chunk sat
        # waiting for one: a deadlock until the pool timeout. Waiting for a slot
        # happens here, on the event loop, holding nothing; the pool has room for
        # every slot and every worker thread (gbconnect.app).
        borrower = object()
        await self.streams.acquire_on_behalf_of(borrower)
        try:
            outcome = start() if self.on_loop(request) else await run_in_threadpool(start)
        except BaseException:
            self.streams.release_on_behalf_of(borrower)
            raise
        if isinstance(outcome, Response):
            self.streams.release_on_behalf_of(borrower)
            return self.limit_fields(request, outcome)
        return self.limit_fields(
            request,
            FeedResponse(outcome, lambda: self.streams.release_on_behalf_of(borrower)),
        )

    async def serve_row(
        self,
        request: Request,
        pair: Pair,
        params: dict[str, Any],
        render: Render,
        plan: Plan | None = None,
        classes: AbstractSet[str] = frozenset(),
    ) -> Response:
        """The same path for the routes third parties call most, its check
        specialised: ``pair`` (made by :func:`~gbconnect.oauth.guard.with_token`) reads
        the token and the resource as one row, on the event loop, with no session;
        ``render`` checks the scope on that row (reading more rows through
        :attr:`reader` if it must: it may be a coroutine) and writes a small document,
        answered by :meth:`answer`. A caller whose token class is not among
        ``classes`` (when given; the admin's token, say) is answered by ``plan`` on
        the session path instead, before anything is counted."""
        if self.reader is None:
            raise RuntimeError("this responder has no row reader")
        try:
            hashed = token_digest(request)
            presented = presented_thumbprint(request, self.settings)
            row = await self.reader.first(
                pair, {**params, "token_hash": hashed, "cert_thumbprint": presented}
            )
            caller = caller_of(row, allowed(request), None, presented, self.settings.mtls)
            if plan is not None and classes and caller.token_class not in classes:
                return await self.serve(request, plan)
            if self.limiter is not None and caller.client_id:
                self.counted(request, await self.limiter.acheck(caller))
            rendered = render(caller, row, parse_query(request.query_params))
            prepared = await rendered if inspect.isawaitable(rendered) else rendered
        except (AccessDenied, QueryError, DatabaseUnavailable, RateLimited) as refusal:
            return api_error(refusal)
        if prepared.body is None and plan is not None:
            # Too large for the row path (a feed beyond a page): streamed by the plan.
            return await self.serve(request, plan)
        prepared.grant_key = grant_key(caller)
        return self.limit_fields(request, self.answer(request, prepared))

    def answer(self, request: Request, prepared: Prepared) -> Response:
        """Steps 3 and 4 for a small document: validators, 304, the body."""
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


def responder_of(request: Request) -> Responder:
    """The application's :class:`Responder`."""
    responder: Responder = request.app.state.responder
    return responder


async def serve(request: Request, plan: Plan) -> Response:
    """Answer ``request`` by the one request path (:meth:`Responder.serve`)."""
    return await responder_of(request).serve(request, plan)


async def serve_row(
    request: Request,
    pair: Pair,
    params: dict[str, Any],
    render: Render,
    plan: Plan | None = None,
    classes: AbstractSet[str] = frozenset(),
) -> Response:
    """Answer ``request`` by the row path (:meth:`Responder.serve_row`)."""
    return await responder_of(request).serve_row(request, pair, params, render, plan, classes)


def row_reader(request: Request) -> RowReader:
    """The application's :class:`~gbconnect.db.rowreader.RowReader` (the row path's
    further reads)."""
    reader = responder_of(request).reader
    if reader is None:
        raise RuntimeError("this application has no row reader")
    return reader
