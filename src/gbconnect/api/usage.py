"""The usage-data resources (REQ.21 section 1; STANDARD.md section 1): the Subscription
tree, the RetailCustomer tree (the hrefs of Download My Data), the Batch feeds
(Batch/Subscription and Batch/Bulk are resolved here as a :class:`BatchSpec` and
routed by :mod:`gbconnect.api.batches`, which may answer them 202), Batch/RetailCustomer,
ReadingType and LocalTimeParameters.

Each route is a handler declared with its path and token classes (:data:`routes`); the
handler hands a *plan* to the one request path (:mod:`gbconnect.web.serving`). A plan
is a plain function of the checked call and the path's ids that resolves them under the
caller's grant and returns the document to answer: importable and testable without a
web server. A resource outside what the token may see answers 404, like one that does
not exist.
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.responses import JSONResponse, Response
from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from gbconnect.api import feeds, rowpath
from gbconnect.api.bulk import own_bulk
from gbconnect.api.feeds import root_paths, subscription_paths
from gbconnect.audit import Actor
from gbconnect.audit.record import SYSTEM
from gbconnect.config import Settings
from gbconnect.customer.models import RetailCustomer
from gbconnect.ingest import runs as import_runs
from gbconnect.ingest.errors import IngestError
from gbconnect.ingest.services import ingest_file
from gbconnect.ingest.summary import FileSummary
from gbconnect.oauth import models as om
from gbconnect.oauth.guard import AccessDenied, Caller, NotFound, with_token
from gbconnect.oauth.scoping import (
    FULL,
    Grant,
    grant_of,
    own_subscription,
    subscription_of,
    visibility,
)
from gbconnect.oauth.services import subscription_usage_point_ids
from gbconnect.resource import now
from gbconnect.usage import models as um
from gbconnect.usage.points import customer_usage_point_ids, usage_points_by_id
from gbconnect.web.access import ADMIN, CLIENT, CUSTOMER, UPLOAD, EspiRoutes
from gbconnect.web.query import FeedQuery
from gbconnect.web.security import client_address
from gbconnect.web.serving import (
    Call,
    Prepared,
    invalid_request,
    listed,
    paged,
    responder_of,
    row_reader,
    serve,
    serve_row,
    single,
)

#: The usage resources, each with the token classes it admits.
routes = EspiRoutes()

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


# -- resolution -------------------------------------------------------------------------


def customer_paths(settings: Settings, rcid: int) -> feeds.Paths:
    """Hrefs of the usage tree of RetailCustomer ``rcid`` (Download My Data)."""
    return feeds.Paths(
        settings.public_resource_base, settings.resource_url(f"RetailCustomer/{rcid}")
    )


def visible_point_ids(session: Session, ids: list[int], grant: Grant) -> list[int]:
    """The usage points among ``ids`` whose commodity ``grant`` shows, by id."""
    return [up.id for up in usage_points_by_id(session, ids) if grant.service(up.service_kind)]


def subscription_grant(call: Call, sid: int) -> Grant:
    """The grant of Subscription ``sid`` for the caller (404 when it may not read it).

    A Batch/Subscription is read with the customer's access token (class A). GBA
    OAD010 has a client token refused there (403), with one exception: the
    ``resourceURI`` of an offline (paper, REQ.21 FB_40; GBA OFA001) authorization,
    for which no customer token exists, is read with the client token of its own third
    party, under that authorization's scope (what Batch/Bulk already shows it)."""
    caller = call.caller
    if caller.token_class != CLIENT:
        return subscription_of(call.session, caller, sid)
    sub = call.session.get(om.Subscription, sid)
    if sub is None or sub.application_id != caller.application_id:
        raise NotFound()
    auth = sub.authorization
    if auth.status != om.ACTIVE or not auth.is_active(now()):
        raise NotFound()
    if not auth.offline:
        raise AccessDenied(
            403,
            "insufficient_scope",
            "a customer's Subscription is read with the customer's access token; a client"
            " token reads only the Subscription of an offline authorization",
        )
    return grant_of(auth)


def subscription_point_ids(session: Session, sid: int, grant: Grant) -> list[int]:
    """The usage points of Subscription ``sid`` that ``grant`` shows, by id."""
    return visible_point_ids(session, subscription_usage_point_ids(session, sid), grant)


