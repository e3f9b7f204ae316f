"""Batch/Subscription and Batch/Bulk, answered now or later (REQ.21 FB_35; GBA's 2024
rule that any resource GET may answer 202 Accepted; PG&E's practice, STANDARD.md
sections 1, 3, 6 and 7).

A Batch request is checked as every ESPI request is (:mod:`gbconnect.web.serving`:
token, grant, query); its usage points are resolved under the grant
(:class:`~gbconnect.api.usage.BatchSpec`). Then, before a byte is written:

1. with ``GBCONNECT_EMPTY_WINDOW_204`` (PG&E: "HTTP 204 when a window has no data"),
   a request naming a window (``published-min/max``, ``updated-min/max``) in which
   its usage points hold no IntervalBlock and no UsageSummary answers 204 No Content
   (:func:`empty_window`; the window is widened to the union of the grants' periods,
   so 204 is answered only when the feed surely holds no data);
2. a request covering more IntervalBlocks than ``GBCONNECT_BATCH_ASYNC_BLOCKS``
   (:func:`blocks_covered`: one index-range count, stopped at the threshold, so it
   costs at most that many index entries) answers **202 Accepted** with ``Location``
   naming its package, ``{resource base}/Batch/Package/{id}``, and ``Retry-After``.
   The worker builds the package (:mod:`gbconnect.api.packaging`) and the third party
   is notified with a ``BatchList`` naming that URL (REQ.21 FB_39). A second request
   for the same resource (same caller, path and query) while the first is pending is
   answered with the same package (``GBCONNECT_BATCH_DUPLICATE=same``) or refused
   with 400 and the GBA's text "An unprocessed batch request for the same resource
   already exists" (``reject``; the GBA tester counts it as a 202);
3. anything else streams as before.

``GET {resource base}/Batch/Package/{id}`` with a token of the same class, third
party and (for a customer token) Authorization as the request: 202 with
``Retry-After`` while pending; 200 with the feed when ready; 410 Gone once expired
(``GBCONNECT_BATCH_RETENTION_DAYS``) or when it could not be made; 404 for anyone
else's package, for one purged, and for an id that names none (as for any resource).

The ready feed is sent as ``application/atom+xml`` with ``Content-Encoding: gzip``
when the client accepts gzip (the stored bytes, untouched: no recompression, and
every HTTP client decodes it transparently, so the third party reads the very
document the synchronous request gives, with its usual media type), and decompressed
on the fly otherwise (RFC 9110 section 12.5.3: an encoding the client did not accept
is not sent). ``application/gzip`` was not chosen: a third party would need a second
code path for the same ESPI feed.
"""

from __future__ import annotations

import zlib
from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import dataclass
from typing import IO, Any
from urllib.parse import parse_qsl, urlencode

from fastapi import Request
from fastapi.responses import JSONResponse, Response, StreamingResponse
from sqlalchemy import Select, exists, func, literal, or_, select
from sqlalchemy.exc import IntegrityError
from starlette.concurrency import run_in_threadpool

from gbconnect.api import feeds, usage
from gbconnect.api.packages import (
    DUPLICATE_TEXT,
    FAILED,
    PENDING,
    BatchPackage,
    digest_of,
    file_path,
    new_package,
    owner_of,
    package_path,
    pending_for,
    readable_by,
)
from gbconnect.config import Settings
from gbconnect.espi.atom import MEDIA_TYPE
from gbconnect.espi.times import iso
from gbconnect.oauth.guard import AccessDenied, Caller, NotFound
from gbconnect.resource import now
from gbconnect.usage import models as um
from gbconnect.web.access import ADMIN, CLIENT, CUSTOMER, EspiRoutes
from gbconnect.web.errors import api_error
from gbconnect.web.serving import (
    CHUNK,
    Call,
    Prepared,
    Responder,
    http_date,
    invalid_request,
    responder_of,
)

#: The asynchronous batch routes, each with the token classes it admits.
routes = EspiRoutes()

#: Seconds a client is asked to wait before it asks again for a pending package.
RETRY_AFTER = 60


class Gone(AccessDenied):
    """410: a package that expired or could not be made (RFC 9110 section 15.5.11)."""

    def __init__(self, description: str) -> None:
        super().__init__(410, "gone", description)


# -- the decision -----------------------------------------------------------------------


def normalised_query(query_string: str) -> str:
    """The query, its parameters sorted: ``a=1&b=2`` and ``b=2&a=1`` are one resource."""
    return urlencode(sorted(parse_qsl(query_string, keep_blank_values=True)))


def _blocks_overlapping(ids: Sequence[int], lo: int | None, hi: int | None) -> Select[Any]:
    """A row per IntervalBlock of these usage points that overlaps ``[lo, hi)``."""
    ib, mr = um.IntervalBlock.__table__.c, um.MeterReading.__table__.c
    blocks = (
        select(literal(1))
        .select_from(um.IntervalBlock.__table__.join(um.MeterReading.__table__))
        .where(mr.usage_point_id.in_(ids))
    )
    if lo is not None:
        blocks = blocks.where(ib.start + ib.duration > lo)
    if hi is not None:
        blocks = blocks.where(ib.start < hi)
    return blocks


