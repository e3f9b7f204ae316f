"""Paper authorizations in the browser (REQ.21 FB_40, "offline authorization"): a
customer who signed a paper form is given to a third party by an operator, with the
same service as ``gbconnect authorization create``
(:func:`gbconnect.oauth.services.grant_customer_authorization`, ``offline=True``):
the customer, an approved application, the services (usage points), the data groups
(the application's registered scope narrowed as the consent page narrows it,
:func:`gbconnect.portal.consent.narrowed_scope`) and the period. Audited as
``authorization.paper``."""

from __future__ import annotations

from datetime import date, datetime, time
from typing import Any

from sqlalchemy import select
from starlette.responses import Response

from gbconnect.audit import record
from gbconnect.console.models import OPERATOR
from gbconnect.console.pages import Console, Ctx, int_param
from gbconnect.customer import models as cm
from gbconnect.customer.services import find_customer
from gbconnect.espi import blocks as fb
from gbconnect.espi import scope as espi_scope
from gbconnect.oauth import services as grants
from gbconnect.portal.consent import end_of_day, narrowed_scope
from gbconnect.registration import models as rm
from gbconnect.usage import models as um


def _day(text: str, what: str) -> date | None:
    text = text.strip()
    if not text:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise grants.GrantError(f"the {what} date must be YYYY-MM-DD") from None


def install(console: Console) -> None:
    zone = console.settings.zone

    def approved(ctx: Ctx) -> list[rm.ApplicationInformation]:
        return list(
            ctx.session.scalars(
                select(rm.ApplicationInformation)
                .where(rm.ApplicationInformation.data_custodian_status == rm.PRODUCTION)
                .order_by(rm.ApplicationInformation.client_name)
            )
        )

    def form(
        ctx: Ctx, customer: cm.RetailCustomer | None, status: int = 200, **kept: Any
    ) -> Response:
        points = (
            list(
                ctx.session.scalars(
                    select(um.UsagePoint)
                    .where(um.UsagePoint.retail_customer_id == customer.id)
                    .order_by(um.UsagePoint.id)
                )
            )
            if customer is not None
            else []
        )
        kept.setdefault("chosen_points", [p.id for p in points])
        kept.setdefault("chosen_groups", [g.key for g in fb.DATA_GROUPS])
        kept.setdefault("application", None)
        kept.setdefault("start", "")
        kept.setdefault("end", "")
        return ctx.page(
            "paper.html",
            status,
            customer=customer,
            points=points,
            apps=approved(ctx),
            groups=fb.DATA_GROUPS,
            **kept,
        )

    @console.view("/paper", OPERATOR)
    def paper_form(ctx: Ctx) -> Response:
        name = ctx.request.query_params.get("customer", "").strip()[:128]
        if not name:
            return form(ctx, None, asked="")
        customer = find_customer(ctx.session, name)
        if customer is None:
            return form(ctx, None, 404, asked=name, error=f"There is no customer {name!r}.")
        return form(ctx, customer, asked=name)

    @console.view("/paper", OPERATOR, post=True)
    def paper_create(ctx: Ctx) -> Response:
        customer_id = int_param(ctx.form.get("customer_id"))
        customer = ctx.session.get(cm.RetailCustomer, customer_id) if customer_id else None
        if customer is None:
            return form(ctx, None, 400, asked="", error="Choose the customer first.")
        app_id = int_param(ctx.form.get("application"))
        points = [p for p in (int_param(v) for v in ctx.values("usage_point")) if p is not None]
        groups = set(ctx.values("group"))
        kept: dict[str, Any] = {
            "asked": customer.username,
            "application": app_id,
            "chosen_points": points,
            "chosen_groups": sorted(groups),
            "start": ctx.form.get("start", "")[:10],
            "end": ctx.form.get("end", "")[:10],
        }
        app = ctx.session.get(rm.ApplicationInformation, app_id) if app_id else None
        if app is None or app.data_custodian_status != rm.PRODUCTION:
            return form(ctx, customer, 400, error="Choose an approved application.", **kept)
        try:
            start_day = _day(kept["start"], "start")
            end_day = _day(kept["end"], "end")
            scope = narrowed_scope(espi_scope.parse(app.scopes[0]), groups, None)
            start = (
                int(datetime.combine(start_day, time(), tzinfo=zone).timestamp())
                if start_day
                else None
            )
            end = end_of_day(end_day, zone) if end_day else None
            auth = grants.grant_customer_authorization(
                ctx.session,
                console.settings,
                app,
                customer,
                grants.GrantRequest(scope=scope, usage_point_ids=points, end=end, start=start),
                offline=True,
            )
        except (grants.GrantError, espi_scope.ScopeError) as exc:
            ctx.session.rollback()
            message = str(exc)
            return form(ctx, customer, 400, error=message[:1].upper() + message[1:] + ".", **kept)
        record(
            ctx.session,
            "authorization.paper",
            ctx.actor,
            ("authorization", auth.id),
            {
                "client_id": app.client_id,
                "customer_id": customer.id,
                "scope": auth.scope,
                "usage_points": points,
            },
        )
        ctx.session.commit()
        return ctx.redirect(f"/console/authorizations/{auth.id}?done=created")


__all__ = ["install"]
