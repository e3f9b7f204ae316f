"""customer.xsd resources (REQ.21 retail customer blocks, FB_51-60): the Customer,
CustomerAccount, CustomerAgreement, ServiceLocation and Meter records behind a
subscription, under ``/Customer/{subscriptionId}`` (Con Edison's tree), for a
customer token whose scope holds a retail-customer block, and the admin token; all of
them as one feed at ``/Batch/RetailCustomer/{subscriptionId}``; and PG&E's
``/Batch/BulkRetailCustomerInfo/{bulkId}``, the records of every active authorization
of a third party whose scope holds a retail-customer block (client token).
"""

from __future__ import annotations

from collections.abc import Callable, Collection
from dataclasses import dataclass
from typing import Any

from fastapi import Request
from fastapi.responses import Response
from sqlalchemy import select
from sqlalchemy.orm import Session

from gbconnect.api import rowpath
from gbconnect.api.bulk import own_bulk
from gbconnect.config import Settings
from gbconnect.customer import models as cm
from gbconnect.customer import xml as customer_xml
from gbconnect.customer.models import agreement_usage_point
from gbconnect.espi.atom import entry
from gbconnect.oauth.guard import NotFound
from gbconnect.oauth.scoping import Grant, subscription_of, visibility
from gbconnect.oauth.services import subscription_usage_point_ids
from gbconnect.usage.points import usage_points_by_id
from gbconnect.web.access import ADMIN, CLIENT, CUSTOMER, EspiRoutes
from gbconnect.web.serving import Call, Prepared, listed, row_reader, serve, serve_row, single

#: The customer resources, each with the token classes it admits.
routes = EspiRoutes()

#: The records under a Customer, each with its content writer.
WRITERS: dict[str, Callable[[Any], str]] = {
    "CustomerAccount": customer_xml.customer_account,
    "CustomerAgreement": customer_xml.customer_agreement,
    "ServiceLocation": customer_xml.service_location,
    "Meter": customer_xml.meter,
}
KINDS = tuple(WRITERS)


@dataclass(frozen=True)
class Records:
    """The customer records behind a subscription: kind -> its records, and each
    ServiceLocation's usage points (by id) that the grant shows."""

    rows: dict[str, list[Any]]
    points: dict[int, list[int]]


def _by_id(session: Session, model: Any, column: Any, values: Collection[Any]) -> list[Any]:
    """The rows of ``model`` whose ``column`` is among ``values``, by id."""
    return list(session.scalars(select(model).where(column.in_(values)).order_by(model.id)))


def visible_point_ids(session: Session, sid: int, grant: Grant) -> list[int]:
    """The usage points of Subscription ``sid`` whose commodity ``grant`` shows."""
    return [
        up.id
        for up in usage_points_by_id(session, subscription_usage_point_ids(session, sid))
        if grant.service(up.service_kind)
    ]


def location_points(
    session: Session, locations: Collection[Any], up_ids: Collection[int]
) -> dict[int, list[int]]:
    """ServiceLocation id -> the usage points among ``up_ids`` delivering service there
    (FB_58): those of its meters and those its agreement covers."""
    loc_ids = [loc.id for loc in locations]
    if not loc_ids or not up_ids:
        return {}
    aup = agreement_usage_point.c
    location = cm.ServiceLocation
    metered = select(cm.Meter.service_location_id, cm.Meter.usage_point_id).where(
        cm.Meter.service_location_id.in_(loc_ids), cm.Meter.usage_point_id.in_(up_ids)
    )
    covered = (
        select(location.id, aup.usage_point_id)
        .join(agreement_usage_point, aup.customer_agreement_id == location.customer_agreement_id)
        .where(location.id.in_(loc_ids), aup.usage_point_id.in_(up_ids))
    )
    found: dict[int, set[int]] = {}
    for stmt in (metered, covered):
        for loc_id, up_id in session.execute(stmt):
            found.setdefault(loc_id, set()).add(up_id)
    return {loc_id: sorted(ups) for loc_id, ups in found.items()}


