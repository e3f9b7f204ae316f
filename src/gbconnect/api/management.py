"""Management REST for the data custodian's admin token (REQ.21 FB_33): the root
collections ``/UsagePoint``, ``/MeterReading``, ``/IntervalBlock``, ``/UsageSummary``
and ``/ElectricPowerQualitySummary`` of every customer, each entry readable and
deletable (a deletion takes the resource's children with it).

New data enters through the upload (``POST Batch/RetailCustomer/{id}/UsagePoint``),
which imports a whole Green Button document with the foundation's importer.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response
from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from gbconnect.config import Settings
from gbconnect.espi.atom import entry
from gbconnect.oauth import models as om
from gbconnect.oauth.guard import NOT_FOUND, Caller
from gbconnect.usage import models as um
from gbconnect.usage import xml as usage_xml
from gbconnect.web.query import FeedQuery
from gbconnect.web.serving import Prepared, Responder, page

DC = om.ADMIN

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

MANAGEMENT_ACCESS: dict[tuple[str, str], set[str]] = {
    **{("GET", f"/{k}"): {DC} for k in KINDS},
    **{("GET", f"/{k}/{{id}}"): {DC} for k in KINDS},
    **{("DELETE", f"/{k}/{{id}}"): {DC} for k in KINDS},
}
FETCH = 500


def add_management_routes(router: APIRouter, settings: Settings, responder: Responder) -> None:
    public = settings.base_url.rstrip("/") + settings.resource_base.rstrip("/")

    def entry_of(kind: str, row: Any) -> str:
        _, writer = KINDS[kind]
        return entry(
            self_href=f"{public}/{kind}/{row.id}",
            up_href=f"{public}/{kind}",
            title=getattr(row, "title", None),
            published=row.published,
            updated=row.updated,
            content=writer(row),
        )

    def add(kind: str) -> None:
        model, _ = KINDS[kind]

        async def collection(request: Request) -> Response:
            def plan(session: Session, caller: Caller, query: FeedQuery) -> Prepared:
                modified = session.scalar(select(func.max(model.updated)))

                def entries(s: Session) -> Iterator[str]:
                    stmt = select(model).order_by(model.id)
                    if query.updated_min is not None:
                        stmt = stmt.where(model.updated >= query.updated_min)
                    if query.updated_max is not None:
                        stmt = stmt.where(model.updated <= query.updated_max)
                    if query.published_min is not None:
                        stmt = stmt.where(model.published >= query.published_min)
                    if query.published_max is not None:
                        stmt = stmt.where(model.published <= query.published_max)

                    def texts() -> Iterator[str]:
                        # Pages of FETCH by id (keyset): flat memory over a table of
                        # any size, and no server-side cursor.
                        after: int | None = None
                        while True:
                            paged = stmt if after is None else stmt.where(model.id > after)
                            rows = list(s.scalars(paged.limit(FETCH)))
                            for row in rows:
                                yield entry_of(kind, row)
                                s.expunge(row)
                            if len(rows) < FETCH:
                                return
                            after = rows[-1].id

                    yield from page(texts(), query)

                return responder.document(f"{public}/{kind}", kind, entries, modified)

            return await responder.serve(request, ("GET", f"/{kind}"), plan)

        async def member(request: Request, rid: int) -> Response:
            def plan(session: Session, caller: Caller, query: FeedQuery) -> Prepared:
                row = session.get(model, rid)
                if row is None:
                    raise NOT_FOUND
                return responder.single(entry_of(kind, row), row.updated)

            return await responder.serve(request, ("GET", f"/{kind}/{{id}}"), plan)

        async def remove(request: Request, rid: int) -> Response:
            def plan(session: Session, caller: Caller, query: FeedQuery) -> Prepared:
                if session.get(model, rid) is None:
                    raise NOT_FOUND
                session.execute(delete(model).where(model.id == rid))
                session.commit()
                return Prepared(lambda s: iter(()), body="")

            answer = await responder.serve(request, ("DELETE", f"/{kind}/{{id}}"), plan)
            return Response(status_code=204) if answer.status_code == 200 else answer

        router.add_api_route(f"/{kind}", collection, methods=["GET"], name=f"all {kind}")
        router.add_api_route(f"/{kind}/{{rid}}", member, methods=["GET"], name=f"any {kind}")
        router.add_api_route(f"/{kind}/{{rid}}", remove, methods=["DELETE"], name=f"delete {kind}")

    for kind in KINDS:
        add(kind)
