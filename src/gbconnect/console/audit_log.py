"""The audit log in the console (issue 12 part 6): search with the filters of
:class:`gbconnect.audit.query.Filter`, newest first, a page at a time; export of the
matching events as CSV or JSON, streamed (never the whole log in memory); and the
chain check (:func:`gbconnect.audit.query.check`) with its verdict and last hash."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, datetime, time, timedelta

from starlette.responses import Response, StreamingResponse

from gbconnect.audit import query
from gbconnect.audit.record import KINDS
from gbconnect.console.pages import Console, Ctx, int_param

PAGE = 50
FIELDS = ("action", "actor", "actor_kind", "target_kind", "target_id", "since", "until")


class BadFilter(ValueError):
    """A filter field the log cannot be searched by."""


def filter_of(params: dict[str, str], console: Console) -> query.Filter:
    """The search's :class:`~gbconnect.audit.query.Filter` from the page's fields
    (dates are days in the utility's zone; "until" includes its day)."""
    zone = console.settings.zone

    def text(name: str, limit: int) -> str | None:
        value = params.get(name, "").strip()
        if len(value) > limit:
            raise BadFilter(f"The {name.replace('_', ' ')} is longer than {limit} characters.")
        return value or None

    def day(name: str) -> date | None:
        value = params.get(name, "").strip()
        if not value:
            return None
        try:
            return date.fromisoformat(value)
        except ValueError:
            raise BadFilter(f"The {name} date must be YYYY-MM-DD.") from None

    kind = text("actor_kind", 16)
    if kind is not None and kind not in KINDS:
        raise BadFilter(f"The actor kind must be one of {', '.join(KINDS)}.")
    since, until = day("since"), day("until")
    return query.Filter(
        action=text("action", 64),
        actor=text("actor", 256),
        actor_kind=kind,
        target_kind=text("target_kind", 32),
        target_id=text("target_id", 64),
        since=None if since is None else datetime.combine(since, time(), zone).timestamp(),
        until=None
        if until is None
        else datetime.combine(until + timedelta(days=1), time(), zone).timestamp(),
    )


def install(console: Console) -> None:
    def params(ctx: Ctx) -> dict[str, str]:
        return {k: ctx.request.query_params.get(k, "") for k in FIELDS}

    @console.view("/audit")
    def audit(ctx: Ctx) -> Response:
        fields = params(ctx)
        raw_before = ctx.request.query_params.get("before")
        before = int_param(raw_before)
        try:
            if raw_before and before is None:
                raise BadFilter("The page is not a number.")
            where = filter_of(fields, console)
        except BadFilter as exc:
            return ctx.page(
                "audit.html", 400, error=str(exc), fields=fields, events=[], kinds=KINDS, more=None
            )
        events = query.search(ctx.session, where, PAGE + 1, before)
        more = events[PAGE - 1].seq if len(events) > PAGE else None
        return ctx.page(
            "audit.html",
            fields=fields,
            events=events[:PAGE],
            kinds=KINDS,
            more=more,
            query={k: v for k, v in fields.items() if v},
        )

    def export(ctx: Ctx, kind: str) -> Response:
        try:
            where = filter_of(params(ctx), console)
        except BadFilter as exc:
            return ctx.error(str(exc), 400)
        # The export reads in a session of its own, as it streams after this handler.
        factory = console.sessions

        def rows() -> Iterator[str]:
            with factory() as session:
                events = query.events(session, where)
                try:
                    writer = query.export_csv if kind == "csv" else query.export_json
                    yield from writer(events)
                finally:
                    events.close()

        stamp = datetime.now(console.settings.zone).strftime("%Y%m%d-%H%M%S")
        return StreamingResponse(
            rows(),
            media_type="text/csv; charset=utf-8" if kind == "csv" else "application/json",
            headers={
                "Content-Disposition": f'attachment; filename="audit-{stamp}.{kind}"',
                "Cache-Control": "no-store",
            },
        )

    @console.view("/audit/export.csv")
    def audit_csv(ctx: Ctx) -> Response:
        return export(ctx, "csv")

    @console.view("/audit/export.json")
    def audit_json(ctx: Ctx) -> Response:
        return export(ctx, "json")

    @console.view("/audit/check")
    def audit_check(ctx: Ctx) -> Response:
        verdict = query.check(ctx.session)
        return ctx.page("audit_check.html", verdict=verdict)


__all__ = ["BadFilter", "filter_of", "install"]
