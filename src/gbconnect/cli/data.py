"""``gbconnect ingest``, ``generate``, ``export`` and ``validate``: meter data in, out
and checked."""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import click
from sqlalchemy import Engine

from gbconnect.cli.context import (
    JSON,
    USAGE_POINTS,
    database_session,
    engine_for,
    require_schema,
    settings_of,
)
from gbconnect.config import Settings

SCHEMAS_HELP = (
    "gbconnect validate needs the ESPI 4.0 schemas: espi.xsd and customer.xsd (NAESB "
    "REQ.21) and the Green Button Alliance's atom.xsd, with the W3C xml.xsd beside them "
    "or in ../w3c/. A gbconnect checkout has them in ../shared/espi/xsd/4.0; give the "
    "folder with --schemas DIR or set GBCONNECT_SCHEMA_DIR."
)
"""What to do when no schema folder is known."""


def _progress_printer(path: str) -> Callable[[int, int], None]:
    state = {"last": 0.0}

    def report(done: int, total: int) -> None:
        now = time.monotonic()
        if now - state["last"] >= 1.0 and total:
            state["last"] = now
            click.echo(f"  {path}: {100 * done / total:5.1f}% of {total / 1e6:,.1f} MB", err=True)

    return report


@click.command()
@click.argument("paths", nargs=-1, required=True)
@click.option(
    "--customer",
    help="Username of the RetailCustomer the data belongs to "
    "(created if new; default: 'unassigned').",
)
@click.option("--timezone", help="Time zone of CSV wall-clock times (default: the utility's).")
@click.option(
    "--skip-bad-entries",
    is_flag=True,
    help="Import every well-formed entry of an ESPI XML file and list each bad one with "
    "its line, instead of refusing the file (a file that is not well-formed XML, or of "
    "which no entry can be imported, is still refused).",
)
@click.pass_context
def ingest(
    ctx: click.Context,
    paths: tuple[str, ...],
    customer: str | None,
    timezone: str | None,
    skip_bad_entries: bool,
) -> None:
    """Import ESPI XML and CSV files (folders are searched); each file whole or not at all.

    \b
    Rules of an import:
    - when two readings share a start, the later one wins (the later in the file,
      the newer file over stored data); each replaced reading is listed with its line
      and the summary counts the readings stored;
    - an IntervalBlock whose interval has duration 0 but holds readings is refused
      with its line; a reading of duration 0 is stored with a warning naming its line;
    - importing the same file again changes nothing; a customer's own export
      imported again for that customer updates their usage points, not copies;
    - a feed of IntervalBlocks or UsageSummaries alone attaches to the parent an
      earlier import stored (else it is refused, naming the href it needs);
    - a file with a bad entry is refused, naming each bad entry with its line;
      with --skip-bad-entries its good entries are imported, each bad one listed
      (exit code 0 when something was imported).
    """
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    from gbconnect.db import make_sessionmaker
    from gbconnect.ingest.errors import IngestError
    from gbconnect.ingest.services import expand, ingest_file

    settings = settings_of(ctx)
    try:
        zone = ZoneInfo(timezone) if timezone else settings.zone
    except (ZoneInfoNotFoundError, ValueError):
        raise click.BadParameter(
            f"unknown time zone {timezone!r}", param_hint="--timezone"
        ) from None
    engine = engine_for(settings)
    require_schema(engine)
    factory = make_sessionmaker(engine)
    failed = 0
    for path in expand(list(paths)):
        try:
            summary = ingest_file(
                factory,
                path,
                customer,
                zone,
                _progress_printer(str(path)),
                resource_base=settings.public_resource_base,
                skip_bad_entries=skip_bad_entries,
            )
        except IngestError as exc:
            failed += 1
            click.echo(f"refused {exc}", err=True)
            continue
        click.echo(summary.line())
    if failed:
        click.echo(f"{failed} file(s) refused; nothing of them was stored", err=True)
        sys.exit(1)


@click.command()
@click.option("--customers", type=click.IntRange(1, 10_000_000), required=True)
@click.option("--days", type=click.IntRange(1, 3660), required=True)
@click.option("--interval", type=click.Choice(["900", "3600"]), default="900", show_default=True)
@click.option("--seed", type=int, default=1, show_default=True)
@click.option("--end", "end_date", help="Last day of data (YYYY-MM-DD; default yesterday).")
@click.pass_context
def generate(
    ctx: click.Context, customers: int, days: int, interval: str, seed: int, end_date: str | None
) -> None:
    """Generate seeded, realistic synthetic customers and their data."""
    settings = settings_of(ctx)
    engine = engine_for(settings)
    require_schema(engine)
    summary = generate_data(settings, engine, customers, days, int(interval), seed, end_date)
    click.echo(summary)


