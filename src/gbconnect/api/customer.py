"""customer.xsd resources (REQ.21 retail customer blocks, FB_51-60): the Customer,
CustomerAccount, CustomerAgreement, ServiceLocation and Meter records behind a
subscription, under ``/Customer/{subscriptionId}`` (Con Edison's tree), for a
customer token whose scope holds a retail-customer block, and the admin token; all of
them as one feed at ``/Batch/RetailCustomer/{subscriptionId}``; and PG&E's
``/Batch/BulkRetailCustomerInfo/{bulkId}``, the records of every active authorization
of a third party whose scope holds a retail-customer block (client token).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response
from sqlalchemy import select
from sqlalchemy.orm import Session

from gbconnect.config import Settings
from gbconnect.customer import models as cm
from gbconnect.customer import xml as customer_xml
from gbconnect.customer.models import agreement_usage_point
from gbconnect.espi.atom import entry
from gbconnect.oauth import models as om
from gbconnect.oauth.guard import NOT_FOUND, Caller
from gbconnect.oauth.scoping import subscription_of, visibility
from gbconnect.oauth.services import subscription_usage_point_ids
from gbconnect.registration import models as rm
from gbconnect.web.query import FeedQuery
from gbconnect.web.serving import Prepared, Responder, page

A, C, DC = om.CUSTOMER, om.CLIENT, om.ADMIN
KINDS = ("CustomerAccount", "CustomerAgreement", "ServiceLocation", "Meter")

#: The customer resources and the token classes they admit (merged into api.routes.ACCESS).
CUSTOMER_ACCESS: dict[tuple[str, str], set[str]] = {
    ("GET", "/Customer/{id}"): {A, DC},
    ("GET", "/Batch/RetailCustomer/{id}"): {A, DC},
    ("GET", "/Batch/BulkRetailCustomerInfo/{id}"): {C},
    **{("GET", f"/Customer/{{id}}/{k}"): {A, DC} for k in KINDS},
    **{("GET", f"/Customer/{{id}}/{k}/{{id2}}"): {A, DC} for k in KINDS},
}


def add_customer_routes(router: APIRouter, settings: Settings, responder: Responder) -> None:
    public = settings.base_url.rstrip("/") + settings.resource_base.rstrip("/")
    serve, document, single = responder.serve, responder.document, responder.single

    def customer_records(session: Session, caller: Caller, sid: int) -> dict[str, list[Any]]:
        """The customer records behind Subscription ``sid`` if the caller may read
        them: 404 without a retail-customer scope."""
        grant = subscription_of(session, caller, sid)
        if not grant.customer_data:
            raise NOT_FOUND
        return records_of(session, sid)

    def records_of(session: Session, sid: int) -> dict[str, list[Any]]:
        """The agreements covering the usage points of Subscription ``sid``, their
        accounts, customers and service locations, and the meters of those points."""
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

    def records_feed(
        self_href: str,
        title: str,
        records: list[tuple[int, dict[str, list[Any]]]],
        query: FeedQuery,
    ) -> Prepared:
        """Every record of each (subscription id, records), Customer first."""
        texts = [
            record_entry(sid, kind, row)
            for sid, found in records
            for kind in ("Customer", *writers)
            for row in found[kind]
            if query.updated_ok(row.updated)
        ]
        modified = max(
            (row.updated for _, found in records for rows in found.values() for row in rows),
            default=None,
        )
        return document(self_href, title, lambda s: page(iter(texts), query), modified)

    @router.get("/Batch/RetailCustomer/{sid}")
    async def batch_customer(request: Request, sid: int) -> Response:
        """Every customer record of a subscription, as one feed."""

        def plan(session: Session, caller: Caller, query: FeedQuery) -> Prepared:
            records = customer_records(session, caller, sid)
            return records_feed(
                f"{public}/Batch/RetailCustomer/{sid}", "RetailCustomer", [(sid, records)], query
            )

        return await serve(request, ("GET", "/Batch/RetailCustomer/{id}"), plan)

    @router.get("/Batch/BulkRetailCustomerInfo/{bulk_id}")
    async def bulk_customer_info(request: Request, bulk_id: int) -> Response:
        """PG&E's bulk customer data: the records of every active authorization of the
        calling third party whose scope holds a retail-customer block."""

        def plan(session: Session, caller: Caller, query: FeedQuery) -> Prepared:
            app = session.get(rm.ApplicationInformation, caller.application_id)
            if app is None or app.bulk_id != bulk_id:
                raise NOT_FOUND
            subscriptions = sorted(
                {
                    g.subscription_id
                    for g in visibility(session, caller).grants.values()
                    if g.customer_data and g.subscription_id is not None
                }
            )
            records = [(sid, records_of(session, sid)) for sid in subscriptions]
            return records_feed(
                f"{public}/Batch/BulkRetailCustomerInfo/{bulk_id}",
                "BulkRetailCustomerInfo",
                records,
                query,
            )

        return await serve(request, ("GET", "/Batch/BulkRetailCustomerInfo/{id}"), plan)
