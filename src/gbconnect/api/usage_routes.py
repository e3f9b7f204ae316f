"""The usage-data resources (REQ.21 section 1; STANDARD.md section 1): the Subscription
tree, Batch/Subscription, Batch/Bulk, Batch/RetailCustomer, ReadingType and
LocalTimeParameters.

A request is checked (token, class, scope, ids) in one short database session; the
feed is then streamed from a session of its own, block by block. A resource outside
what the token may see answers 404, like one that does not exist.
"""

from __future__ import annotations

import hashlib
import itertools
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from email.utils import formatdate, parsedate_to_datetime
from pathlib import Path
from typing import Any, TypeVar

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response, StreamingResponse
from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session, sessionmaker
from starlette.concurrency import run_in_threadpool

from gbconnect.api import feeds
from gbconnect.api.query import FeedQuery, QueryError, parse_query
from gbconnect.api.scoping import FULL, Grant, Visibility, grant_of, grant_of_view, visibility
from gbconnect.config import Settings
from gbconnect.customer import models as cm
from gbconnect.customer.models import RetailCustomer, agreement_usage_point
from gbconnect.espi import customer_xml
from gbconnect.espi.atom import ATOM, MEDIA_TYPE, entry, feed
from gbconnect.ingest.errors import IngestError
from gbconnect.ingest.services import ingest_file
from gbconnect.oauth import models as om
from gbconnect.oauth.guard import NOT_FOUND, AccessDenied, Caller, authenticate
from gbconnect.oauth.services import subscription_usage_point_ids
from gbconnect.registration import models as rm
from gbconnect.resource import now
from gbconnect.usage import models as um

A, C, DC, U = om.CUSTOMER, om.CLIENT, om.ADMIN, om.UPLOAD
SUB = "/Subscription/{id}/UsagePoint/{id2}"

#: The usage resources and the token classes they admit (merged into api.routes.ACCESS).
USAGE_ACCESS: dict[tuple[str, str], set[str]] = {
    ("GET", "/Batch/Subscription/{id}"): {A, DC},
    ("GET", "/Batch/Subscription/{id}/UsagePoint/{id2}"): {A, DC},
    ("GET", "/Batch/Bulk/{id}"): {C},
    ("GET", "/Batch/RetailCustomer/{id}/UsagePoint"): {U, DC},
    ("GET", "/Batch/RetailCustomer/{id}/UsagePoint/{id2}"): {U, DC},
    ("POST", "/Batch/RetailCustomer/{id}/UsagePoint"): {U, DC},
    ("GET", "/Subscription/{id}/UsagePoint"): {A},
    ("GET", SUB): {A},
    ("GET", SUB + "/MeterReading"): {A},
    ("GET", SUB + "/MeterReading/{id3}"): {A},
    ("GET", SUB + "/MeterReading/{id3}/IntervalBlock"): {A},
    ("GET", SUB + "/MeterReading/{id3}/IntervalBlock/{id4}"): {A},
    ("GET", SUB + "/UsageSummary"): {A},
    ("GET", SUB + "/UsageSummary/{id3}"): {A},
    ("GET", SUB + "/ElectricPowerQualitySummary"): {A},
    ("GET", SUB + "/ElectricPowerQualitySummary/{id3}"): {A},
    ("GET", "/Customer/{id}"): {A, DC},
    ("GET", "/Customer/{id}/CustomerAccount"): {A, DC},
    ("GET", "/Customer/{id}/CustomerAccount/{id2}"): {A, DC},
    ("GET", "/Customer/{id}/CustomerAgreement"): {A, DC},
    ("GET", "/Customer/{id}/CustomerAgreement/{id2}"): {A, DC},
    ("GET", "/Customer/{id}/ServiceLocation"): {A, DC},
    ("GET", "/Customer/{id}/ServiceLocation/{id2}"): {A, DC},
    ("GET", "/Customer/{id}/Meter"): {A, DC},
    ("GET", "/Customer/{id}/Meter/{id2}"): {A, DC},
    ("GET", "/ReadingType"): {A, DC},
    ("GET", "/ReadingType/{id}"): {A, DC},
    ("GET", "/LocalTimeParameters"): {A, DC},
    ("GET", "/LocalTimeParameters/{id}"): {A, DC},
}

Plan = Callable[[Session], Iterator[str]]
XML_DECLARATION = '<?xml version="1.0" encoding="UTF-8"?>\n'