def records_of(session: Session, sid: int, grant: Grant) -> Records:
    """The agreements covering the usage points of Subscription ``sid`` that ``grant``
    shows, their accounts, customers and service locations, and the meters of those
    points. The records follow the same services as the usage data: a record tied only
    to a usage point whose commodity the scope does not carry (gas without FB_10,
    :func:`gbconnect.espi.blocks.blocks_for_service`) is not shown."""
    up_ids = visible_point_ids(session, sid, grant)
    covering = select(agreement_usage_point.c.customer_agreement_id).where(
        agreement_usage_point.c.usage_point_id.in_(up_ids)
    )
    agreement = cm.CustomerAgreement
    agreements = list(
        session.scalars(select(agreement).where(agreement.id.in_(covering)).order_by(agreement.id))
    )
    account_ids = {a.customer_account_id for a in agreements if a.customer_account_id}
    accounts = _by_id(session, cm.CustomerAccount, cm.CustomerAccount.id, account_ids)
    customer_ids = {a.customer_id for a in accounts if a.customer_id}
    location = cm.ServiceLocation
    locations = _by_id(
        session, location, location.customer_agreement_id, [a.id for a in agreements]
    )
    rows = {
        "Customer": _by_id(session, cm.Customer, cm.Customer.id, customer_ids),
        "CustomerAccount": accounts,
        "CustomerAgreement": agreements,
        "ServiceLocation": locations,
        "Meter": _by_id(session, cm.Meter, cm.Meter.usage_point_id, up_ids),
    }
    return Records(rows, location_points(session, locations, up_ids))


def customer_records(call: Call, sid: int) -> Records:
    """The customer records behind Subscription ``sid`` if the caller may read them:
    404 without a retail-customer scope."""
    grant = subscription_of(call.session, call.caller, sid)
    if not grant.customer_data:
        raise NotFound()
    return records_of(call.session, sid, grant)


def record_entry(
    settings: Settings, sid: int, kind: str, row: Any, points: Collection[int] = ()
) -> str:
    """The Atom entry of one record; the Customer links to its records, and its ``up``
    link names the feed that holds it (``Batch/RetailCustomer/{subscriptionId}``); a
    ServiceLocation names its usage points (``points``, FB_58) by their hrefs under
    the subscription."""
    base = settings.resource_url(f"Customer/{sid}")
    if kind == "Customer":
        return entry(
            self_href=base,
            up_href=settings.resource_url(f"Batch/RetailCustomer/{sid}"),
            related=[f"{base}/{k}" for k in KINDS],
            title=row.title or row.name,
            published=row.published,
            updated=row.updated,
            content=customer_xml.customer(row),
        )
    if kind == "ServiceLocation":
        hrefs = [settings.resource_url(f"Subscription/{sid}/UsagePoint/{u}") for u in points]
        content = customer_xml.service_location(row, hrefs)
    else:
        content = WRITERS[kind](row)
    return entry(
        self_href=f"{base}/{kind}/{row.id}",
        up_href=f"{base}/{kind}",
        title=row.title,
        published=row.published,
        updated=row.updated,
        content=content,
    )


def record(call: Call, sid: int, kind: str, rid: int | None = None) -> Prepared:
    """The Customer of a subscription, or its record ``rid`` of ``kind``."""
    records = customer_records(call, sid)
    found = records.rows[kind]
    row = found[0] if rid is None and found else next((r for r in found if r.id == rid), None)
    if row is None:
        raise NotFound()
    points = records.points.get(row.id, ()) if kind == "ServiceLocation" else ()
    return single(record_entry(call.settings, sid, kind, row, points), row.updated)


