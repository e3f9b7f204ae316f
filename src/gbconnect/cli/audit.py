"""``gbconnect audit ...``: read, check and export the audit log (gbconnect.audit)."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import click

from gbconnect.audit import query
from gbconnect.cli.context import JSON, database_session, out


def _moment(text: str | None) -> float | None:
    """An ISO 8601 date or date-time (UTC when no zone is given) as epoch seconds."""
    if not text:
        return None
    try:
        value = datetime.fromisoformat(text)
    except ValueError:
        raise click.BadParameter(f"{text!r} is not a date (YYYY-MM-DD[THH:MM[:SS]])") from None
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.timestamp()


def _filters(f: click.decorators.FC) -> click.decorators.FC:
    for option in reversed(
        (
            click.option("--action", help="An action, or a prefix ending in * (sign_in.*)."),
            click.option("--actor", help="A part of the actor's name."),
            click.option(
                "--actor-kind",
                type=click.Choice(["customer", "third party", "staff", "operator", "system"]),
            ),
            click.option("--target-kind", help="authorization, application, customer, ..."),
            click.option("--target-id"),
            click.option("--since", help="From this date or time (UTC unless it says)."),
            click.option("--until", help="Before this date or time."),
        )
    ):
        f = option(f)
    return f


def _filter(**given: str | None) -> query.Filter:
    return query.Filter(
        action=given.get("action"),
        actor=given.get("actor"),
        actor_kind=given.get("actor_kind"),
        target_kind=given.get("target_kind"),
        target_id=given.get("target_id"),
        since=_moment(given.get("since")),
        until=_moment(given.get("until")),
    )


@click.group()
def audit() -> None:
    """The audit log: who did what, when and from where."""


@audit.command("list")
@_filters
@click.option("--limit", type=click.IntRange(1, 10_000), default=50, show_default=True)
@JSON
@click.pass_context
def audit_list(ctx: click.Context, /, limit: int, as_json: bool, **given: str | None) -> None:
    """The newest events, newest first."""
    where = _filter(**given)
    with database_session(ctx) as (session, _):
        rows = [query.as_dict(e) for e in query.search(session, where, limit)]
    lines = [
        f"{r['seq']:>7}  {datetime.fromtimestamp(r['at'], UTC):%Y-%m-%d %H:%M:%S}Z  "
        f"{r['action']:<28} {r['actor_kind']}: {r['actor'] or '-'} ({r['address'] or '-'})"
        + (f"  -> {r['target_kind']} {r['target_id']}" if r["target_kind"] else "")
        for r in rows
    ]
    out(as_json, rows, "\n".join(lines) or "no events")


@audit.command("verify")
@JSON
@click.pass_context
def audit_verify(ctx: click.Context, as_json: bool) -> None:
    """Check the hash chain from the first event; exit 1 when it is broken."""
    with database_session(ctx) as (session, _):
        verdict = query.check(session)
    data = {
        "ok": verdict.ok,
        "events": verdict.events,
        "last_hash": verdict.last_hash,
        "problem": verdict.problem,
        "bad_seq": verdict.bad_seq,
    }
    text = (
        f"the chain holds: {verdict.events} events, last hash {verdict.last_hash}"
        if verdict.ok
        else f"the chain is broken: {verdict.problem} (after {verdict.events} good events)"
    )
    out(as_json, data, text)
    if not verdict.ok:
        ctx.exit(1)


@audit.command("export")
@_filters
@click.option(
    "--format", "fmt", type=click.Choice(["csv", "json"]), default="csv", show_default=True
)
@click.option(
    "--output",
    type=click.Path(dir_okay=False, writable=True, path_type=Path),
    help="Write to this file (standard output by default).",
)
@click.pass_context
def audit_export(ctx: click.Context, /, fmt: str, output: Path | None, **given: str | None) -> None:
    """Every matching event, oldest first, as CSV or JSON."""
    where = _filter(**given)
    write = query.export_csv if fmt == "csv" else query.export_json
    with database_session(ctx) as (session, _):
        chunks = write(query.events(session, where))
        if output is None:
            for chunk in chunks:
                click.echo(chunk, nl=False)
        else:
            with output.open("w", encoding="utf-8", newline="") as f:
                for chunk in chunks:
                    f.write(chunk)