def point_in(call: Call, sid: int, upid: int) -> tuple[Grant, feeds.Paths]:
    """The grant over usage point ``upid`` of Subscription ``sid`` (404 when the point
    is not in it or its commodity is outside the scope); one query."""
    grant = subscription_grant(call, sid)
    kind = call.session.connection().execute(_MEMBER, {"sid": sid, "upid": upid}).scalar()
    if kind is None or not grant.service(kind):
        raise NotFound()
    return grant, subscription_paths(call.settings, sid)


def readings_of(
    call: Call, sid: int, upid: int, tree: Tree | None = None
) -> tuple[Grant, feeds.Paths]:
    """:func:`point_in` (or ``tree``'s) for the interval data (FB_4): 404 without it."""
    grant, paths = (tree or SUBSCRIPTION).point(call, sid, upid)
    if not grant.intervals:
        raise NotFound()
    return grant, paths


def meter_reading_of(session: Session, upid: int, mrid: int) -> um.MeterReading:
    mr = session.get(um.MeterReading, mrid)
    if mr is None or mr.usage_point_id != upid:
        raise NotFound()
    return mr


def customer_point_ids(session: Session, rcid: int) -> list[int]:
    """The usage points of RetailCustomer ``rcid`` (404 when there is none such)."""
    if session.get(RetailCustomer, rcid) is None:
        raise NotFound()
    return customer_usage_point_ids(session, rcid)


# -- the hot path -----------------------------------------------------------------------


def interval_block_entry(
    settings: Settings, sid: int, upid: int, mrid: int, caller: Caller, row: Any, query: FeedQuery
) -> Prepared:
    """The IntervalBlock of ``row`` (read with the token), if the grant shows it."""
    grant = own_subscription(caller, sid)
    if row.id is None or not grant.intervals or not grant.service(row.service_kind):
        raise NotFound()
    paths = subscription_paths(settings, sid)
    lo, hi = feeds.window(grant, query)
    text = feeds.block_entry(row, upid, mrid, grant, paths, lo, hi)
    if text is None:
        raise NotFound()
    return single(text, row.updated)


# Registered first: route matching is a linear scan.
@routes.get(
    "/Subscription/{sid:int}/UsagePoint/{upid:int}/MeterReading/{mrid:int}"
    "/IntervalBlock/{ibid:int}",
    allow={CUSTOMER},
    openapi_extra=path_ids("sid", "upid", "mrid", "ibid"),
)
async def get_interval_block(request: Request) -> Response:
    """One IntervalBlock entry: the resource third parties poll most. The token, the
    subscription check, the usage point's commodity and the block are read in one
    statement, off the thread pool (:meth:`~gbconnect.web.serving.Responder.serve_row`)."""
    ids = request.path_params
    sid, upid, mrid = ids["sid"], ids["upid"], ids["mrid"]
    settings: Settings = request.app.state.settings
    params = {"ib": ids["ibid"], "mr": mrid, "up": upid, "sid": sid}
    return await serve_row(
        request,
        _BLOCK_WITH_TOKEN,
        params,
        lambda caller, row, query: interval_block_entry(
            settings, sid, upid, mrid, caller, row, query
        ),
    )


# -- Batch feeds ------------------------------------------------------------------------


@dataclass(frozen=True)
class BatchSpec:
    """A Batch feed resolved under the caller's grant, not yet written: its path under
    the resource base, its title, its usage points by id, and the grant and hrefs each
    is seen under (``scoped``). What an asynchronous batch measures before it decides
    to answer 202 (:mod:`gbconnect.api.batches`), and what :func:`batch` writes."""

    path: str
    title: str
    ids: list[int]
    scoped: Callable[[int], tuple[Grant, feeds.Paths]]


def batch(call: Call, spec: BatchSpec) -> Prepared:
    """The Batch feed of ``spec`` (REQ.21 FB_35): the whole tree of each of its usage
    points, each seen under its own grant and hrefs.

    ``start-index`` and ``max-results`` (FB_37) count the entries of the feed, whatever
    their kind (UsagePoint, MeterReading, ReadingType, IntervalBlock, ...), as in every
    other feed: a third party pages a large Batch feed by its entries."""
    query = call.query
    ids, scoped = spec.ids, spec.scoped

    def entries(s: Session) -> Iterator[str]:
        # A page of usage points at a time: their records in a few statements
        # (feeds.trees), then each point's tree in turn, its blocks read as it goes.
        for at in range(0, len(ids), feeds.POINTS_PER_FETCH):
            page = ids[at : at + feeds.POINTS_PER_FETCH]
            points, trees = feeds.trees(s, page)
            by_id = {up.id: up for up in points}
            for up_id in page:
                grant, paths = scoped(up_id)
                up = by_id.get(up_id)
                if up is not None and grant.service(up.service_kind):
                    yield from feeds.usage_point_tree(s, up, grant, paths, query, trees[up_id])
            s.expunge_all()

    href = call.settings.resource_url(spec.path)
    return paged(href, spec.title, entries, query, feeds.last_modified(call.session, ids))


