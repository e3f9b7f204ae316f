"""Finding customers, usage points and authorizations (issue 12, "search"), and their
detail pages. Staff see customer data here (names, emails, account numbers): every
customer page opened is written to the audit log (``customer.viewed``), so who looked
at whom can be answered."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Select, func, or_, select
from starlette.responses import Response

from gbconnect.audit import record
from gbconnect.console.pages import Console, Ctx, int_param
from gbconnect.customer import models as cm
from gbconnect.notify.models import DELIVERED, Notification
from gbconnect.oauth import models as om
from gbconnect.registration import models as rm
from gbconnect.usage import models as um

LIMIT = 50
MAX_QUERY = 256
SERVICE_KINDS = {0: "electricity", 1: "gas", 2: "water", 3: "time", 4: "heat"}
AUTH_STATUS = {om.REVOKED: "revoked", om.ACTIVE: "active", om.DENIED: "denied"}


def _like(column: Any, text: str) -> Any:
    return func.lower(column).contains(text.lower(), autoescape=True)


def find_customers(ctx: Ctx, q: str) -> list[cm.RetailCustomer]:
    """By username, name or email (a part of it) or account number (whole)."""
    by_account = (
        select(cm.Customer.retail_customer_id)
        .join(cm.CustomerAccount, cm.CustomerAccount.customer_id == cm.Customer.id)
        .where(cm.CustomerAccount.account_id == q)
    )
    stmt: Select[Any] = (
        select(cm.RetailCustomer)
        .where(
            or_(
                _like(cm.RetailCustomer.username, q),
                _like(cm.RetailCustomer.name, q),
                _like(cm.RetailCustomer.email, q),
                cm.RetailCustomer.id.in_(by_account),
                cm.RetailCustomer.id == (int_param(q) or -1),
            )
        )
        .order_by(cm.RetailCustomer.username)
        .limit(LIMIT)
    )
    return list(ctx.session.scalars(stmt))


def find_authorizations(ctx: Ctx, q: str) -> list[om.Authorization]:
    """By id, by the customer's username, or by the third party's client id."""
    customer_ids = select(cm.RetailCustomer.id).where(cm.RetailCustomer.username == q)
    app_ids = select(rm.ApplicationInformation.id).where(rm.ApplicationInformation.client_id == q)
    stmt = (
        select(om.Authorization)
        .where(
            or_(
                om.Authorization.id == (int_param(q) or -1),
                om.Authorization.retail_customer_id.in_(customer_ids),
                om.Authorization.application_id.in_(app_ids),
            )
        )
        .order_by(om.Authorization.id.desc())
        .limit(LIMIT)
    )
    return list(ctx.session.scalars(stmt))


def install(console: Console) -> None:
    @console.view("/search")
    def search(ctx: Ctx) -> Response:
        q = ctx.request.query_params.get("q", "").strip()
        if len(q) > MAX_QUERY:
            return ctx.error(f"Search for at most {MAX_QUERY} characters.", 400)
        found: dict[str, Any] = {"customers": [], "points": [], "authorizations": []}
        if q:
            found["customers"] = find_customers(ctx, q)
            point = int_param(q)
            if point is not None:
                up = ctx.session.get(um.UsagePoint, point)
                found["points"] = [up] if up is not None else []
            found["authorizations"] = find_authorizations(ctx, q)
        return ctx.page("search.html", q=q, kinds=SERVICE_KINDS, auth_status=AUTH_STATUS, **found)

    @console.view("/customers/{customer_id:int}")
    def customer(ctx: Ctx, customer_id: int) -> Response:
        c = ctx.session.get(cm.RetailCustomer, customer_id)
        if c is None:
            return ctx.not_found(f"customer {customer_id}")
        points = list(
            ctx.session.scalars(
                select(um.UsagePoint)
                .where(um.UsagePoint.retail_customer_id == c.id)
                .order_by(um.UsagePoint.id)
            )
        )
        accounts = list(
            ctx.session.scalars(
                select(cm.CustomerAccount)
                .where(cm.CustomerAccount.retail_customer_id == c.id)
                .order_by(cm.CustomerAccount.id)
            )
        )
        grants = list(
            ctx.session.scalars(
                select(om.Authorization)
                .where(om.Authorization.retail_customer_id == c.id)
                .order_by(om.Authorization.id.desc())
            )
        )
        record(ctx.session, "customer.viewed", ctx.actor, ("customer", c.id), {"page": "console"})
        ctx.session.commit()
        return ctx.page(
            "customer.html",
            customer=c,
            points=points,
            accounts=accounts,
            grants=grants,
            kinds=SERVICE_KINDS,
            auth_status=AUTH_STATUS,
        )

    @console.view("/usage-points/{point_id:int}")
    def usage_point(ctx: Ctx, point_id: int) -> Response:
        up = ctx.session.get(um.UsagePoint, point_id)
        if up is None:
            return ctx.not_found(f"usage point {point_id}")
        readings = int(
            ctx.session.scalar(
                select(func.count())
                .select_from(um.MeterReading)
                .where(um.MeterReading.usage_point_id == up.id)
            )
            or 0
        )
        blocks, first, last = ctx.session.execute(
            select(func.count(), func.min(um.IntervalBlock.start), func.max(um.IntervalBlock.start))
            .join(um.MeterReading, um.MeterReading.id == um.IntervalBlock.meter_reading_id)
            .where(um.MeterReading.usage_point_id == up.id)
        ).one()
        shared = list(
            ctx.session.scalars(
                select(om.Authorization)
                .join(om.Subscription, om.Subscription.authorization_id == om.Authorization.id)
                .join(
                    om.subscription_usage_point,
                    om.subscription_usage_point.c.subscription_id == om.Subscription.id,
                )
                .where(om.subscription_usage_point.c.usage_point_id == up.id)
                .order_by(om.Authorization.id.desc())
            )
        )
        return ctx.page(
            "usage_point.html",
            point=up,
            owner=ctx.session.get(cm.RetailCustomer, up.retail_customer_id),
            readings=readings,
            blocks=blocks,
            first=first,
            last=last,
            shared=shared,
            kinds=SERVICE_KINDS,
            auth_status=AUTH_STATUS,
        )

    @console.view("/authorizations/{authorization_id:int}")
    def authorization(ctx: Ctx, authorization_id: int) -> Response:
        auth = ctx.session.get(om.Authorization, authorization_id)
        if auth is None:
            return ctx.not_found(f"authorization {authorization_id}")
        points: list[int] = []
        if auth.subscription is not None:
            points = list(
                ctx.session.scalars(
                    select(om.subscription_usage_point.c.usage_point_id)
                    .where(om.subscription_usage_point.c.subscription_id == auth.subscription.id)
                    .order_by(om.subscription_usage_point.c.usage_point_id)
                )
            )
        last_delivery = ctx.session.scalar(
            select(func.max(Notification.finished_at)).where(
                Notification.application_id == auth.application_id,
                Notification.state == DELIVERED,
            )
        )
        end = (
            None
            if auth.authorized_duration is None
            else auth.authorized_start + auth.authorized_duration
        )
        customer = (
            ctx.session.get(cm.RetailCustomer, auth.retail_customer_id)
            if auth.retail_customer_id is not None
            else None
        )
        return ctx.page(
            "authorization.html",
            auth=auth,
            customer=customer,
            points=points,
            end=end,
            last_delivery=last_delivery,
            auth_status=AUTH_STATUS,
        )


__all__ = ["find_authorizations", "find_customers", "install"]
