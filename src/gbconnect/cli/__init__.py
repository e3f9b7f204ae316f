"""The ``gbconnect`` command line (Click)."""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from typing import Any

import click

from gbconnect.config import ConfigError, Settings, load_settings


def _settings(ctx: click.Context) -> Settings:
    settings = ctx.obj.get("settings") if ctx.obj else None
    if settings is None:
        try:
            settings = load_settings(**(ctx.obj or {}).get("overrides", {}))
        except ConfigError as exc:
            raise click.ClickException(str(exc)) from None
        ctx.obj["settings"] = settings
    return settings


def _engine(settings: Settings) -> Any:
    """An engine for the command; disposed when the command ends (no leaked connections)."""
    from gbconnect.db import make_engine

    engine = make_engine(settings.sqlalchemy_url)
    click.get_current_context().call_on_close(engine.dispose)
    return engine


def _require_schema(engine: Any) -> None:
    from gbconnect.db import current_revision, head_revision

    try:
        current = current_revision(engine)
    except Exception as exc:
        raise click.ClickException(
            f"cannot reach the database: {exc.__class__.__name__}: {str(exc).splitlines()[0]}"
        ) from None
    if current != head_revision(engine):
        raise click.ClickException("the database schema is not current: run `gbconnect init` first")


@click.group()
@click.option(
    "--database-url",
    envvar="GBCONNECT_DATABASE_URL",
    default=None,
    help="Database URL (sqlite:///file.db or postgresql://...).",
)
@click.version_option(package_name="gbconnect")
@click.pass_context
def main(ctx: click.Context, database_url: str | None) -> None:
    """gbconnect: Green Button Connect My Data for utilities (NAESB REQ.21 ESPI 4.0)."""
    overrides: dict[str, Any] = {}
    if database_url:
        overrides["database_url"] = database_url
    ctx.obj = {"overrides": overrides}


@main.command()
@click.pass_context
def init(ctx: click.Context) -> None:
    """Create or upgrade the schema of the configured database."""
    from gbconnect.db import current_revision, upgrade

    settings = _settings(ctx)
    engine = _engine(settings)
    try:
        before = current_revision(engine)
        upgrade(engine)
        after = current_revision(engine)
    except Exception as exc:
        raise click.ClickException(
            f"cannot migrate the database: {exc.__class__.__name__}: {str(exc).splitlines()[0]}"
        ) from None
    if before == after:
        click.echo(f"schema already current ({after})")
    else:
        click.echo(f"schema upgraded {before or 'empty'} -> {after}")


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True, type=click.IntRange(1, 65535))
@click.pass_context
def serve(ctx: click.Context, host: str, port: int) -> None:
    """Serve the application on the configured database."""
    settings = _settings(ctx)
    _require_schema(_engine(settings))
    _run_server(settings, host, port)


def _run_server(settings: Settings, host: str, port: int) -> None:
    import gc

    import uvicorn

    from gbconnect.app import create_app
    from gbconnect.logs import configure

    configure(settings.log_level)
    app = create_app(settings)
    # Everything made so far lives as long as the process: keep it out of the
    # collector's full passes, which otherwise stalled requests for 70-80 ms now and
    # then under load (benchmarks/api_load.py, on PostgreSQL).
    gc.collect()
    gc.freeze()
    # uvicorn's access log follows the configured level (INFO logs every request).
    # The standard asyncio loop, not uvloop: uvloop is 2-4 % faster on the hot path but
    # stalls a response now and then for 140-200 ms under load (the bare /livez too);
    # asyncio's slowest stays under 45 ms (benchmarks/api_load.py).
    uvicorn.run(
        app,
        host=host,
        port=port,
        log_level=settings.log_level.lower(),
        loop="asyncio",
    )


def _progress_printer(path: str) -> Callable[[int, int], None]:
    state = {"last": 0.0}

    def report(done: int, total: int) -> None:
        now = time.monotonic()
        if now - state["last"] >= 1.0 and total:
            state["last"] = now
            click.echo(f"  {path}: {100 * done / total:5.1f}% of {total / 1e6:,.1f} MB", err=True)

    return report