def subscription_spec(call: Call, sid: int) -> BatchSpec:
    """FND005: the whole tree of one customer's authorization."""
    grant = subscription_grant(call, sid)
    ids = subscription_point_ids(call.session, sid, grant)
    paths = subscription_paths(call.settings, sid)
    path = f"Batch/Subscription/{sid}"
    return BatchSpec(path, "Green Button Subscription", ids, lambda _: (grant, paths))


def subscription_point_spec(call: Call, sid: int, upid: int) -> BatchSpec:
    """The whole tree of one usage point of a Subscription."""
    grant, paths = point_in(call, sid, upid)
    path = f"Batch/Subscription/{sid}/UsagePoint/{upid}"
    return BatchSpec(path, "Green Button UsagePoint", [upid], lambda _: (grant, paths))


def bulk_spec(call: Call, bulk_id: int) -> BatchSpec:
    """RBK001: every usage point of every active authorization of the third party."""
    own_bulk(call, bulk_id)
    grants = visibility(call.session, call.caller).grants
    settings = call.settings

    def scoped(up_id: int) -> tuple[Grant, feeds.Paths]:
        grant = grants[up_id]
        return grant, subscription_paths(settings, grant.subscription_id)

    return BatchSpec(f"Batch/Bulk/{bulk_id}", "Green Button Bulk", sorted(grants), scoped)


def subscription_batch(call: Call, sid: int) -> Prepared:
    """The Batch/Subscription feed (:func:`subscription_spec`)."""
    return batch(call, subscription_spec(call, sid))


def subscription_point_batch(call: Call, sid: int, upid: int) -> Prepared:
    """The Batch/Subscription/{id}/UsagePoint/{id} feed (:func:`subscription_point_spec`)."""
    return batch(call, subscription_point_spec(call, sid, upid))


def bulk_batch(call: Call, bulk_id: int) -> Prepared:
    """The Batch/Bulk feed (:func:`bulk_spec`)."""
    return batch(call, bulk_spec(call, bulk_id))


def customer_batch(call: Call, rcid: int, upid: int | None = None) -> Prepared:
    """Download My Data: all of a customer's usage points, or the one ``upid``."""
    ids = customer_point_ids(call.session, rcid)
    path = f"Batch/RetailCustomer/{rcid}/UsagePoint"
    if upid is not None:
        if upid not in ids:
            raise NotFound()
        ids, path = [upid], f"{path}/{upid}"
    paths = customer_paths(call.settings, rcid)
    title = "Green Button Download My Data"
    return batch(call, BatchSpec(path, title, ids, lambda _: (FULL, paths)))


# Batch/Subscription and Batch/Bulk are routed by gbconnect.api.batches: they may be
# answered asynchronously (202).


@routes.get("/Batch/RetailCustomer/{rcid}/UsagePoint", allow={UPLOAD, ADMIN})
async def get_customer_batch(request: Request, rcid: int) -> Response:
    return await serve(request, lambda call: customer_batch(call, rcid))


# -- upload -----------------------------------------------------------------------------


def customer_username(call: Call, rcid: int) -> str:
    """The username of RetailCustomer ``rcid`` (404 when there is none such)."""
    customer = call.session.get(RetailCustomer, rcid)
    if customer is None:
        raise NotFound()
    return customer.username


def upload_summary(summary: FileSummary) -> dict[str, Any]:
    """The JSON answer of an upload: what the importer stored."""
    return {
        "format": summary.format,
        "usage_points": summary.usage_points,
        "meter_readings": summary.meter_readings,
        "readings": summary.readings,
        "blocks_new": summary.blocks.inserted,
        "blocks_replaced": summary.blocks.replaced,
        "blocks_unchanged": summary.blocks.unchanged,
    }