def blocks_covered(call: Call, spec: usage.BatchSpec, cap: int) -> int:
    """How many IntervalBlocks of ``spec``'s usage points overlap the request's
    ``published-min/max`` window, counted no further than ``cap``: the size of the
    feed in days of channels, known before anything is written."""
    if not spec.ids:
        return 0
    lo, hi = call.query.window
    inner = _blocks_overlapping(spec.ids, lo, hi)
    counted = select(func.count()).select_from(inner.limit(cap).subquery())
    return int(call.session.scalar(counted) or 0)


def empty_window(call: Call, spec: usage.BatchSpec) -> bool:
    """Whether the request names a window (published or updated) in which ``spec``'s
    usage points hold no IntervalBlock and no UsageSummary (PG&E's 204). The reading
    window is the union of each grant's (:func:`gbconnect.api.feeds.window`): when it
    says "empty", the feed surely shows no reading."""
    q = call.query
    given = (q.published_min, q.published_max, q.updated_min, q.updated_max)
    if all(v is None for v in given):
        return False
    if not spec.ids:
        return True
    windows = {feeds.window(spec.scoped(up)[0], q) for up in spec.ids}
    los, his = [w[0] for w in windows], [w[1] for w in windows]
    lo = None if any(v is None for v in los) else min(v for v in los if v is not None)
    hi = None if any(v is None for v in his) else max(v for v in his if v is not None)
    ib = um.IntervalBlock.__table__.c
    blocks = _blocks_overlapping(spec.ids, lo, hi)
    if q.updated_min is not None:
        blocks = blocks.where(ib.updated >= q.updated_min)
    if q.updated_max is not None:
        blocks = blocks.where(ib.updated <= q.updated_max)
    us = um.UsageSummary
    summaries = select(literal(1)).where(us.usage_point_id.in_(spec.ids))
    start = us.billing_period_start
    if lo is not None:
        summaries = summaries.where(or_(start.is_(None), start >= lo))
    if hi is not None:
        summaries = summaries.where(or_(start.is_(None), start < hi))
    found = call.session.scalar(select(or_(exists(blocks), exists(summaries))))
    return not found


class Deferral(Response):
    """What the plan answers for a request to be packaged: the package is recorded
    after the check, in a worker thread and a write transaction of its own
    (:func:`defer`), never on the event loop nor in the check's read session."""

    def __init__(self, caller: Caller, path: str, query: str) -> None:
        super().__init__(status_code=202)
        self.caller = caller
        self.path = path
        self.query = query


def decide(call: Call, spec: usage.BatchSpec, query: str) -> Prepared | Response:
    """204 (an empty window, when configured), a :class:`Deferral` (a large request),
    or the feed."""
    settings = call.settings
    if settings.empty_window_204 and empty_window(call, spec):
        return Response(status_code=204)
    threshold = settings.batch_async_blocks
    if threshold and blocks_covered(call, spec, threshold + 1) > threshold:
        return Deferral(call.caller, spec.path, query)
    return usage.batch(call, spec)


def accepted(settings: Settings, package_id: int, expires_at: float) -> JSONResponse:
    """The 202 of a pending package: ``Location`` names it, ``Retry-After`` says when
    to look (RFC 9110 sections 15.3.3, 10.2.3), the small body says the same."""
    url = settings.resource_url(package_path(package_id))
    body: dict[str, Any] = {
        "status": PENDING,
        "location": url,
        "retry_after": RETRY_AFTER,
        "expires": iso(int(expires_at)),
    }
    headers = {"Location": url, "Retry-After": str(RETRY_AFTER)}
    return JSONResponse(body, status_code=202, headers=headers)


def defer(responder: Responder, deferral: Deferral) -> Response:
    """Record the package of ``deferral`` (or find the pending one of the same
    request) and answer 202, or 400 when a pending one exists and
    ``GBCONNECT_BATCH_DUPLICATE`` is ``reject``."""
    settings = responder.settings
    caller = deferral.caller
    key = digest_of(owner_of(caller), deferral.path, deferral.query)
    with responder.sessions() as session:
        existing = pending_for(session, key)
        if existing is not None and existing.expires_at <= now():
            # No worker made it in time: it is given up, and this request starts anew.
            existing.state, existing.pending_key = FAILED, None
            existing.error = "expired before a worker made it"
            session.flush()
            existing = None
        if existing is None:
            package = new_package(caller, deferral.path, deferral.query, settings, now())
            session.add(package)
            try:
                session.commit()
                return accepted(settings, package.id, package.expires_at)
            except IntegrityError:  # the same request, recorded a moment before
                session.rollback()
                existing = pending_for(session, key)
                if existing is None:
                    raise
        if settings.batch_duplicate == "reject":
            response = invalid_request(DUPLICATE_TEXT)
            response.headers["Location"] = settings.resource_url(package_path(existing.id))
            return response
        return accepted(settings, existing.id, existing.expires_at)


