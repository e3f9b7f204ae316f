"""Third parties in the console: the list (by status), the detail of one
ApplicationInformation (REQ.21 espi.xsd; STANDARD.md section 4) with its grants,
notification health and audit trail, and the utility's decision on it: approve, hold
or revoke, with a reason the third party sees
(:func:`gbconnect.oauth.clients.set_status`, which writes the audit event). Hold and
revoke end tokens at once, so they ask for a confirmation first."""

from __future__ import annotations

from sqlalchemy import func, select
from starlette.responses import Response

from gbconnect.audit import query as audit_query
from gbconnect.console.models import OPERATOR
from gbconnect.console.notifications import health_of
from gbconnect.console.pages import Console, Ctx
from gbconnect.oauth import clients
from gbconnect.oauth import models as om
from gbconnect.registration import models as rm

#: The decisions a form may ask for: status, and whether it cuts tokens (confirmed).
DECISIONS = {
    "approve": (rm.PRODUCTION, False),
    "hold": (rm.ON_HOLD, True),
    "revoke": (rm.REVOKED, True),
}
STATUS_FILTERS = {name.replace(" ", "-"): code for code, name in rm.STATUS_NAMES.items()}
APP_TYPES = {1: "web", 2: "desktop", 3: "mobile", 4: "device"}
THIRD_PARTY_STATUS = {1: "development", 2: "review/test", 3: "production", 4: "retired"}
MAX_REASON = 512


def install(console: Console) -> None:
    @console.view("/applications")
    def application_list(ctx: Ctx) -> Response:
        wanted = ctx.request.query_params.get("status", "")
        stmt = select(rm.ApplicationInformation).order_by(rm.ApplicationInformation.client_name)
        if wanted:
            if wanted not in STATUS_FILTERS:
                return ctx.error(
                    f"There is no status {wanted[:40]!r}; choose one of "
                    f"{', '.join(STATUS_FILTERS)}.",
                    400,
                )
            stmt = stmt.where(
                rm.ApplicationInformation.data_custodian_status == STATUS_FILTERS[wanted]
            )
        apps = list(ctx.session.scalars(stmt))
        grants = dict(
            ctx.session.execute(
                select(om.Authorization.application_id, func.count())
                .where(om.Authorization.status == om.ACTIVE)
                .group_by(om.Authorization.application_id)
            ).all()
        )
        return ctx.page(
            "applications.html",
            apps=apps,
            grants=grants,
            wanted=wanted,
            filters=STATUS_FILTERS,
            names=rm.STATUS_NAMES,
        )

    def detail(
        ctx: Ctx, app: rm.ApplicationInformation, status: int = 200, **extra: object
    ) -> Response:
        counts = dict(
            ctx.session.execute(
                select(om.Authorization.status, func.count())
                .where(
                    om.Authorization.application_id == app.id,
                    om.Authorization.retail_customer_id.is_not(None),
                )
                .group_by(om.Authorization.status)
            ).all()
        )
        trail = audit_query.search(
            ctx.session, audit_query.Filter(target_kind="application", target_id=str(app.id)), 50
        )
        extra.setdefault("reason", "")
        return ctx.page(
            "application.html",
            status,
            app=app,
            names=rm.STATUS_NAMES,
            app_types=APP_TYPES,
            tp_status=THIRD_PARTY_STATUS,
            active=counts.get(om.ACTIVE, 0),
            revoked=counts.get(om.REVOKED, 0),
            health=health_of(ctx.session, app.id),
            trail=trail,
            done=ctx.request.query_params.get("done", "")[:20],
            **extra,
        )

    @console.view("/applications/{app_id:int}")
    def application_detail(ctx: Ctx, app_id: int) -> Response:
        app = ctx.session.get(rm.ApplicationInformation, app_id)
        if app is None:
            return ctx.not_found(f"application {app_id}")
        return detail(ctx, app)

    @console.view("/applications/{app_id:int}/status", OPERATOR, post=True)
    def application_status(ctx: Ctx, app_id: int) -> Response:
        app = ctx.session.get(rm.ApplicationInformation, app_id)
        if app is None:
            return ctx.not_found(f"application {app_id}")
        decision = ctx.form.get("decision", "")
        reason = ctx.form.get("reason", "").strip()
        if decision not in DECISIONS:
            return detail(ctx, app, 400, error="Choose approve, hold or revoke.", reason=reason)
        status, cuts = DECISIONS[decision]
        if len(reason) > MAX_REASON:
            return detail(
                ctx,
                app,
                400,
                error=f"The reason is longer than {MAX_REASON} characters.",
                reason=reason,
            )
        if cuts and not reason:
            return detail(
                ctx,
                app,
                400,
                error=f"Say why you {decision} this application: its third party reads the reason.",
                reason=reason,
            )
        if cuts and ctx.form.get("confirm") != "yes":
            return ctx.page("confirm_status.html", app=app, decision=decision, reason=reason)
        clients.set_status(ctx.session, app, status, reason or None, ctx.actor)
        ctx.session.commit()
        return ctx.redirect(f"/console/applications/{app.id}?done={decision}")


__all__ = ["DECISIONS", "install"]
