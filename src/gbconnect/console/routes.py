"""The console's router: every page under ``/console`` (:func:`build_router`).

Wiring, in :func:`gbconnect.app.create_app`::

    from gbconnect.console import routes as console_routes
    app.include_router(console_routes.build_router(settings, app.state.sessions))
"""

from __future__ import annotations

import time

from fastapi import APIRouter
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker
from starlette.responses import Response

from gbconnect.config import Settings
from gbconnect.console import (
    account,
    applications,
    audit_log,
    imports,
    notifications,
    paper,
    search,
    signin,
    staff_pages,
)
from gbconnect.console.pages import Console, Ctx
from gbconnect.notify import admin
from gbconnect.registration import models as rm


def build_router(settings: Settings, sessions: sessionmaker[Session]) -> APIRouter:
    """Every console page, on ``sessions``' database."""
    console = Console(settings, sessions)
    signin.install(console)

    @console.view("")
    def home(ctx: Ctx) -> Response:
        by_status = dict(
            ctx.session.execute(
                select(rm.ApplicationInformation.data_custodian_status, func.count()).group_by(
                    rm.ApplicationInformation.data_custodian_status
                )
            ).all()
        )
        return ctx.page(
            "home.html",
            by_status=by_status,
            names=rm.STATUS_NAMES,
            notify=admin.status(ctx.session, time.time()),
        )

    for module in (
        account,
        applications,
        search,
        imports,
        notifications,
        paper,
        audit_log,
        staff_pages,
    ):
        module.install(console)
    return console.router


__all__ = ["build_router"]
