"""Notification health in the console (REQ.21 FB_39, GBA PSH004): per third party the
jobs waiting, retrying and dead, and the recent failures, read through
:mod:`gbconnect.notify.admin`; an operator resends a dead (or delivered, or
cancelled) notification as a new job (:func:`gbconnect.notify.admin.resend`),
audited as ``notification.resent``."""

from __future__ import annotations

import time
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session
from starlette.responses import Response

from gbconnect.audit import record
from gbconnect.console.models import OPERATOR
from gbconnect.console.pages import Console, Ctx
from gbconnect.notify import admin
from gbconnect.notify.models import DEAD, QUEUED, Notification
from gbconnect.registration import models as rm


@dataclass(frozen=True)
class Health:
    """One third party's notification jobs: waiting for a first try, waiting to be
    tried again, and given up on (dead); its newest failure."""

    application_id: int
    name: str
    queued: int
    retrying: int
    dead: int
    last_error: str | None
    last_error_at: float | None


def health(session: Session) -> list[Health]:
    """Every third party that has notification jobs."""
    retrying = dict(
        session.execute(
            select(Notification.application_id, func.count())
            .where(Notification.state == QUEUED, Notification.attempts > 0)
            .group_by(Notification.application_id)
        ).all()
    )
    names = dict(
        session.execute(
            select(rm.ApplicationInformation.id, rm.ApplicationInformation.client_name)
        ).all()
    )
    return [
        Health(
            a.application_id,
            names.get(a.application_id, f"application {a.application_id}"),
            a.queued - retrying.get(a.application_id, 0),
            retrying.get(a.application_id, 0),
            a.dead,
            a.last_error,
            a.last_error_at,
        )
        for a in admin.status(session, time.time()).applications
    ]


def health_of(session: Session, application_id: int) -> Health | None:
    """:func:`health` of one third party (None when it has no jobs)."""
    return next((h for h in health(session) if h.application_id == application_id), None)


def install(console: Console) -> None:
    @console.view("/notifications")
    def notifications(ctx: Ctx) -> Response:
        status = admin.status(ctx.session, time.time())
        dead = admin.list_notifications(ctx.session, state=DEAD, limit=50)
        names = dict(
            ctx.session.execute(
                select(rm.ApplicationInformation.id, rm.ApplicationInformation.client_name)
            ).all()
        )
        return ctx.page(
            "notifications.html",
            notify=status,
            health=health(ctx.session),
            dead=dead,
            names=names,
            done=ctx.request.query_params.get("resent", "")[:18],
        )

    @console.view("/notifications/{notification_id:int}/resend", OPERATOR, post=True)
    def resend(ctx: Ctx, notification_id: int) -> Response:
        original = ctx.session.get(Notification, notification_id)
        if original is None:
            return ctx.not_found(f"notification {notification_id}")
        try:
            new_id = admin.resend(ctx.session, notification_id, time.time())
        except admin.NotifyAdminError as exc:
            return ctx.error(f"{exc}.", 409)
        record(
            ctx.session,
            "notification.resent",
            ctx.actor,
            ("notification", notification_id),
            {"application_id": original.application_id, "new_notification": new_id},
        )
        ctx.session.commit()
        return ctx.redirect(f"/console/notifications?resent={new_id}")


__all__ = ["Health", "health", "health_of", "install"]
