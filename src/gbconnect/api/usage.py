"""The usage-data resources (REQ.21 section 1; STANDARD.md section 1): the Subscription
tree, Batch/Subscription, Batch/Bulk, Batch/RetailCustomer, ReadingType and
LocalTimeParameters.

A request is checked (token, class, scope, ids) in one short database session; the
feed is then streamed from a session of its own, block by block. A resource outside
what the token may see answers 404, like one that does not exist.
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response
from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from gbconnect.api import feeds
from gbconnect.config import Settings
from gbconnect.customer.models import RetailCustomer
from gbconnect.ingest.errors import IngestError
from gbconnect.ingest.services import ingest_file
from gbconnect.oauth import models as om
from gbconnect.oauth.guard import NOT_FOUND, AccessDenied, Caller, authenticate, with_token
from gbconnect.oauth.scoping import (
    FULL,
    Grant,
    Visibility,
    own_subscription,
    subscription_of,
    visibility,
)
from gbconnect.oauth.services import subscription_usage_point_ids
from gbconnect.registration import models as rm
from gbconnect.usage import models as um
from gbconnect.web.query import FeedQuery
from gbconnect.web.serving import Prepared, Responder, page

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
    ("GET", "/ReadingType"): {A, DC},
    ("GET", "/ReadingType/{id}"): {A, DC},
    ("GET", "/LocalTimeParameters"): {A, DC},
    ("GET", "/LocalTimeParameters/{id}"): {A, DC},
}


_SUP = om.subscription_usage_point
_IB = um.IntervalBlock.__table__
_MEMBER = (
    select(um.UsagePoint.service_kind)
    .join(_SUP, _SUP.c.usage_point_id == um.UsagePoint.id)
    .where(_SUP.c.subscription_id == bindparam("sid"), um.UsagePoint.id == bindparam("upid"))
)
#: One IntervalBlock of a usage point of a Subscription, with the point's commodity,
#: read together with the token (the hot path of third-party polling).
_BLOCK_WITH_TOKEN = with_token(
    select(
        _IB.c.id,
        _IB.c.start,
        _IB.c.duration,
        _IB.c.data,
        _IB.c.published,
        _IB.c.updated,
        um.UsagePoint.service_kind,
    )
    .join(um.MeterReading, um.MeterReading.id == _IB.c.meter_reading_id)
    .join(um.UsagePoint, um.UsagePoint.id == um.MeterReading.usage_point_id)
    .join(_SUP, _SUP.c.usage_point_id == um.UsagePoint.id)
    .where(
        _IB.c.id == bindparam("ib"),
        um.MeterReading.id == bindparam("mr"),
        um.UsagePoint.id == bindparam("up"),
        _SUP.c.subscription_id == bindparam("sid"),
    )
)
MAX_UPLOAD_BYTES = 1 << 30


def path_ids(*names: str) -> dict[str, Any]:
    """OpenAPI parameters of a route that reads its integer ids from ``{name:int}``
    path convertors (cheaper than FastAPI's per-parameter validation on a hot route;
    a non-numeric id matches no route: 404)."""
    return {
        "parameters": [
            {"name": n, "in": "path", "required": True, "schema": {"type": "integer"}}
            for n in names
        ]
    }


def add_usage_routes(
    router: APIRouter,
    settings: Settings,
    responder: Responder,
) -> None:
    public = settings.base_url.rstrip("/") + settings.resource_base.rstrip("/")

    sessions = responder.sessions
    serve, document, single = responder.serve, responder.document, responder.single

    # -- resolution ---------------------------------------------------------------------

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

    def batch(
        session: Session,
        self_href: str,
        title: str,
        ids: list[int],
        query: FeedQuery,
        scoped: Callable[[int], tuple[Grant, feeds.Paths]],
    ) -> Prepared:
        """A Batch feed: the whole tree of each usage point, seen under its grant."""

        def entries(s: Session) -> Iterator[str]:
            for up_id in page(iter(ids), query):
                grant, paths = scoped(up_id)
                up = s.get(um.UsagePoint, up_id)
                if up is not None and grant.service(up.service_kind):
                    yield from feeds.usage_point_tree(s, up, grant, paths, query)
                s.expunge_all()

        return document(self_href, title, entries, feeds.last_modified(session, ids))

    # -- the hot path, registered first (route matching is a linear scan) ------------

    @router.get(
        "/Subscription/{sid:int}/UsagePoint/{upid:int}/MeterReading/{mrid:int}"
        "/IntervalBlock/{ibid:int}",
        openapi_extra=path_ids("sid", "upid", "mrid", "ibid"),
    )
    async def interval_block(request: Request) -> Response:
        """One IntervalBlock entry: the resource third parties poll most."""
        ids = request.path_params
        sid, upid, mrid = ids["sid"], ids["upid"], ids["mrid"]

        def render(caller: Caller, row: Any, query: FeedQuery) -> Prepared:
            grant = own_subscription(caller, sid)
            if row.id is None or not grant.intervals or not grant.service(row.service_kind):
                raise NOT_FOUND
            paths = feeds.Paths(public, f"{public}/Subscription/{sid}")
            lo, hi = feeds.window(grant, query)
            text = feeds.block_entry(row, upid, mrid, grant, paths, lo, hi)
            if text is None:
                raise NOT_FOUND
            return single(text, row.updated)

        # The hot path of third-party polling: the token, the subscription check, the
        # usage point's commodity and the block in one statement, off the thread pool.
        key = ("GET", SUB + "/MeterReading/{id3}/IntervalBlock/{id4}")
        params = {"ib": ids["ibid"], "mr": mrid, "up": upid, "sid": sid}
        return await responder.serve_row(request, key, _BLOCK_WITH_TOKEN, params, render)

    # -- Batch feeds --------------------------------------------------------------------

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
            href = f"{public}/Batch/Subscription/{sid}"
            return batch(
                session, href, "Green Button Subscription", ids, query, lambda _: (grant, paths)
            )

        return await serve(request, ("GET", "/Batch/Subscription/{id}"), plan)

    @router.get("/Batch/Subscription/{sid}/UsagePoint/{upid}")
    async def batch_usage_point(request: Request, sid: int, upid: int) -> Response:
        def plan(session: Session, caller: Caller, query: FeedQuery) -> Prepared:
            grant, paths = point_in(session, caller, sid, upid)
            href = f"{public}/Batch/Subscription/{sid}/UsagePoint/{upid}"
            return batch(
                session, href, "Green Button UsagePoint", [upid], query, lambda _: (grant, paths)
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

            def scoped(up_id: int) -> tuple[Grant, feeds.Paths]:
                grant = vis.grants[up_id]
                return grant, feeds.Paths(public, f"{public}/Subscription/{grant.subscription_id}")

            return batch(
                session, f"{public}/Batch/Bulk/{bulk_id}", "Green Button Bulk", ids, query, scoped
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
            href = f"{public}/Batch/RetailCustomer/{rcid}/UsagePoint"
            return batch(
                session, href, "Green Button Download My Data", ids, query, lambda _: (FULL, paths)
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
            href = f"{public}/Batch/RetailCustomer/{rcid}/UsagePoint/{upid}"
            return batch(
                session,
                href,
                "Green Button Download My Data",
                [upid],
                query,
                lambda _: (FULL, paths),
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