@routes.post("/Batch/RetailCustomer/{rcid}/UsagePoint", allow={UPLOAD, ADMIN})
async def post_customer_upload(request: Request, rcid: int) -> Response:
    """Upload a Green Button XML file for a customer (meter data management, upload
    and admin tokens): imported by the same importer as ``gbconnect ingest``, whole
    or not at all."""
    responder = responder_of(request)
    checked = await responder.checked(request, lambda call: customer_username(call, rcid))
    if isinstance(checked, Response):
        return checked
    with tempfile.NamedTemporaryFile(prefix="gbconnect-upload-", suffix=".xml") as tmp:
        size = 0
        async for chunk in request.stream():
            size += len(chunk)
            if size > MAX_UPLOAD_BYTES:
                return invalid_request(f"uploads are limited to {MAX_UPLOAD_BYTES >> 20} MiB", 413)
            tmp.write(chunk)
        tmp.flush()
        if size == 0:
            return invalid_request("the body is empty")

        trusted = responder.settings.trusted_networks

        def run() -> Response:
            zone = responder.settings.zone
            try:
                summary = ingest_file(
                    responder.sessions,
                    Path(tmp.name),
                    checked,
                    zone,
                    resource_base=responder.settings.public_resource_base,
                    actor=Actor(SYSTEM, "upload API", client_address(request, trusted)),
                    source=import_runs.UPLOAD,
                )
            except IngestError as exc:
                return invalid_request(str(exc).replace(tmp.name, "upload"))
            return JSONResponse(upload_summary(summary))

        return await run_in_threadpool(run)


@routes.get("/Batch/RetailCustomer/{rcid}/UsagePoint/{upid}", allow={UPLOAD, ADMIN})
async def get_customer_point_batch(request: Request, rcid: int, upid: int) -> Response:
    return await serve(request, lambda call: customer_batch(call, rcid, upid))


# -- the usage trees: Subscription/{id} and RetailCustomer/{id} --------------------------


@dataclass(frozen=True)
class Tree:
    """A usage tree and who reads it: ``Subscription/{id}/UsagePoint/...`` (a customer
    token, under its grant) or ``RetailCustomer/{id}/UsagePoint/...`` (ESPI's retail
    customer paths, the hrefs of Download My Data: the upload and admin tokens, all of
    the customer's data). ``points`` resolves the owner's visible usage points,
    ``point`` one of them (404 when it is not one)."""

    points: Callable[[Call, int], tuple[Grant, list[int], feeds.Paths]]
    point: Callable[[Call, int, int], tuple[Grant, feeds.Paths]]


def subscription_points(call: Call, sid: int) -> tuple[Grant, list[int], feeds.Paths]:
    grant = subscription_grant(call, sid)
    ids = subscription_point_ids(call.session, sid, grant)
    return grant, ids, subscription_paths(call.settings, sid)


def retail_customer_points(call: Call, rcid: int) -> tuple[Grant, list[int], feeds.Paths]:
    return FULL, customer_point_ids(call.session, rcid), customer_paths(call.settings, rcid)


def retail_customer_point(call: Call, rcid: int, upid: int) -> tuple[Grant, feeds.Paths]:
    if upid not in customer_point_ids(call.session, rcid):
        raise NotFound()
    return FULL, customer_paths(call.settings, rcid)


SUBSCRIPTION = Tree(subscription_points, point_in)
RETAIL_CUSTOMER = Tree(retail_customer_points, retail_customer_point)


def usage_point_feed(call: Call, sid: int, tree: Tree = SUBSCRIPTION) -> Prepared:
    """The usage points of ``tree``'s owner ``sid`` that the grant shows."""
    grant, ids, paths = tree.points(call, sid)
    query = call.query

    def entries(s: Session) -> Iterator[str]:
        rows = (s.get(um.UsagePoint, i) for i in ids)
        return (
            feeds.usage_point_entry(up, grant, paths)
            for up in rows
            if up is not None and query.updated_ok(up.updated)
        )

    return paged(paths.usage_points(), "UsagePoint", entries, query)


def usage_point_entry(call: Call, sid: int, upid: int, tree: Tree = SUBSCRIPTION) -> Prepared:
    grant, paths = tree.point(call, sid, upid)
    up = call.session.get(um.UsagePoint, upid)
    if up is None:
        raise NotFound()
    return single(feeds.usage_point_entry(up, grant, paths), up.updated)