_SUP = om.subscription_usage_point
_MEMBER = (
    select(um.UsagePoint.service_kind)
    .join(_SUP, _SUP.c.usage_point_id == um.UsagePoint.id)
    .where(_SUP.c.subscription_id == bindparam("sid"), um.UsagePoint.id == bindparam("upid"))
)
_BLOCK = (
    select(um.IntervalBlock.__table__, um.UsagePoint.service_kind)
    .join(um.MeterReading, um.MeterReading.id == um.IntervalBlock.meter_reading_id)
    .join(um.UsagePoint, um.UsagePoint.id == um.MeterReading.usage_point_id)
    .join(_SUP, _SUP.c.usage_point_id == um.UsagePoint.id)
    .where(
        um.IntervalBlock.id == bindparam("ib"),
        um.MeterReading.id == bindparam("mr"),
        um.UsagePoint.id == bindparam("up"),
        _SUP.c.subscription_id == bindparam("sid"),
    )
)
CHUNK = 256 * 1024
MAX_UPLOAD_BYTES = 1 << 30


@dataclass
class Prepared:
    """A checked request: what to stream, and when its content last changed."""

    run: Plan
    modified: int | None = None
    grant_key: str = ""
    body: str | None = None  # a small document, answered without streaming

    def __call__(self, session: Session) -> Iterator[str]:
        return self.run(session)