def generate_data(
    settings: Settings,
    engine: Engine,
    customers: int,
    days: int,
    interval: int,
    seed: int,
    end_date: str | None,
) -> str:
    """Generate ``customers`` with ``days`` of data; returns the summary line."""
    from datetime import date

    from gbconnect.db import make_sessionmaker
    from gbconnect.ingest.generator import GeneratorOptions, generate_customers

    try:
        end = date.fromisoformat(end_date) if end_date else None
    except ValueError:
        raise click.BadParameter("expected YYYY-MM-DD", param_hint="--end") from None
    options = GeneratorOptions(
        customers=customers, days=days, interval=interval, seed=seed, end=end, zone=settings.zone
    )

    def report(done: int, total: int) -> None:
        if done == total or done % max(1, total // 10) == 0:
            click.echo(f"  {done}/{total} customers", err=True)

    result = generate_customers(make_sessionmaker(engine), options, report)
    return result.line()


def _day_start(text: str | None, option: str) -> int | None:
    if not text:
        return None
    try:
        return int(datetime.strptime(text, "%Y-%m-%d").replace(tzinfo=UTC).timestamp())
    except ValueError:
        raise click.ClickException(f"{option} must be YYYY-MM-DD") from None


@click.command("export")
@click.option("--customer", "username", required=True)
@USAGE_POINTS
@click.option("--from", "date_from", help="First day (YYYY-MM-DD, UTC).")
@click.option("--to", "date_to", help="Day after the last (YYYY-MM-DD, UTC).")
@click.option(
    "--format", "fmt", type=click.Choice(["xml", "csv"]), default="xml", show_default=True
)
@click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False, writable=True),
    help="File to write (default: standard output).",
)
@click.pass_context
def export(
    ctx: click.Context,
    username: str,
    usage_points: tuple[int, ...],
    date_from: str | None,
    date_to: str | None,
    fmt: str,
    output: str | None,
) -> None:
    """Download My Data: a customer's usage as ESPI XML or gbconnect CSV (docs/csv.md)."""
    from gbconnect.api.export import ExportError, export_csv, export_xml, usage_point_ids
    from gbconnect.customer.services import find_customer

    lo, hi = _day_start(date_from, "--from"), _day_start(date_to, "--to")
    if lo is not None and hi is not None and hi <= lo:
        raise click.ClickException("--to must be after --from")
    with database_session(ctx) as (session, settings):
        c = find_customer(session, username)
        if c is None:
            raise click.ClickException(f"no customer {username!r}")
        try:
            ids = usage_point_ids(session, c.id, usage_points)
        except ExportError as exc:
            raise click.ClickException(str(exc)) from None
        pieces = (
            export_xml(session, settings, c.id, ids, lo, hi)
            if fmt == "xml"
            else export_csv(session, c.id, ids, lo, hi)
        )
        stream = click.open_file(output or "-", "w", encoding="utf-8", atomic=bool(output))
        with stream:
            for piece in pieces:
                stream.write(piece)


def schema_folder(ctx: click.Context, given: str | None) -> Path:
    """The schema folder: ``--schemas``, else GBCONNECT_SCHEMA_DIR; when neither is
    set or the folder does not exist, stop with :data:`SCHEMAS_HELP`."""
    if given:
        return Path(given)
    configured = settings_of(ctx).schema_dir
    if configured is None:
        raise click.ClickException("no schema folder is set. " + SCHEMAS_HELP)
    if not configured.is_dir():
        raise click.ClickException(
            f"GBCONNECT_SCHEMA_DIR {str(configured)!r} is not a folder. " + SCHEMAS_HELP
        )
    return configured


@click.command("validate")
@click.argument("files", nargs=-1, required=True, type=click.Path(exists=True, dir_okay=False))
@click.option(
    "--schemas",
    "schema_dir",
    type=click.Path(exists=True, file_okay=False),
    help="Folder with atom.xsd, espi.xsd (and customer.xsd); default GBCONNECT_SCHEMA_DIR.",
)
@JSON
@click.pass_context
def validate(
    ctx: click.Context, files: tuple[str, ...], schema_dir: str | None, as_json: bool
) -> None:
    """Check Green Button files against the ESPI schemas and the data rules of FB_1, 4,
    5, 8, 10, 12, 15 and 16; exits 1 when a file has an error."""
    from gbconnect.espi.validate import SchemaSet, validate_file

    try:
        schemas = SchemaSet(schema_folder(ctx, schema_dir))
    except (FileNotFoundError, OSError) as exc:
        raise click.ClickException(f"{exc}. {SCHEMAS_HELP}") from None
    errors = 0
    report: dict[str, list[dict[str, object]]] = {}
    for name in files:
        findings = validate_file(Path(name), schemas)
        errors += sum(not f.warning for f in findings)
        report[name] = [
            {"rule": f.rule, "line": f.line, "message": f.message, "warning": f.warning}
            for f in findings
        ]
        if not as_json:
            for f in findings:
                click.echo(f.render(name))
            n_err = sum(not f.warning for f in findings)
            n_warn = len(findings) - n_err
            click.echo(
                f"{name}: {'valid' if not n_err else 'invalid'} "
                f"({n_err} error(s), {n_warn} warning(s))"
            )
    if schemas.codes is None and not as_json:
        click.echo("note: code-tables.json not found beside the schemas; codes were not checked")
    if as_json:
        click.echo(json.dumps(report, indent=2))
    if errors:
        ctx.exit(1)