def meter_reading_feed(call: Call, sid: int, upid: int, tree: Tree = SUBSCRIPTION) -> Prepared:
    _grant, paths = readings_of(call, sid, upid, tree)
    query = call.query

    def entries(s: Session) -> Iterator[str]:
        return (
            feeds.meter_reading_entry(mr, upid, paths)
            for mr in feeds.meter_readings(s, upid)
            if query.updated_ok(mr.updated)
        )

    return paged(paths.meter_readings(upid), "MeterReading", entries, query)


def meter_reading_entry(
    call: Call, sid: int, upid: int, mrid: int, tree: Tree = SUBSCRIPTION
) -> Prepared:
    _grant, paths = readings_of(call, sid, upid, tree)
    mr = meter_reading_of(call.session, upid, mrid)
    return single(feeds.meter_reading_entry(mr, upid, paths), mr.updated)


def interval_block_feed(
    call: Call, sid: int, upid: int, mrid: int, tree: Tree = SUBSCRIPTION
) -> Prepared:
    """QRY001: published-min/max select readings by their own time period."""
    grant, paths = readings_of(call, sid, upid, tree)
    query = call.query
    lo, hi = feeds.window(grant, query)

    def entries(s: Session) -> Iterator[str]:
        texts = (
            feeds.block_entry(row, upid, mrid, grant, paths, lo, hi)
            for row in feeds.block_rows(s, mrid, lo, hi, query)
        )
        return (t for t in texts if t is not None)

    mr = meter_reading_of(call.session, upid, mrid)
    return paged(paths.blocks(upid, mrid), "IntervalBlock", entries, query, mr.updated)


def usage_summary_feed(call: Call, sid: int, upid: int, tree: Tree = SUBSCRIPTION) -> Prepared:
    grant, paths = tree.point(call, sid, upid)
    if not grant.summaries:
        raise NotFound()
    query = call.query
    lo, hi = feeds.window(grant, query)

    def entries(s: Session) -> Iterator[str]:
        return (
            feeds.summary_entry(us, upid, grant, paths)
            for us in feeds.summaries(s, upid, lo, hi)
            if query.updated_ok(us.updated)
        )

    return paged(paths.summaries(upid), "UsageSummary", entries, query)


def usage_summary_entry(
    call: Call, sid: int, upid: int, usid: int, tree: Tree = SUBSCRIPTION
) -> Prepared:
    grant, paths = tree.point(call, sid, upid)
    us = call.session.get(um.UsageSummary, usid)
    lo, hi = feeds.window(grant, call.query)
    if (
        not grant.summaries
        or us is None
        or us.usage_point_id != upid
        or not feeds.in_window(us.billing_period_start, lo, hi)
    ):
        raise NotFound()
    return single(feeds.summary_entry(us, upid, grant, paths), us.updated)


def quality_summary_feed(call: Call, sid: int, upid: int, tree: Tree = SUBSCRIPTION) -> Prepared:
    grant, paths = tree.point(call, sid, upid)
    if not grant.quality:
        raise NotFound()

    def entries(s: Session) -> Iterator[str]:
        return (feeds.quality_entry(q, upid, paths) for q in feeds.qualities(s, upid))

    return paged(paths.qualities(upid), "ElectricPowerQualitySummary", entries, call.query)


def quality_summary_entry(
    call: Call, sid: int, upid: int, qid: int, tree: Tree = SUBSCRIPTION
) -> Prepared:
    grant, paths = tree.point(call, sid, upid)
    q = call.session.get(um.ElectricPowerQualitySummary, qid)
    if not grant.quality or q is None or q.usage_point_id != upid:
        raise NotFound()
    return single(feeds.quality_entry(q, upid, paths), q.updated)


def interval_block_of(
    call: Call, sid: int, upid: int, mrid: int, ibid: int, tree: Tree
) -> Prepared:
    """One IntervalBlock of ``tree`` read through the session (the Subscription tree's
    customer tokens take the one-statement path, :func:`get_interval_block`)."""
    grant, paths = readings_of(call, sid, upid, tree)
    meter_reading_of(call.session, upid, mrid)
    block = call.session.get(um.IntervalBlock, ibid)
    if block is None or block.meter_reading_id != mrid:
        raise NotFound()
    lo, hi = feeds.window(grant, call.query)
    text = feeds.block_entry(block, upid, mrid, grant, paths, lo, hi)
    if text is None:
        raise NotFound()
    return single(text, block.updated)


