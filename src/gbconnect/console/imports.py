"""The import history in the console: every meter-data import (files, uploads, the
generator), who ran it, what it stored, and how it ended (``import_run``,
:mod:`gbconnect.ingest.runs`)."""

from __future__ import annotations

from sqlalchemy import select
from starlette.responses import Response

from gbconnect.console.pages import Console, Ctx, int_param
from gbconnect.ingest.models import ImportRun

PAGE = 50


def install(console: Console) -> None:
    @console.view("/imports")
    def imports(ctx: Ctx) -> Response:
        raw = ctx.request.query_params.get("before")
        before = int_param(raw)
        if raw and before is None:
            return ctx.error("The page is not a number.", 400)
        stmt = select(ImportRun).order_by(ImportRun.id.desc()).limit(PAGE + 1)
        if before is not None:
            stmt = stmt.where(ImportRun.id < before)
        runs = list(ctx.session.scalars(stmt))
        more = runs[PAGE - 1].id if len(runs) > PAGE else None
        return ctx.page("imports.html", runs=runs[:PAGE], more=more)


__all__ = ["install"]