def records_feed(call: Call, path: str, title: str, records: list[tuple[int, Records]]) -> Prepared:
    """Every record of each (subscription id, records), Customer first, or those of
    one kind when ``records`` holds only that kind."""
    query = call.query
    texts = [
        record_entry(
            call.settings,
            sid,
            kind,
            row,
            found.points.get(row.id, ()) if kind == "ServiceLocation" else (),
        )
        for sid, found in records
        for kind, rows in found.rows.items()
        for row in rows
        if query.updated_ok(row.updated)
    ]
    modified = max(
        (row.updated for _, found in records for rows in found.rows.values() for row in rows),
        default=None,
    )
    return listed(call.settings.resource_url(path), title, texts, query, modified)


def record_feed(call: Call, sid: int, kind: str) -> Prepared:
    """The records of one kind behind Subscription ``sid``."""
    records = customer_records(call, sid)
    rows = [r for r in records.rows[kind] if call.query.updated_ok(r.updated)]
    one = Records({kind: rows}, records.points)
    return records_feed(call, f"Customer/{sid}/{kind}", kind, [(sid, one)])


def retail_customer_batch(call: Call, sid: int) -> Prepared:
    """Every customer record of a subscription, as one feed."""
    records = customer_records(call, sid)
    return records_feed(call, f"Batch/RetailCustomer/{sid}", "RetailCustomer", [(sid, records)])


def bulk_customer_info(call: Call, bulk_id: int) -> Prepared:
    """PG&E's bulk customer data: the records of every active authorization of the
    calling third party whose scope holds a retail-customer block."""
    own_bulk(call, bulk_id)
    grants = {
        g.subscription_id: g
        for g in visibility(call.session, call.caller).grants.values()
        if g.customer_data and g.subscription_id is not None
    }
    records = [(sid, records_of(call.session, sid, grants[sid])) for sid in sorted(grants)]
    path = f"Batch/BulkRetailCustomerInfo/{bulk_id}"
    return records_feed(call, path, "BulkRetailCustomerInfo", records)


@routes.get("/Customer/{sid}", allow={CUSTOMER, ADMIN})
async def get_customer(request: Request, sid: int) -> Response:
    """The Customer of a subscription (customer.xsd; needs the retail-customer scope)."""
    return await serve(request, lambda call: record(call, sid, "Customer"))


@dataclass(frozen=True)
class RecordFeed:
    """``GET /Customer/{sid}/{kind}``: the records of one kind."""

    kind: str

    async def __call__(self, request: Request, sid: int) -> Response:
        return await serve(request, lambda call: record_feed(call, sid, self.kind))


@dataclass(frozen=True)
class RecordEntry:
    """``GET /Customer/{sid}/{kind}/{rid}``: one record."""

    kind: str

    async def __call__(self, request: Request, sid: int, rid: int) -> Response:
        def plan(call: Call) -> Prepared:
            return record(call, sid, self.kind, rid)

        if self.kind != "CustomerAccount":
            return await serve(request, plan)
        settings, reader = request.app.state.settings, row_reader(request)
        return await serve_row(
            request,
            rowpath.CUSTOMER_ACCOUNT,
            {"rid": rid},
            lambda caller, row, _: rowpath.customer_account(
                reader, sid, caller, row, lambda r: record_entry(settings, sid, self.kind, r)
            ),
            plan,
            {CUSTOMER},
        )


for _kind in KINDS:
    _path = f"/Customer/{{sid}}/{_kind}"
    routes.add("GET", _path, RecordFeed(_kind), allow={CUSTOMER, ADMIN}, name=f"{_kind} feed")
    routes.add(
        "GET", _path + "/{rid}", RecordEntry(_kind), allow={CUSTOMER, ADMIN}, name=f"{_kind} entry"
    )


@routes.get("/Batch/RetailCustomer/{sid}", allow={CUSTOMER, ADMIN})
async def get_retail_customer_batch(request: Request, sid: int) -> Response:
    return await serve(request, lambda call: retail_customer_batch(call, sid))


@routes.get("/Batch/BulkRetailCustomerInfo/{bulk_id}", allow={CLIENT})
async def get_bulk_customer_info(request: Request, bulk_id: int) -> Response:
    return await serve(request, lambda call: bulk_customer_info(call, bulk_id))
