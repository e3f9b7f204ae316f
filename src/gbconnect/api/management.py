"""Management REST for the data custodian's admin token (REQ.21 FB_33): the root
collections ``/UsagePoint``, ``/MeterReading``, ``/IntervalBlock``, ``/UsageSummary``
and ``/ElectricPowerQualitySummary`` of every customer, each entry readable and
deletable (a deletion takes the resource's children with it).

New data enters through the upload (``POST Batch/RetailCustomer/{id}/UsagePoint``),
which imports a whole Green Button document with the foundation's importer.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from fastapi import Request
from fastapi.responses import Response
from sqlalchemy import Select, delete, func, select
from sqlalchemy.orm import Session

from gbconnect.config import Settings
from gbconnect.espi.atom import entry
from gbconnect.oauth.guard import NotFound
from gbconnect.usage import models as um
from gbconnect.usage import xml as usage_xml
from gbconnect.web.access import ADMIN, EspiRoutes
from gbconnect.web.query import FeedQuery
from gbconnect.web.serving import Call, Prepared, paged, serve, single

#: The management resources (admin token only).
routes = EspiRoutes()

#: Root collection name -> (model, content writer).
KINDS: dict[str, tuple[Any, Callable[[Any], str]]] = {
    "UsagePoint": (um.UsagePoint, usage_xml.usage_point),
    "MeterReading": (um.MeterReading, lambda mr: usage_xml.meter_reading()),
    "IntervalBlock": (
        um.IntervalBlock,
        lambda b: usage_xml.interval_block(
            usage_xml.interval_readings(b.data, True)[0], b.start, b.duration
        ),
    ),
    "UsageSummary": (um.UsageSummary, lambda us: usage_xml.usage_summary(us, with_cost=True)),
    "ElectricPowerQualitySummary": (um.ElectricPowerQualitySummary, usage_xml.quality_summary),
}
FETCH = 500


def root_entry_text(settings: Settings, kind: str, row: Any) -> str:
    """The Atom entry of ``row`` in the root collection ``kind``."""
    _, writer = KINDS[kind]
    return entry(
        self_href=settings.resource_url(f"{kind}/{row.id}"),
        up_href=settings.resource_url(kind),
        title=getattr(row, "title", None),
        published=row.published,
        updated=row.updated,
        content=writer(row),
    )


def selection(model: Any, query: FeedQuery) -> Select[Any]:
    """The rows of ``model`` within the query's ``updated`` and ``published`` bounds."""
    stmt = select(model).order_by(model.id)
    for column, low, high in (
        (model.updated, query.updated_min, query.updated_max),
        (model.published, query.published_min, query.published_max),
    ):
        if low is not None:
            stmt = stmt.where(column >= low)
        if high is not None:
            stmt = stmt.where(column <= high)
    return stmt


def keyset(session: Session, stmt: Select[Any], model: Any) -> Iterator[Any]:
    """The rows of ``stmt`` in pages of FETCH by id (keyset): flat memory over a table
    of any size, and no server-side cursor; each row leaves the session once read."""
    after: int | None = None
    while True:
        paged_stmt = stmt if after is None else stmt.where(model.id > after)
        rows = list(session.scalars(paged_stmt.limit(FETCH)))
        for row in rows:
            yield row
            session.expunge(row)
        if len(rows) < FETCH:
            return
        after = rows[-1].id


def root_feed(call: Call, kind: str) -> Prepared:
    """Every resource of ``kind``, streamed."""
    model, _ = KINDS[kind]
    modified = call.session.scalar(select(func.max(model.updated)))
    stmt = selection(model, call.query)
    settings = call.settings

    def entries(s: Session) -> Iterator[str]:
        return (root_entry_text(settings, kind, row) for row in keyset(s, stmt, model))

    return paged(settings.resource_url(kind), kind, entries, call.query, modified)


def root_entry(call: Call, kind: str, rid: int) -> Prepared:
    model, _ = KINDS[kind]
    row = call.session.get(model, rid)
    if row is None:
        raise NotFound()
    return single(root_entry_text(call.settings, kind, row), row.updated)


def delete_root(call: Call, kind: str, rid: int) -> Response:
    """Delete one resource and its children (the request path commits)."""
    model, _ = KINDS[kind]
    if call.session.get(model, rid) is None:
        raise NotFound()
    call.session.execute(delete(model).where(model.id == rid))
    return Response(status_code=204)


@dataclass(frozen=True)
class RootFeed:
    """``GET /{kind}``."""

    kind: str

    async def __call__(self, request: Request) -> Response:
        return await serve(request, lambda call: root_feed(call, self.kind))


@dataclass(frozen=True)
class RootEntry:
    """``GET /{kind}/{rid}``."""

    kind: str

    async def __call__(self, request: Request, rid: int) -> Response:
        return await serve(request, lambda call: root_entry(call, self.kind, rid))


@dataclass(frozen=True)
class RootDelete:
    """``DELETE /{kind}/{rid}``."""

    kind: str

    async def __call__(self, request: Request, rid: int) -> Response:
        return await serve(request, lambda call: delete_root(call, self.kind, rid))


for _kind in KINDS:
    routes.add("GET", f"/{_kind}", RootFeed(_kind), allow={ADMIN}, name=f"all {_kind}")
    routes.add("GET", f"/{_kind}/{{rid}}", RootEntry(_kind), allow={ADMIN}, name=f"any {_kind}")
    routes.add(
        "DELETE", f"/{_kind}/{{rid}}", RootDelete(_kind), allow={ADMIN}, name=f"delete {_kind}"
    )
