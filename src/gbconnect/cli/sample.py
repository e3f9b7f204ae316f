"""``gbconnect sample-thirdparty``: the sample third-party web app
(:mod:`gbconnect.sample_thirdparty`) against any Data Custodian."""

from __future__ import annotations

import tempfile
import threading
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

import click

if TYPE_CHECKING:
    from sqlalchemy import Engine

    from gbconnect.config import Settings
    from gbconnect.sample_thirdparty.config import SampleConfig

#: The demo's sample third party (``gbconnect demo``).
DEMO_NAME = "Sample Energy Insights"
DEMO_DESCRIPTION = "Shows your baseload, evening peak and solar export (gbconnect's sample app)."


def _url(value: str, option: str) -> str:
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise click.BadParameter(f"{value!r} is not an http(s) URL", param_hint=option)
    return value.rstrip("/")


@click.command("sample-thirdparty")
@click.option("--data-custodian", required=True, help="The utility's base URL.")
@click.option("--client-id", required=True, help="This app's client id at the utility.")
@click.option(
    "--client-secret",
    envvar="GBCONNECT_SAMPLE_CLIENT_SECRET",
    help="Its client secret (or GBCONNECT_SAMPLE_CLIENT_SECRET); none for a public client.",
)
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8001, show_default=True, type=click.IntRange(1, 65535))
@click.option(
    "--public-url",
    help="Where browsers and the utility reach this app (default http://HOST:PORT); "
    "the redirect URI is PUBLIC_URL/callback, the notify URI PUBLIC_URL/notify, the "
    "portal URI PUBLIC_URL/start.",
)
@click.option(
    "--notify-secret",
    envvar="GBCONNECT_SAMPLE_NOTIFY_SECRET",
    help="The key notifications are signed with (gbconnect: `gbconnect notify secret "
    "CLIENT_ID`); without it notifications are not checked.",
)
@click.option("--scope", help="The ESPI scope to ask for (default: the utility's first).")
@click.option(
    "--ca-file",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="Trust the utility's certificate from this PEM CA file (default: the system's).",
)
@click.option(
    "--cert",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="Client certificate (PEM, with its key unless --key) for a utility that asks "
    "for mutual TLS (RFC 8705).",
)
@click.option(
    "--key",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="The client certificate's PEM private key.",
)
@click.option(
    "--data-dir",
    type=click.Path(file_okay=False, path_type=Path),
    help="Where the app keeps its SQLite file (default: a new temporary directory).",
)
def sample_thirdparty(
    data_custodian: str,
    client_id: str,
    client_secret: str | None,
    host: str,
    port: int,
    public_url: str | None,
    notify_secret: str | None,
    scope: str | None,
    ca_file: Path | None,
    cert: Path | None,
    key: Path | None,
    data_dir: Path | None,
) -> None:
    """Run the sample third-party app: connect your utility, usage insights,
    notifications (Green Button Connect My Data, the third party's side)."""
    import uvicorn

    from gbconnect.client.http import tls_context
    from gbconnect.sample_thirdparty.config import SampleConfig
    from gbconnect.sample_thirdparty.views import make_app

    if key is not None and cert is None:
        raise click.UsageError("--key needs --cert")
    client_cert = None if cert is None else str(cert) if key is None else (str(cert), str(key))
    config = SampleConfig(
        data_custodian=_url(data_custodian, "--data-custodian"),
        client_id=client_id,
        client_secret=client_secret or None,
        public_url=_url(public_url or f"http://{host}:{port}", "--public-url"),
        data_dir=data_dir or Path(tempfile.mkdtemp(prefix="gbconnect-sample-")),
        notify_secret=notify_secret or None,
        scope=scope or None,
        verify=True if ca_file is None else str(ca_file),
        cert=client_cert,
    )
    try:
        tls_context(config.cert, config.verify)  # the files load, or stop in one line
    except (OSError, ValueError) as exc:  # ssl.SSLError is an OSError
        raise click.ClickException(f"cannot load the TLS files: {exc}") from None
    app = make_app(config)
    click.echo(f"sample third party on {config.public_url}/ (data in {config.data_dir})")
    uvicorn.run(app, host=host, port=port, log_level="warning", loop="asyncio")


def demo_sample(settings: Settings, engine: Engine, host: str, port: int) -> SampleConfig:
    """Register the demo's sample third party once (the services ``gbconnect
    thirdparty register --approve`` uses), approved for production with the sample
    app's redirect, notify and portal URIs on ``port``; on a later run the same
    registration gets a fresh client secret (only its hash is stored) and the URIs of
    this run. Returns the sample app's configuration."""
    from sqlalchemy import select

    from gbconnect.db import make_sessionmaker
    from gbconnect.oauth import clients
    from gbconnect.oauth.secrets import digest, new_secret
    from gbconnect.registration import models as rm
    from gbconnect.registration import signing_keys
    from gbconnect.sample_thirdparty.config import SampleConfig

    public = f"http://{'127.0.0.1' if host in ('0.0.0.0', '::') else host}:{port}"
    redirect = f"{public}/callback"
    with make_sessionmaker(engine)() as session, session.begin():
        app = session.scalars(
            select(rm.ApplicationInformation)
            .where(rm.ApplicationInformation.client_name == DEMO_NAME)
            .order_by(rm.ApplicationInformation.id)
            .limit(1)
        ).first()
        if app is None:
            done = clients.register(
                session,
                settings,
                name=DEMO_NAME,
                approve=True,
                description=DEMO_DESCRIPTION,
                redirect_uris=[redirect],
                notify_uri=f"{public}/notify",
                portal_uri=f"{public}/start",
            )
            app, secret = done.application, done.client_secret
        else:
            secret = new_secret()
            app.client_secret_hash = digest(secret)
            app.redirect_uris = [redirect]
            app.notify_uri = f"{public}/notify"
            app.portal_uri = f"{public}/start"
        notify_secret = signing_keys.ensure_key(app)
        client_id = app.client_id
    return SampleConfig(
        data_custodian=settings.base_url.rstrip("/"),
        client_id=client_id,
        client_secret=secret,
        public_url=public,
        data_dir=Path(tempfile.mkdtemp(prefix="gbconnect-sample-")),
        notify_secret=notify_secret,
    )


def start_sample_server(config: SampleConfig, host: str, port: int) -> threading.Thread:
    """The sample app served by a second uvicorn server in a daemon thread (uvicorn
    installs signal handlers only in the main thread, so the main server's Ctrl-C
    ends the process and this thread with it)."""
    import uvicorn

    from gbconnect.sample_thirdparty.views import make_app

    server = uvicorn.Server(
        uvicorn.Config(make_app(config), host=host, port=port, log_level="warning", loop="asyncio")
    )
    thread = threading.Thread(target=server.run, name="sample-thirdparty", daemon=True)
    thread.start()
    return thread


COMMANDS = (sample_thirdparty,)