async def serve_batch(request: Request, resolve: Callable[[Call], usage.BatchSpec]) -> Response:
    """Answer a deferrable Batch request: :func:`decide` inside the one request path,
    then record the package when the answer is 202."""
    responder = responder_of(request)
    query = normalised_query(request.url.query)
    response = await responder.serve(request, lambda call: decide(call, resolve(call), query))
    if isinstance(response, Deferral):
        return await run_in_threadpool(defer, responder, response)
    return response


@routes.get("/Batch/Subscription/{sid}", allow={CUSTOMER, CLIENT, ADMIN})
async def get_subscription_batch(request: Request, sid: int) -> Response:
    return await serve_batch(request, lambda call: usage.subscription_spec(call, sid))


@routes.get("/Batch/Subscription/{sid}/UsagePoint/{upid}", allow={CUSTOMER, CLIENT, ADMIN})
async def get_subscription_point_batch(request: Request, sid: int, upid: int) -> Response:
    return await serve_batch(request, lambda call: usage.subscription_point_spec(call, sid, upid))


@routes.get("/Batch/Bulk/{bulk_id}", allow={CLIENT})
async def get_bulk_batch(request: Request, bulk_id: int) -> Response:
    return await serve_batch(request, lambda call: usage.bulk_spec(call, bulk_id))


# -- the package ------------------------------------------------------------------------


@dataclass(frozen=True)
class PackageView:
    """A package the caller may read, as the check found it."""

    id: int
    state: str
    expires_at: float
    ready_at: float | None
    file: str | None
    size: int | None


def package_of(call: Call, package_id: int) -> PackageView:
    """Package ``package_id`` if the caller may read it (404 otherwise, as for any
    resource of someone else) and it is still to be had (410 otherwise)."""
    package = call.session.get(BatchPackage, package_id)
    if package is None or not readable_by(package, call.caller):
        raise NotFound()
    if package.expires_at <= now():
        raise Gone("this batch has expired; request the resource again")
    if package.state == FAILED:
        raise Gone("this batch could not be made; request the resource again")
    return PackageView(
        package.id,
        package.state,
        package.expires_at,
        package.ready_at,
        package.file,
        package.size,
    )


def accepts_gzip(header: str | None) -> bool:
    """Whether ``Accept-Encoding`` admits gzip (RFC 9110 section 12.5.3: ``gzip``,
    ``x-gzip`` or ``*`` without ``q=0``)."""
    for part in (header or "").split(","):
        name, _, params = part.strip().partition(";")
        if name.strip().lower() not in {"gzip", "x-gzip", "*"}:
            continue
        q = params.strip().lower().replace(" ", "")
        if q.startswith("q="):
            try:
                if float(q[2:]) == 0:
                    continue
            except ValueError:
                continue
        return True
    return False


async def _raw(handle: IO[bytes]) -> AsyncIterator[bytes]:
    try:
        while chunk := await run_in_threadpool(handle.read, CHUNK):
            yield chunk
    finally:
        handle.close()  # never blocks; done even when the client went away (cancelled)


async def _inflated(handle: IO[bytes]) -> AsyncIterator[bytes]:
    inflate = zlib.decompressobj(wbits=31)
    async for chunk in _raw(handle):
        out = inflate.decompress(chunk)
        if out:
            yield out
    rest = inflate.flush()
    if rest:
        yield rest


def _open(path: Any) -> IO[bytes] | None:
    try:
        handle: IO[bytes] = open(path, "rb")  # noqa: SIM115 (closed by the stream)
        return handle
    except FileNotFoundError:
        return None


async def package_response(request: Request, settings: Settings, view: PackageView) -> Response:
    """202 while pending; the feed when ready (gzip as stored, or inflated)."""
    if view.state == PENDING or view.file is None:
        return accepted(settings, view.id, view.expires_at)
    handle = await run_in_threadpool(_open, file_path(settings, view.file))
    if handle is None:  # purged by another server meanwhile
        return api_error(Gone("this batch has expired; request the resource again"))
    headers = {"Vary": "Accept-Encoding", "Cache-Control": "private, no-cache"}
    if view.ready_at is not None:
        headers["Last-Modified"] = http_date(int(view.ready_at))
    if accepts_gzip(request.headers.get("accept-encoding")):
        headers["Content-Encoding"] = "gzip"
        if view.size is not None:
            headers["Content-Length"] = str(view.size)
        return StreamingResponse(_raw(handle), media_type=MEDIA_TYPE, headers=headers)
    return StreamingResponse(_inflated(handle), media_type=MEDIA_TYPE, headers=headers)


@routes.get("/Batch/Package/{package_id}", allow={CUSTOMER, CLIENT, ADMIN})
async def get_package(request: Request, package_id: int) -> Response:
    """A package of an asynchronous batch, with the token class, third party and grant
    of the request that made it."""
    responder = responder_of(request)
    found = await responder.checked(request, lambda call: package_of(call, package_id))
    if isinstance(found, Response):
        return found
    return await package_response(request, responder.settings, found)