@main.command()
@click.argument("paths", nargs=-1, required=True)
@click.option(
    "--customer",
    help="Username of the RetailCustomer the data belongs to "
    "(created if new; default: 'unassigned').",
)
@click.option("--timezone", help="Time zone of CSV wall-clock times (default: the utility's).")
@click.pass_context
def ingest(
    ctx: click.Context, paths: tuple[str, ...], customer: str | None, timezone: str | None
) -> None:
    """Import ESPI XML and CSV files (folders are searched); each file whole or not at all."""
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    from gbconnect.db import make_sessionmaker
    from gbconnect.ingest.errors import IngestError
    from gbconnect.ingest.services import expand, ingest_file

    settings = _settings(ctx)
    try:
        zone = ZoneInfo(timezone) if timezone else settings.zone
    except (ZoneInfoNotFoundError, ValueError):
        raise click.BadParameter(
            f"unknown time zone {timezone!r}", param_hint="--timezone"
        ) from None
    engine = _engine(settings)
    _require_schema(engine)
    factory = make_sessionmaker(engine)
    failed = 0
    for path in expand(list(paths)):
        try:
            summary = ingest_file(factory, path, customer, zone, _progress_printer(str(path)))
        except IngestError as exc:
            failed += 1
            click.echo(f"refused {exc}", err=True)
            continue
        click.echo(summary.line())
    if failed:
        click.echo(f"{failed} file(s) refused; nothing of them was stored", err=True)
        sys.exit(1)


@main.command()
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
    settings = _settings(ctx)
    engine = _engine(settings)
    _require_schema(engine)
    summary = _generate(settings, engine, customers, days, int(interval), seed, end_date)
    click.echo(summary)


def _generate(
    settings: Settings,
    engine: Any,
    customers: int,
    days: int,
    interval: int,
    seed: int,
    end_date: str | None,
) -> str:
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


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True, type=click.IntRange(1, 65535))
@click.option("--customers", default=36, show_default=True, type=click.IntRange(1, 100_000))
@click.option("--days", default=396, show_default=True, type=click.IntRange(1, 3660))
@click.pass_context
def demo(ctx: click.Context, host: str, port: int, customers: int, days: int) -> None:
    """Set up a demo database (schema + generated data, once) and serve it."""
    from gbconnect.db import upgrade
    from gbconnect.stats import store_counts

    settings = _settings(ctx)
    engine = _engine(settings)
    upgrade(engine)
    from gbconnect.db import make_sessionmaker

    with make_sessionmaker(engine)() as session:
        loaded = store_counts(session).usage_points
    if loaded:
        click.echo(f"demo data already loaded ({loaded} usage points)")
    else:
        click.echo(f"generating {customers} customers with {days} days of data ...")
        click.echo(_generate(settings, engine, customers, days, 900, 1, None))
    login = _demo_login(engine)
    if login is not None:
        settings = settings.model_copy(update={"demo_login": login})
        click.echo(f"  demo customer: {login} / {DEMO_PASSWORD}")
    click.echo(f"\n  gbconnect is running: open http://{host}:{port}/\n")
    _run_server(settings, host, port)


def _demo_login(engine: Any) -> str | None:
    """Give the first generated customer a login (development databases only)."""
    from sqlalchemy import select

    from gbconnect.customer.models import RetailCustomer
    from gbconnect.customer.services import hash_password
    from gbconnect.db import make_sessionmaker
    from gbconnect.usage.models import UsagePoint

    with make_sessionmaker(engine)() as session:
        customer = session.scalars(
            select(RetailCustomer)
            .join(UsagePoint, UsagePoint.retail_customer_id == RetailCustomer.id)
            .order_by(RetailCustomer.username)
            .limit(1)
        ).first()
        if customer is None:
            return None
        if customer.password_hash is None:
            customer.password_hash = hash_password(DEMO_PASSWORD)
            session.commit()
        return customer.username


from gbconnect.cli import operator  # noqa: E402, F401  (registers its commands on main)
from gbconnect.customer.services import DEMO_PASSWORD  # noqa: E402

if __name__ == "__main__":  # pragma: no cover
    main()