def declare_tree(prefix: str, tree: Tree, allow: set[str], *, with_block: bool) -> None:
    """Declare the routes of ``tree`` under ``{prefix}/{owner}/UsagePoint`` for the
    ``allow`` token classes (``with_block``: its IntervalBlock entry too); ``owner``
    is the Subscription or RetailCustomer id."""
    sub = prefix + "/{owner}/UsagePoint"

    async def point_feed(request: Request, owner: int) -> Response:
        return await serve(request, lambda call: usage_point_feed(call, owner, tree))

    async def point(request: Request, owner: int, upid: int) -> Response:
        if tree is SUBSCRIPTION:
            settings = request.app.state.settings
            return await serve_row(
                request,
                rowpath.USAGE_POINT,
                {"up": upid, "sid": owner},
                lambda caller, row, _: rowpath.usage_point(settings, owner, caller, row),
            )
        return await serve(request, lambda call: usage_point_entry(call, owner, upid, tree))

    async def reading_feed(request: Request, owner: int, upid: int) -> Response:
        return await serve(request, lambda call: meter_reading_feed(call, owner, upid, tree))

    async def reading(request: Request, owner: int, upid: int, mrid: int) -> Response:
        if tree is SUBSCRIPTION:
            settings = request.app.state.settings
            return await serve_row(
                request,
                rowpath.METER_READING,
                {"mr": mrid, "up": upid, "sid": owner},
                lambda caller, row, _: rowpath.meter_reading(settings, owner, upid, caller, row),
            )
        return await serve(request, lambda call: meter_reading_entry(call, owner, upid, mrid, tree))

    async def block_feed(request: Request, owner: int, upid: int, mrid: int) -> Response:
        def plan(call: Call) -> Prepared:
            return interval_block_feed(call, owner, upid, mrid, tree)

        if tree is SUBSCRIPTION:
            settings, reader = request.app.state.settings, row_reader(request)
            return await serve_row(
                request,
                rowpath.METER_READING,
                {"mr": mrid, "up": upid, "sid": owner},
                lambda caller, row, query: rowpath.block_feed(
                    reader, settings, owner, upid, caller, row, query
                ),
                plan,
            )
        return await serve(request, plan)

    async def block(request: Request, owner: int, upid: int, mrid: int, ibid: int) -> Response:
        return await serve(
            request, lambda call: interval_block_of(call, owner, upid, mrid, ibid, tree)
        )

    async def summary_feed(request: Request, owner: int, upid: int) -> Response:
        return await serve(request, lambda call: usage_summary_feed(call, owner, upid, tree))

    async def summary(request: Request, owner: int, upid: int, usid: int) -> Response:
        if tree is SUBSCRIPTION:
            settings = request.app.state.settings
            return await serve_row(
                request,
                rowpath.USAGE_SUMMARY,
                {"us": usid, "up": upid, "sid": owner},
                lambda caller, row, query: rowpath.usage_summary(
                    settings, owner, upid, caller, row, query
                ),
            )
        return await serve(request, lambda call: usage_summary_entry(call, owner, upid, usid, tree))

    async def quality_feed(request: Request, owner: int, upid: int) -> Response:
        return await serve(request, lambda call: quality_summary_feed(call, owner, upid, tree))

    async def quality(request: Request, owner: int, upid: int, qid: int) -> Response:
        return await serve(
            request, lambda call: quality_summary_entry(call, owner, upid, qid, tree)
        )

    name = prefix.strip("/")
    declared: list[tuple[str, Callable[..., Any]]] = [
        ("", point_feed),
        ("/{upid}", point),
        ("/{upid}/MeterReading", reading_feed),
        ("/{upid}/MeterReading/{mrid}", reading),
        ("/{upid}/MeterReading/{mrid}/IntervalBlock", block_feed),
        ("/{upid}/UsageSummary", summary_feed),
        ("/{upid}/UsageSummary/{usid}", summary),
        ("/{upid}/ElectricPowerQualitySummary", quality_feed),
        ("/{upid}/ElectricPowerQualitySummary/{qid}", quality),
    ]
    if with_block:
        declared.append(("/{upid}/MeterReading/{mrid}/IntervalBlock/{ibid}", block))
    for path, handler in declared:
        routes.add("GET", sub + path, handler, allow=allow, name=f"{name} {handler.__name__}")


declare_tree("/Subscription", SUBSCRIPTION, {CUSTOMER}, with_block=False)
declare_tree("/RetailCustomer", RETAIL_CUSTOMER, {UPLOAD, ADMIN}, with_block=True)


