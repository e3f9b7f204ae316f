"""``gbconnect init``, ``serve`` and ``demo``: the schema and the running service."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

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


_PEM = click.Path(exists=True, dir_okay=False, path_type=Path)


@click.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True, type=click.IntRange(1, 65535))
@click.option("--tls-cert", type=_PEM, help="Serve HTTPS with this PEM certificate (chain).")
@click.option("--tls-key", type=_PEM, help="The certificate's PEM private key.")
@click.option(
    "--client-ca",
    type=_PEM,
    help="Request client certificates and verify them against these PEM CA certificates "
    "(mutual TLS; GBCONNECT_MTLS decides whether the API requires one).",
)
@click.pass_context
def serve(
    ctx: click.Context,
    host: str,
    port: int,
    tls_cert: Path | None,
    tls_key: Path | None,
    client_ca: Path | None,
) -> None:
    """Serve the application on the configured database (HTTPS with --tls-cert)."""
    settings = settings_of(ctx)
    tls = _tls_files(tls_cert, tls_key, client_ca)
    require_schema(engine_for(settings))
    run_server(settings, host, port, tls)


def _tls_files(cert: Path | None, key: Path | None, client_ca: Path | None) -> TlsFiles | None:
    """The TLS options checked together: a certificate needs its key, a client CA
    needs TLS, and the files must load (a bad file stops with one line)."""
    if cert is None and key is None:
        if client_ca is not None:
            raise click.UsageError("--client-ca needs --tls-cert and --tls-key")
        return None
    if cert is None or key is None:
        raise click.UsageError("give --tls-cert and --tls-key together")
    from gbconnect.web.tls import server_context

    try:
        server_context(cert, key, client_ca)
    except (OSError, ValueError) as exc:  # ssl.SSLError is an OSError
        raise click.ClickException(f"cannot load the TLS files: {exc}") from None
    return TlsFiles(cert, key, client_ca)


@dataclass(frozen=True)
class TlsFiles:
    """``serve``'s TLS files (gbconnect.web.tls)."""

    cert: Path
    key: Path
    client_ca: Path | None


def run_server(settings: Settings, host: str, port: int, tls: TlsFiles | None = None) -> None:
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
        _run_uvicorn(app, settings, host, port, tls)
    finally:
        if worker is not None:
            worker.stop()


def _run_uvicorn(
    app: object, settings: Settings, host: str, port: int, tls: TlsFiles | None = None
) -> None:
    import uvicorn

    https: dict[str, Any] = {}
    if tls is not None:
        from gbconnect.web.tls import http_protocol, server_context

        # Our own context (TLS 1.2+, AEAD suites, optional client certificates) and
        # uvicorn's protocol telling the application the client certificate.
        https = {
            "ssl_certfile": str(tls.cert),
            "ssl_keyfile": str(tls.key),
            "ssl_context_factory": lambda config, default: server_context(
                tls.cert, tls.key, tls.client_ca
            ),
            "http": http_protocol(),
        }
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
        **https,
    )


@click.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True, type=click.IntRange(1, 65535))
@click.option("--customers", default=36, show_default=True, type=click.IntRange(1, 100_000))
@click.option("--days", default=396, show_default=True, type=click.IntRange(1, 3660))
@click.option("--no-sample", is_flag=True, help="Do not run the sample third party on PORT+1.")
@click.pass_context
def demo(
    ctx: click.Context, host: str, port: int, customers: int, days: int, no_sample: bool
) -> None:
    """Set up a demo database (schema + generated data, once) and serve it, with the
    sample third party on PORT+1."""
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
    guest = _demo_guest(engine)
    if guest is not None:
        click.echo(f"  guest access or a new online account: account {guest[0]}, phone {guest[1]}")
    tester = _demo_test_customer(engine, login)
    if tester is not None:
        click.echo(f"  test customer (third-party connectivity tests): {tester}")
    if not no_sample and port < 65535:
        from gbconnect.cli.sample import demo_sample, start_sample_server

        sample = demo_sample(settings, engine, host, port + 1)
        start_sample_server(sample, host, port + 1)
        click.echo(f"  sample third party (Sample Energy Insights): {sample.public_url}/")
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


def _demo_guest(engine: Engine) -> tuple[str, str] | None:
    """Give the demo's customers phones (+1 415 555 01xx), and name an account for
    guest access and for creating an online account: the first without a login (the
    demo customer when it is the only one). Its account number and phone."""
    from sqlalchemy import select

    from gbconnect.customer.models import CustomerAccount, RetailCustomer
    from gbconnect.db import make_sessionmaker

    with make_sessionmaker(engine)() as session:
        rows = session.execute(
            select(RetailCustomer, CustomerAccount.account_id)
            .join(CustomerAccount, CustomerAccount.retail_customer_id == RetailCustomer.id)
            .where(CustomerAccount.account_id.is_not(None))
            .order_by(RetailCustomer.username, CustomerAccount.id)
            .limit(100)
        ).all()
        if not rows:
            return None
        for i, (customer, _) in enumerate(rows):
            if customer.phone is None:
                customer.phone = f"+1415555{100 + i:04d}"
        session.commit()
        customer, account = next(((c, a) for c, a in rows if c.password_hash is None), rows[0])
        phone = customer.phone or ""
        if phone.startswith("+1") and len(phone) == 12:
            phone = f"({phone[2:5]}) {phone[5:8]}-{phone[8:]}"
        return str(account), phone


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
            # The last: the first without a login is the demo's guest account.
            .order_by(RetailCustomer.username.desc())
            .limit(1)
        ).first()
        if customer is None:
            return None
        customer.is_test = True
        session.commit()
        return customer.username
