"""Administrators manage staff accounts in the console: create one, change its role,
disable or enable it (:mod:`gbconnect.console.staff`). Each change is audited
(``staff.created``, ``staff.role_changed``, ``staff.disabled``, ``staff.enabled``).
An administrator cannot disable or demote their own account (the last administrator
would lock everyone out)."""

from __future__ import annotations

from typing import Any

from starlette.responses import Response

from gbconnect.audit import record
from gbconnect.console import staff as services
from gbconnect.console.models import ADMINISTRATOR, StaffUser
from gbconnect.console.pages import Console, Ctx


def install(console: Console) -> None:
    def listing(ctx: Ctx, status: int = 200, **kept: Any) -> Response:
        kept.setdefault("new", {"email": "", "name": "", "role": "viewer"})
        return ctx.page(
            "staff.html",
            status,
            people=services.list_staff(ctx.session),
            done=ctx.request.query_params.get("done", "")[:20],
            **kept,
        )

    @console.view("/staff", ADMINISTRATOR)
    def staff_list(ctx: Ctx) -> Response:
        return listing(ctx)

    @console.view("/staff", ADMINISTRATOR, post=True)
    def staff_create(ctx: Ctx) -> Response:
        new = {k: ctx.form.get(k, "").strip()[:256] for k in ("email", "name", "role")}
        try:
            person = services.create_staff(
                ctx.session, new["email"], new["name"], new["role"], ctx.form.get("password", "")
            )
        except services.StaffError as exc:
            ctx.session.rollback()
            message = str(exc)
            return listing(ctx, 400, new=new, error=message[:1].upper() + message[1:] + ".")
        record(
            ctx.session,
            "staff.created",
            ctx.actor,
            ("staff", person.id),
            {"email": person.email, "role": person.role},
        )
        ctx.session.commit()
        return ctx.redirect("/console/staff?done=created")

    def change(ctx: Ctx, staff_id: int, what: str) -> Response:
        person = ctx.session.get(StaffUser, staff_id)
        if person is None:
            return ctx.not_found(f"staff account {staff_id}")
        if person.id == ctx.staff.id:
            return listing(ctx, 400, error="You cannot disable or change your own account.")
        details: dict[str, Any] = {"email": person.email}
        if what == "disable":
            changed = services.disable_staff(ctx.session, person)
        elif what == "enable":
            changed = services.enable_staff(ctx.session, person)
        else:
            role = ctx.form.get("role", "")
            details["from"] = person.role
            try:
                changed = services.set_role(ctx.session, person, role)
            except services.StaffError as exc:
                return listing(ctx, 400, error=f"{str(exc)[:1].upper()}{str(exc)[1:]}.")
            details["to"] = role
        if changed:
            action = {"disable": "staff.disabled", "enable": "staff.enabled"}.get(
                what, "staff.role_changed"
            )
            record(ctx.session, action, ctx.actor, ("staff", person.id), details)
        ctx.session.commit()
        return ctx.redirect(f"/console/staff?done={what}")

    @console.view("/staff/{staff_id:int}/disable", ADMINISTRATOR, post=True)
    def staff_disable(ctx: Ctx, staff_id: int) -> Response:
        return change(ctx, staff_id, "disable")

    @console.view("/staff/{staff_id:int}/enable", ADMINISTRATOR, post=True)
    def staff_enable(ctx: Ctx, staff_id: int) -> Response:
        return change(ctx, staff_id, "enable")

    @console.view("/staff/{staff_id:int}/role", ADMINISTRATOR, post=True)
    def staff_role(ctx: Ctx, staff_id: int) -> Response:
        return change(ctx, staff_id, "role")


__all__ = ["install"]