def validators(request: Request, prepared: Prepared) -> dict[str, str]:
    """``ETag`` and ``Last-Modified`` (RFC 9110 section 8.8) of a response whose content
    is known to change only with ``prepared.modified``; the ETag also covers the URL
    and the grant (a narrower scope is another representation)."""
    if prepared.modified is None:
        return {}
    seed = f"{request.url.path}?{request.url.query}|{prepared.modified}|{prepared.grant_key}"
    tag = hashlib.sha256(seed.encode()).hexdigest()[:32]
    return {
        "ETag": f'W/"{tag}"',
        "Last-Modified": formatdate(prepared.modified, usegmt=True),
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


T = TypeVar("T")


def add_usage_routes(
    router: APIRouter, settings: Settings, sessions: sessionmaker[Session]
) -> None:
    public = settings.base_url.rstrip("/") + settings.resource_base.rstrip("/")

    async def serve(request: Request, key: tuple[str, str], plan: Callable[..., Any]) -> Response:
        """Check in one session, then stream the plan's pieces from another."""

        def prepare() -> Response | Prepared:
            with sessions() as session:
                try:
                    caller = authenticate(request, session, USAGE_ACCESS[key])
                    query = parse_query(request.query_params)
                    result: Response | Prepared = plan(session, caller, query)
                    if isinstance(result, Prepared) and result.modified is not None:
                        view = caller.grant
                        result.grant_key = f"{caller.token_class}:" + (
                            f"{view.id}:{view.updated}:{view.scope}" if view else ""
                        )
                    return result
                except AccessDenied as denied:
                    return denied.response()
                except QueryError as exc:
                    return JSONResponse(
                        {"error": "invalid_request", "error_description": str(exc)},
                        status_code=400,
                    )

        prepared = await run_in_threadpool(prepare)
        if isinstance(prepared, Response):
            return prepared
        headers = validators(request, prepared)
        if headers and not_modified(request, headers, prepared.modified):
            return Response(status_code=304, headers=headers)
        if prepared.body is not None:
            return Response(prepared.body, media_type=MEDIA_TYPE, headers=headers)

        def stream() -> Iterator[bytes]:
            # Pieces are gathered into chunks of about CHUNK bytes: each chunk crosses
            # from the thread pool to the event loop once.
            with sessions() as session:
                buffer: list[str] = []
                size = 0
                for piece in prepared(session):
                    buffer.append(piece)
                    size += len(piece)
                    if size >= CHUNK:
                        yield "".join(buffer).encode()
                        buffer.clear()
                        size = 0
                if buffer:
                    yield "".join(buffer).encode()

        return StreamingResponse(stream(), media_type=MEDIA_TYPE, headers=headers)

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

    def single(text: str, modified: int | None = None) -> Prepared:
        """One entry: small, so answered whole without streaming."""
        body = XML_DECLARATION + text.replace("<entry>", f'<entry xmlns="{ATOM}">', 1)
        return Prepared(lambda session: iter((body,)), modified, body=body)

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

    # -- resolution ---------------------------------------------------------------------

    def subscription_of(session: Session, caller: Caller, sid: int) -> Grant:
        """The grant of Subscription ``sid`` if the caller may read it (404 otherwise).
        A customer token's own grant came with the token: no query."""
        if caller.token_class == A:
            view = caller.grant
            if view is None or view.subscription_id != sid:
                raise NOT_FOUND
            return grant_of_view(view)
        sub = session.get(om.Subscription, sid)
        if sub is None:
            raise NOT_FOUND
        return grant_of(sub.authorization)

    def visible_points(session: Session, ids: list[int], grant: Grant) -> list[um.UsagePoint]:
        if not ids:
            return []
        rows = session.scalars(
            select(um.UsagePoint).where(um.UsagePoint.id.in_(ids)).order_by(um.UsagePoint.id)
        )
        return [up for up in rows if grant.service(up.service_kind)]

    def point_in(
        session: Session, caller: Caller, sid: int, upid: int
    ) -> tuple[Grant, feeds.Paths]:
        """The grant over usage point ``upid`` of Subscription ``sid`` (404 when the
        point is not in it or its commodity is outside the scope); one query."""
        grant = subscription_of(session, caller, sid)
        kind = session.connection().execute(_MEMBER, {"sid": sid, "upid": upid}).scalar()
        if kind is None or not grant.service(kind):
            raise NOT_FOUND
        return grant, feeds.Paths(public, f"{public}/Subscription/{sid}")

    # -- Batch --------------------------------------------------------------------------

    @router.get("/Batch/Subscription/{sid}")
    async def batch_subscription(request: Request, sid: int) -> Response:
        """FND005: the whole tree of one customer's authorization."""

        def plan(session: Session, caller: Caller, query: FeedQuery) -> Prepared:
            grant = subscription_of(session, caller, sid)
            ids = [
                up.id
                for up in visible_points(session, subscription_usage_point_ids(session, sid), grant)
            ]
            paths = feeds.Paths(public, f"{public}/Subscription/{sid}")

            def entries(s: Session) -> Iterator[str]:
                for up_id in page(iter(ids), query):
                    up = s.get(um.UsagePoint, up_id)
                    if up is not None:
                        yield from feeds.usage_point_tree(s, up, grant, paths, query)

            return document(
                f"{public}/Batch/Subscription/{sid}",
                "Green Button Subscription",
                entries,
                feeds.last_modified(session, ids),
            )

        return await serve(request, ("GET", "/Batch/Subscription/{id}"), plan)

    @router.get("/Batch/Subscription/{sid}/UsagePoint/{upid}")
    async def batch_usage_point(request: Request, sid: int, upid: int) -> Response:
        def plan(session: Session, caller: Caller, query: FeedQuery) -> Prepared:
            grant, paths = point_in(session, caller, sid, upid)

            def entries(s: Session) -> Iterator[str]:
                fresh = s.get(um.UsagePoint, upid)
                if fresh is not None:
                    yield from feeds.usage_point_tree(s, fresh, grant, paths, query)

            return document(
                f"{public}/Batch/Subscription/{sid}/UsagePoint/{upid}",
                "Green Button UsagePoint",
                entries,
                feeds.last_modified(session, [upid]),
            )

        return await serve(request, ("GET", "/Batch/Subscription/{id}/UsagePoint/{id2}"), plan)

    @router.get("/Batch/Bulk/{bulk_id}")
    async def batch_bulk(request: Request, bulk_id: int) -> Response:
        """RBK001: every usage point of every active authorization of the third party."""

        def plan(session: Session, caller: Caller, query: FeedQuery) -> Prepared:
            app = session.get(rm.ApplicationInformation, caller.application_id)
            if app is None or app.bulk_id != bulk_id:
                raise NOT_FOUND
            vis: Visibility = visibility(session, caller)
            ids = sorted(vis.grants)

            def entries(s: Session) -> Iterator[str]:
                for up_id in page(iter(ids), query):
                    grant = vis.grants[up_id]
                    up = s.get(um.UsagePoint, up_id)
                    if up is None or not grant.service(up.service_kind):
                        continue
                    paths = feeds.Paths(public, f"{public}/Subscription/{grant.subscription_id}")
                    yield from feeds.usage_point_tree(s, up, grant, paths, query)
                    s.expunge_all()

            return document(
                f"{public}/Batch/Bulk/{bulk_id}",
                "Green Button Bulk",
                entries,
                feeds.last_modified(session, ids),
            )

        return await serve(request, ("GET", "/Batch/Bulk/{id}"), plan)

    def customer_points(session: Session, rcid: int) -> list[int]:
        if session.get(RetailCustomer, rcid) is None:
            raise NOT_FOUND
        return list(
            session.scalars(
                select(um.UsagePoint.id)
                .where(um.UsagePoint.retail_customer_id == rcid)
                .order_by(um.UsagePoint.id)
            )
        )

    @router.get("/Batch/RetailCustomer/{rcid}/UsagePoint")
    async def batch_customer(request: Request, rcid: int) -> Response:
        """Download My Data: all of a customer's usage points (upload and admin tokens)."""

        def plan(session: Session, caller: Caller, query: FeedQuery) -> Prepared:
            ids = customer_points(session, rcid)
            paths = feeds.Paths(public, f"{public}/RetailCustomer/{rcid}")

            def entries(s: Session) -> Iterator[str]:
                for up_id in page(iter(ids), query):
                    up = s.get(um.UsagePoint, up_id)
                    if up is not None:
                        yield from feeds.usage_point_tree(s, up, FULL, paths, query)
                    s.expunge_all()

            return document(
                f"{public}/Batch/RetailCustomer/{rcid}/UsagePoint",
                "Green Button Download My Data",
                entries,
                feeds.last_modified(session, ids),
            )

        return await serve(request, ("GET", "/Batch/RetailCustomer/{id}/UsagePoint"), plan)

    @router.post("/Batch/RetailCustomer/{rcid}/UsagePoint")
    async def upload(request: Request, rcid: int) -> Response:
        """Upload a Green Button XML file for a customer (meter data management, upload
        and admin tokens): imported by the same importer as ``gbconnect ingest``, whole
        or not at all."""

        def check() -> Response | str:
            with sessions() as session:
                try:
                    authenticate(
                        request,
                        session,
                        USAGE_ACCESS[("POST", "/Batch/RetailCustomer/{id}/UsagePoint")],
                    )
                    customer = session.get(RetailCustomer, rcid)
                    if customer is None:
                        raise NOT_FOUND
                    return customer.username
                except AccessDenied as denied:
                    return denied.response()

        checked = await run_in_threadpool(check)
        if isinstance(checked, Response):
            return checked
        with tempfile.NamedTemporaryFile(prefix="gbconnect-upload-", suffix=".xml") as tmp:
            size = 0
            async for chunk in request.stream():
                size += len(chunk)
                if size > MAX_UPLOAD_BYTES:
                    limit = MAX_UPLOAD_BYTES >> 20
                    return JSONResponse(
                        {
                            "error": "invalid_request",
                            "error_description": f"uploads are limited to {limit} MiB",
                        },
                        status_code=413,
                    )
                tmp.write(chunk)
            tmp.flush()
            if size == 0:
                return JSONResponse(
                    {"error": "invalid_request", "error_description": "the body is empty"},
                    status_code=400,
                )

            def run() -> Response:
                try:
                    summary = ingest_file(sessions, Path(tmp.name), checked, settings.zone)
                except IngestError as exc:
                    return JSONResponse(
                        {
                            "error": "invalid_request",
                            "error_description": str(exc).replace(tmp.name, "upload"),
                        },
                        status_code=400,
                    )
                return JSONResponse(
                    {
                        "format": summary.format,
                        "usage_points": summary.usage_points,
                        "meter_readings": summary.meter_readings,
                        "readings": summary.readings,
                        "blocks_new": summary.blocks.inserted,
                        "blocks_replaced": summary.blocks.replaced,
                        "blocks_unchanged": summary.blocks.unchanged,
                    }
                )

            return await run_in_threadpool(run)

    @router.get("/Batch/RetailCustomer/{rcid}/UsagePoint/{upid}")
    async def batch_customer_point(request: Request, rcid: int, upid: int) -> Response:
        def plan(session: Session, caller: Caller, query: FeedQuery) -> Prepared:
            if upid not in customer_points(session, rcid):
                raise NOT_FOUND
            paths = feeds.Paths(public, f"{public}/RetailCustomer/{rcid}")

            def entries(s: Session) -> Iterator[str]:
                up = s.get(um.UsagePoint, upid)
                if up is not None:
                    yield from feeds.usage_point_tree(s, up, FULL, paths, query)

            return document(
                f"{public}/Batch/RetailCustomer/{rcid}/UsagePoint/{upid}",
                "Green Button Download My Data",
                entries,
                feeds.last_modified(session, [upid]),
            )

        return await serve(request, ("GET", "/Batch/RetailCustomer/{id}/UsagePoint/{id2}"), plan)

    # -- the Subscription tree ------------------------------------------------------------

    @router.get("/Subscription/{sid}/UsagePoint")
    async def usage_points(request: Request, sid: int) -> Response:
        def plan(session: Session, caller: Caller, query: FeedQuery) -> Prepared:
            grant = subscription_of(session, caller, sid)
            ids = [
                up.id
                for up in visible_points(session, subscription_usage_point_ids(session, sid), grant)
            ]
            paths = feeds.Paths(public, f"{public}/Subscription/{sid}")

            def entries(s: Session) -> Iterator[str]:
                rows = (s.get(um.UsagePoint, i) for i in ids)
                texts = (
                    feeds.usage_point_entry(up, grant, paths)
                    for up in rows
                    if up is not None and query.updated_ok(up.updated)
                )
                yield from page(texts, query)

            return document(paths.usage_points(), "UsagePoint", entries)

        return await serve(request, ("GET", "/Subscription/{id}/UsagePoint"), plan)

    @router.get("/Subscription/{sid}/UsagePoint/{upid}")
    async def usage_point(request: Request, sid: int, upid: int) -> Response:
        def plan(session: Session, caller: Caller, query: FeedQuery) -> Prepared:
            grant, paths = point_in(session, caller, sid, upid)
            up = session.get(um.UsagePoint, upid)
            if up is None:
                raise NOT_FOUND
            return single(feeds.usage_point_entry(up, grant, paths), up.updated)

        return await serve(request, ("GET", SUB), plan)

    def readings_allowed(
        session: Session, caller: Caller, sid: int, upid: int
    ) -> tuple[Grant, feeds.Paths]:
        grant, paths = point_in(session, caller, sid, upid)
        if not grant.intervals:
            raise NOT_FOUND
        return grant, paths

    def meter_reading_of(session: Session, upid: int, mrid: int) -> um.MeterReading:
        mr = session.get(um.MeterReading, mrid)
        if mr is None or mr.usage_point_id != upid:
            raise NOT_FOUND
        return mr

    @router.get("/Subscription/{sid}/UsagePoint/{upid}/MeterReading")
    async def meter_readings(request: Request, sid: int, upid: int) -> Response:
        def plan(session: Session, caller: Caller, query: FeedQuery) -> Prepared:
            _grant, paths = readings_allowed(session, caller, sid, upid)

            def entries(s: Session) -> Iterator[str]:
                rows = feeds.meter_readings(s, upid)
                yield from page(
                    (
                        feeds.meter_reading_entry(mr, upid, paths)
                        for mr in rows
                        if query.updated_ok(mr.updated)
                    ),
                    query,
                )

            return document(paths.meter_readings(upid), "MeterReading", entries)

        return await serve(request, ("GET", SUB + "/MeterReading"), plan)

    @router.get("/Subscription/{sid}/UsagePoint/{upid}/MeterReading/{mrid}")
    async def meter_reading(request: Request, sid: int, upid: int, mrid: int) -> Response:
        def plan(session: Session, caller: Caller, query: FeedQuery) -> Prepared:
            _grant, paths = readings_allowed(session, caller, sid, upid)
            mr = meter_reading_of(session, upid, mrid)
            return single(feeds.meter_reading_entry(mr, upid, paths), mr.updated)

        return await serve(request, ("GET", SUB + "/MeterReading/{id3}"), plan)

    @router.get("/Subscription/{sid}/UsagePoint/{upid}/MeterReading/{mrid}/IntervalBlock")
    async def interval_blocks(request: Request, sid: int, upid: int, mrid: int) -> Response:
        """QRY001: published-min/max select readings by their own time period."""

        def plan(session: Session, caller: Caller, query: FeedQuery) -> Prepared:
            grant, paths = readings_allowed(session, caller, sid, upid)
            lo, hi = feeds.window(grant, query)

            def entries(s: Session) -> Iterator[str]:
                texts = (
                    feeds.block_entry(row, upid, mrid, grant, paths, lo, hi)
                    for row in feeds.block_rows(s, mrid, lo, hi, query)
                )
                yield from page((t for t in texts if t is not None), query)

            mr = meter_reading_of(session, upid, mrid)
            return document(paths.blocks(upid, mrid), "IntervalBlock", entries, mr.updated)

        return await serve(request, ("GET", SUB + "/MeterReading/{id3}/IntervalBlock"), plan)

    @router.get("/Subscription/{sid}/UsagePoint/{upid}/MeterReading/{mrid}/IntervalBlock/{ibid}")
    async def interval_block(
        request: Request, sid: int, upid: int, mrid: int, ibid: int
    ) -> Response:
        def plan(session: Session, caller: Caller, query: FeedQuery) -> Prepared:
            # The hot path of third-party polling: the subscription check, the usage
            # point's commodity and the block in one query.
            grant = subscription_of(session, caller, sid)
            row = (
                session.connection()
                .execute(_BLOCK, {"ib": ibid, "mr": mrid, "up": upid, "sid": sid})
                .first()
            )
            if row is None or not grant.intervals or not grant.service(row.service_kind):
                raise NOT_FOUND
            paths = feeds.Paths(public, f"{public}/Subscription/{sid}")
            lo, hi = feeds.window(grant, query)
            text = feeds.block_entry(row, upid, mrid, grant, paths, lo, hi)
            if text is None:
                raise NOT_FOUND
            return single(text, row.updated)

        return await serve(request, ("GET", SUB + "/MeterReading/{id3}/IntervalBlock/{id4}"), plan)

    @router.get("/Subscription/{sid}/UsagePoint/{upid}/UsageSummary")
    async def usage_summaries(request: Request, sid: int, upid: int) -> Response:
        def plan(session: Session, caller: Caller, query: FeedQuery) -> Prepared:
            grant, paths = point_in(session, caller, sid, upid)
            if not grant.summaries:
                raise NOT_FOUND
            lo, hi = feeds.window(grant, query)

            def entries(s: Session) -> Iterator[str]:
                rows = feeds.summaries(s, upid, lo, hi)
                yield from page(
                    (
                        feeds.summary_entry(us, upid, grant, paths)
                        for us in rows
                        if query.updated_ok(us.updated)
                    ),
                    query,
                )

            return document(paths.summaries(upid), "UsageSummary", entries)

        return await serve(request, ("GET", SUB + "/UsageSummary"), plan)

    @router.get("/Subscription/{sid}/UsagePoint/{upid}/UsageSummary/{usid}")
    async def usage_summary(request: Request, sid: int, upid: int, usid: int) -> Response:
        def plan(session: Session, caller: Caller, query: FeedQuery) -> Prepared:
            grant, paths = point_in(session, caller, sid, upid)
            us = session.get(um.UsageSummary, usid)
            lo, hi = feeds.window(grant, query)
            if (
                not grant.summaries
                or us is None
                or us.usage_point_id != upid
                or not feeds._in_window(us.billing_period_start, lo, hi)
            ):
                raise NOT_FOUND
            text = feeds.summary_entry(us, upid, grant, paths)
            return single(text, us.updated)

        return await serve(request, ("GET", SUB + "/UsageSummary/{id3}"), plan)

    @router.get("/Subscription/{sid}/UsagePoint/{upid}/ElectricPowerQualitySummary")
    async def quality_summaries(request: Request, sid: int, upid: int) -> Response:
        def plan(session: Session, caller: Caller, query: FeedQuery) -> Prepared:
            grant, paths = point_in(session, caller, sid, upid)
            if not grant.quality:
                raise NOT_FOUND

            def entries(s: Session) -> Iterator[str]:
                yield from page(
                    (feeds.quality_entry(q, upid, paths) for q in feeds.qualities(s, upid)), query
                )

            return document(paths.qualities(upid), "ElectricPowerQualitySummary", entries)

        return await serve(request, ("GET", SUB + "/ElectricPowerQualitySummary"), plan)

    @router.get("/Subscription/{sid}/UsagePoint/{upid}/ElectricPowerQualitySummary/{qid}")
    async def quality_summary(request: Request, sid: int, upid: int, qid: int) -> Response:
        def plan(session: Session, caller: Caller, query: FeedQuery) -> Prepared:
            grant, paths = point_in(session, caller, sid, upid)
            q = session.get(um.ElectricPowerQualitySummary, qid)
            if not grant.quality or q is None or q.usage_point_id != upid:
                raise NOT_FOUND
            text = feeds.quality_entry(q, upid, paths)
            return single(text, q.updated)

        return await serve(request, ("GET", SUB + "/ElectricPowerQualitySummary/{id3}"), plan)

    # -- ReadingType and LocalTimeParameters ----------------------------------------------

    def visible_readings_types(
        session: Session, caller: Caller
    ) -> tuple[list[um.ReadingType], Grant]:
        if caller.token_class == DC:
            return list(session.scalars(select(um.ReadingType).order_by(um.ReadingType.id))), FULL
        vis = visibility(session, caller)
        grant = next(iter(vis.grants.values()), None)
        if grant is None or not grant.intervals:
            return [], FULL
        points = visible_points(session, list(vis.grants), grant)
        rt_ids = session.scalars(
            select(um.MeterReading.reading_type_id).where(
                um.MeterReading.usage_point_id.in_([p.id for p in points])
            )
        ).all()
        ids = sorted({i for i in rt_ids if i is not None})
        rows = list(
            session.scalars(
                select(um.ReadingType).where(um.ReadingType.id.in_(ids)).order_by(um.ReadingType.id)
            )
        )
        return rows, grant

    @router.get("/ReadingType")
    async def reading_types(request: Request) -> Response:
        def plan(session: Session, caller: Caller, query: FeedQuery) -> Prepared:
            rows, grant = visible_readings_types(session, caller)
            paths = feeds.Paths(public, public)
            texts = [
                feeds.reading_type_entry(rt, grant, paths)
                for rt in rows
                if query.updated_ok(rt.updated)
            ]
            return document(
                f"{public}/ReadingType", "ReadingType", lambda s: page(iter(texts), query)
            )

        return await serve(request, ("GET", "/ReadingType"), plan)

    @router.get("/ReadingType/{rtid}")
    async def reading_type(request: Request, rtid: int) -> Response:
        def plan(session: Session, caller: Caller, query: FeedQuery) -> Prepared:
            rows, grant = visible_readings_types(session, caller)
            match = (
                [rt for rt in rows if rt.id == rtid]
                if caller.token_class != DC
                else [rt for rt in [session.get(um.ReadingType, rtid)] if rt is not None]
            )
            if not match:
                raise NOT_FOUND
            text = feeds.reading_type_entry(match[0], grant, feeds.Paths(public, public))
            return single(text, match[0].updated)

        return await serve(request, ("GET", "/ReadingType/{id}"), plan)

    def visible_time_parameters(session: Session, caller: Caller) -> list[um.LocalTimeParameters]:
        if caller.token_class == DC:
            return list(
                session.scalars(select(um.LocalTimeParameters).order_by(um.LocalTimeParameters.id))
            )
        vis = visibility(session, caller)
        ids = session.scalars(
            select(um.UsagePoint.local_time_parameters_id).where(
                um.UsagePoint.id.in_(list(vis.grants))
            )
        ).all()
        wanted = sorted({i for i in ids if i is not None})
        return list(
            session.scalars(
                select(um.LocalTimeParameters).where(um.LocalTimeParameters.id.in_(wanted))
            )
        )

    @router.get("/LocalTimeParameters")
    async def time_parameters(request: Request) -> Response:
        def plan(session: Session, caller: Caller, query: FeedQuery) -> Prepared:
            paths = feeds.Paths(public, public)
            texts = [
                feeds.local_time_entry(t, paths) for t in visible_time_parameters(session, caller)
            ]
            return document(
                f"{public}/LocalTimeParameters",
                "LocalTimeParameters",
                lambda s: page(iter(texts), query),
            )

        return await serve(request, ("GET", "/LocalTimeParameters"), plan)

    @router.get("/LocalTimeParameters/{ltpid}")
    async def time_parameter(request: Request, ltpid: int) -> Response:
        def plan(session: Session, caller: Caller, query: FeedQuery) -> Prepared:
            match = [t for t in visible_time_parameters(session, caller) if t.id == ltpid]
            if not match:
                raise NOT_FOUND
            text = feeds.local_time_entry(match[0], feeds.Paths(public, public))
            return single(text, match[0].updated)

        return await serve(request, ("GET", "/LocalTimeParameters/{id}"), plan)

    # -- customer.xsd: the retail customer's records (FB_51-60) --------------------------

    def customer_records(session: Session, caller: Caller, sid: int) -> dict[str, list[Any]]:
        """The customer records behind Subscription ``sid``: the agreements covering its
        usage points, their accounts, customers and service locations, and the meters
        of those usage points. 404 without a retail-customer scope."""
        grant = subscription_of(session, caller, sid)
        if not grant.customer_data:
            raise NOT_FOUND
        up_ids = subscription_usage_point_ids(session, sid)
        covering = select(agreement_usage_point.c.customer_agreement_id).where(
            agreement_usage_point.c.usage_point_id.in_(up_ids)
        )
        agreements = list(
            session.scalars(
                select(cm.CustomerAgreement)
                .where(cm.CustomerAgreement.id.in_(covering))
                .order_by(cm.CustomerAgreement.id)
            )
        )
        account_ids = {a.customer_account_id for a in agreements if a.customer_account_id}
        accounts = list(
            session.scalars(
                select(cm.CustomerAccount)
                .where(cm.CustomerAccount.id.in_(account_ids))
                .order_by(cm.CustomerAccount.id)
            )
        )
        customer_ids = {a.customer_id for a in accounts if a.customer_id}
        return {
            "Customer": list(
                session.scalars(
                    select(cm.Customer)
                    .where(cm.Customer.id.in_(customer_ids))
                    .order_by(cm.Customer.id)
                )
            ),
            "CustomerAccount": accounts,
            "CustomerAgreement": agreements,
            "ServiceLocation": list(
                session.scalars(
                    select(cm.ServiceLocation)
                    .where(cm.ServiceLocation.customer_agreement_id.in_([a.id for a in agreements]))
                    .order_by(cm.ServiceLocation.id)
                )
            ),
            "Meter": list(
                session.scalars(
                    select(cm.Meter)
                    .where(cm.Meter.usage_point_id.in_(up_ids))
                    .order_by(cm.Meter.id)
                )
            ),
        }

    writers: dict[str, Callable[[Any], str]] = {
        "CustomerAccount": customer_xml.customer_account,
        "CustomerAgreement": customer_xml.customer_agreement,
        "ServiceLocation": customer_xml.service_location,
        "Meter": customer_xml.meter,
    }

    def record_entry(sid: int, kind: str, row: Any) -> str:
        base = f"{public}/Customer/{sid}"
        if kind == "Customer":
            return entry(
                self_href=base,
                up_href=f"{public}/Customer",
                related=[f"{base}/{k}" for k in writers],
                title=row.title or row.name,
                published=row.published,
                updated=row.updated,
                content=customer_xml.customer(row),
            )
        return entry(
            self_href=f"{base}/{kind}/{row.id}",
            up_href=f"{base}/{kind}",
            title=row.title,
            published=row.published,
            updated=row.updated,
            content=writers[kind](row),
        )

    @router.get("/Customer/{sid}")
    async def customer_record(request: Request, sid: int) -> Response:
        """The Customer of a subscription (customer.xsd; needs the retail-customer scope)."""

        def plan(session: Session, caller: Caller, query: FeedQuery) -> Prepared:
            found = customer_records(session, caller, sid)["Customer"]
            if not found:
                raise NOT_FOUND
            return single(record_entry(sid, "Customer", found[0]), found[0].updated)

        return await serve(request, ("GET", "/Customer/{id}"), plan)

    def add_record_routes(kind: str) -> None:
        async def collection(request: Request, sid: int) -> Response:
            def plan(session: Session, caller: Caller, query: FeedQuery) -> Prepared:
                rows = [
                    r
                    for r in customer_records(session, caller, sid)[kind]
                    if query.updated_ok(r.updated)
                ]
                texts = [record_entry(sid, kind, r) for r in rows]
                modified = max((r.updated for r in rows), default=None)
                return document(
                    f"{public}/Customer/{sid}/{kind}",
                    kind,
                    lambda s: page(iter(texts), query),
                    modified,
                )

            return await serve(request, ("GET", f"/Customer/{{id}}/{kind}"), plan)

        async def member(request: Request, sid: int, rid: int) -> Response:
            def plan(session: Session, caller: Caller, query: FeedQuery) -> Prepared:
                match = [r for r in customer_records(session, caller, sid)[kind] if r.id == rid]
                if not match:
                    raise NOT_FOUND
                return single(record_entry(sid, kind, match[0]), match[0].updated)

            return await serve(request, ("GET", f"/Customer/{{id}}/{kind}/{{id2}}"), plan)

        router.add_api_route(
            f"/Customer/{{sid}}/{kind}", collection, methods=["GET"], name=f"{kind} feed"
        )
        router.add_api_route(
            f"/Customer/{{sid}}/{kind}/{{rid}}", member, methods=["GET"], name=f"{kind} entry"
        )

    for kind in writers:
        add_record_routes(kind)
