"""``gbconnect init``, ``serve`` and ``demo``: the schema and the running service."""

from __future__ import annotations

import click
from sqlalchemy import Engine

from gbconnect.cli.context import engine_for, require_schema, settings_of
from gbconnect.cli.data import generate_data
from gbconnect.config import Settings
from gbconnect.customer.services import DEMO_PASSWORD


@click.command()
@click.pass_context
def init(ctx: click.Context) -> None:
    """Create or upgrade the schema of the configured database."""
    from gbconnect.db import current_revision, upgrade

    settings = settings_of(ctx)
    engine = engine_for(settings)
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


@click.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True, type=click.IntRange(1, 65535))
@click.pass_context
def serve(ctx: click.Context, host: str, port: int) -> None:
    """Serve the application on the configured database."""
    settings = settings_of(ctx)
    require_schema(engine_for(settings))
    run_server(settings, host, port)


def run_server(settings: Settings, host: str, port: int) -> None:
    """Serve ``create_app(settings)`` with uvicorn until interrupted."""
    import gc

    from gbconnect.app import create_app
    from gbconnect.logs import configure

    configure(settings.log_level)
    app = create_app(settings)
    # Everything made so far lives as long as the process: keep it out of the
    # collector's full passes, which otherwise stalled requests for 70-80 ms now and
    # then under load (benchmarks/api_load.py, on PostgreSQL).
    gc.collect()
    gc.freeze()
    # The notification worker inside the server (the default on SQLite, so that the
    # demo notifies; on PostgreSQL `gbconnect worker` processes do it).
    worker = None
    if settings.notify_worker_in_process:
        from gbconnect.jobs.worker import Worker

        worker = Worker(settings, app.state.sessions)
        worker.start()
    try:
        _run_uvicorn(app, settings, host, port)
    finally:
        if worker is not None:
            worker.stop()


def _run_uvicorn(app: object, settings: Settings, host: str, port: int) -> None:
    import uvicorn

    # uvicorn's access log follows the configured level (INFO logs every request).
    # The standard asyncio loop, not uvloop: uvloop is 2-4 % faster on the hot path but
    # stalls a response now and then for 140-200 ms under load (the bare /livez too);
    # asyncio's slowest stays under 45 ms (benchmarks/api_load.py).
    uvicorn.run(
        app,  # type: ignore[arg-type]
        host=host,
        port=port,
        log_level=settings.log_level.lower(),
        loop="asyncio",
        # The client's address is read by the application from X-Forwarded-For only
        # when the peer is a trusted proxy (GBCONNECT_TRUSTED_PROXIES, web.security);
        # uvicorn's own rewriting would believe any local peer.
        proxy_headers=False,
    )


@click.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True, type=click.IntRange(1, 65535))
@click.option("--customers", default=36, show_default=True, type=click.IntRange(1, 100_000))
@click.option("--days", default=396, show_default=True, type=click.IntRange(1, 3660))
@click.pass_context
def demo(ctx: click.Context, host: str, port: int, customers: int, days: int) -> None:
    """Set up a demo database (schema + generated data, once) and serve it."""
    from gbconnect.db import make_sessionmaker, upgrade
    from gbconnect.stats import store_counts

    settings = settings_of(ctx)
    engine = engine_for(settings)
    upgrade(engine)
    with make_sessionmaker(engine)() as session:
        loaded = store_counts(session).usage_points
    if loaded:
        click.echo(f"demo data already loaded ({loaded} usage points)")
    else:
        click.echo(f"generating {customers} customers with {days} days of data ...")
        click.echo(generate_data(settings, engine, customers, days, 900, 1, None))
    login = _demo_login(engine)
    if login is not None:
        settings = settings.model_copy(update={"demo_login": login})
        click.echo(f"  demo customer: {login} / {DEMO_PASSWORD}")
    tester = _demo_test_customer(engine, login)
    if tester is not None:
        click.echo(f"  test customer (third-party connectivity tests): {tester}")
    click.echo(f"\n  gbconnect is running: open http://{host}:{port}/\n")
    run_server(settings, host, port)


def _demo_login(engine: Engine) -> str | None:
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


def _demo_test_customer(engine: Engine, login: str | None) -> str | None:
    """Make a generated customer other than the demo login one of the utility's test
    accounts, if none is yet: the third-party portal's connectivity test makes its
    authorization-code round trip with one (development databases only)."""
    from sqlalchemy import select

    from gbconnect.customer.models import RetailCustomer
    from gbconnect.db import make_sessionmaker
    from gbconnect.usage.models import UsagePoint

    with make_sessionmaker(engine)() as session:
        found = session.scalars(
            select(RetailCustomer.username).where(RetailCustomer.is_test.is_(True)).limit(1)
        ).first()
        if found is not None:
            return found
        customer = session.scalars(
            select(RetailCustomer)
            .join(UsagePoint, UsagePoint.retail_customer_id == RetailCustomer.id)
            .where(RetailCustomer.username != (login or ""))
            .order_by(RetailCustomer.username)
            .limit(1)
        ).first()
        if customer is None:
            return None
        customer.is_test = True
        session.commit()
        return customer.username


COMMANDS = (init, serve, demo)