# -- ReadingType and LocalTimeParameters --------------------------------------------------


def visible_reading_types(call: Call) -> tuple[list[um.ReadingType], Grant]:
    """The ReadingTypes of the meter readings the caller may see, with the grant that
    decides their cost elements (every one for the admin token)."""
    session = call.session
    if call.caller.token_class == ADMIN:
        return list(session.scalars(select(um.ReadingType).order_by(um.ReadingType.id))), FULL
    grants = visibility(session, call.caller).grants
    grant = next(iter(grants.values()), None)
    if grant is None or not grant.intervals:
        return [], FULL
    points = visible_point_ids(session, list(grants), grant)
    rt_ids = session.scalars(
        select(um.MeterReading.reading_type_id).where(um.MeterReading.usage_point_id.in_(points))
    ).all()
    ids = sorted({i for i in rt_ids if i is not None})
    rows = session.scalars(
        select(um.ReadingType).where(um.ReadingType.id.in_(ids)).order_by(um.ReadingType.id)
    )
    return list(rows), grant


def reading_type_feed(call: Call) -> Prepared:
    rows, grant = visible_reading_types(call)
    paths = root_paths(call.settings)
    query = call.query
    texts = [
        feeds.reading_type_entry(rt, grant, paths) for rt in rows if query.updated_ok(rt.updated)
    ]
    return listed(call.settings.resource_url("ReadingType"), "ReadingType", texts, query)


def reading_type_entry(call: Call, rtid: int) -> Prepared:
    if call.caller.token_class == ADMIN:
        found = call.session.get(um.ReadingType, rtid)
        grant = FULL
    else:
        rows, grant = visible_reading_types(call)
        found = next((rt for rt in rows if rt.id == rtid), None)
    if found is None:
        raise NotFound()
    text = feeds.reading_type_entry(found, grant, root_paths(call.settings))
    return single(text, found.updated)


def visible_time_parameters(call: Call) -> list[um.LocalTimeParameters]:
    """The LocalTimeParameters of the usage points the caller may see."""
    session = call.session
    ltp = um.LocalTimeParameters
    if call.caller.token_class == ADMIN:
        return list(session.scalars(select(ltp).order_by(ltp.id)))
    grants = visibility(session, call.caller).grants
    ids = session.scalars(
        select(um.UsagePoint.local_time_parameters_id).where(um.UsagePoint.id.in_(list(grants)))
    ).all()
    wanted = sorted({i for i in ids if i is not None})
    return list(session.scalars(select(ltp).where(ltp.id.in_(wanted))))


def time_parameters_feed(call: Call) -> Prepared:
    paths = root_paths(call.settings)
    texts = [feeds.local_time_entry(t, paths) for t in visible_time_parameters(call)]
    href = call.settings.resource_url("LocalTimeParameters")
    return listed(href, "LocalTimeParameters", texts, call.query)


def time_parameters_entry(call: Call, ltpid: int) -> Prepared:
    found = next((t for t in visible_time_parameters(call) if t.id == ltpid), None)
    if found is None:
        raise NotFound()
    return single(feeds.local_time_entry(found, root_paths(call.settings)), found.updated)


@routes.get("/ReadingType", allow={CUSTOMER, ADMIN})
async def get_reading_type_feed(request: Request) -> Response:
    return await serve(request, reading_type_feed)


@routes.get("/ReadingType/{rtid}", allow={CUSTOMER, ADMIN})
async def get_reading_type(request: Request, rtid: int) -> Response:
    """A ReadingType: on the row path for a customer token, the session path for the
    admin's."""
    settings, reader = request.app.state.settings, row_reader(request)
    return await serve_row(
        request,
        rowpath.READING_TYPE,
        {"rt": rtid},
        lambda caller, row, _: rowpath.reading_type(reader, settings, caller, row),
        lambda call: reading_type_entry(call, rtid),
        {CUSTOMER},
    )


@routes.get("/LocalTimeParameters", allow={CUSTOMER, ADMIN})
async def get_time_parameters_feed(request: Request) -> Response:
    return await serve(request, time_parameters_feed)


@routes.get("/LocalTimeParameters/{ltpid}", allow={CUSTOMER, ADMIN})
async def get_time_parameters(request: Request, ltpid: int) -> Response:
    return await serve(request, lambda call: time_parameters_entry(call, ltpid))
