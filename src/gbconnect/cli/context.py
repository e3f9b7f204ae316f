"""What every ``gbconnect`` command shares: the settings, the database and the output.

Settings come from the environment (``GBCONNECT_*``) with the group's options on top;
a bad setting, an unreachable database or an out-of-date schema ends the command
with one line, never a traceback.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import click
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from gbconnect.config import ConfigError, Settings, load_settings
from gbconnect.customer.services import CustomerError
from gbconnect.errors import GbconnectError
from gbconnect.espi.scope import ScopeError

JSON = click.option("--json", "as_json", is_flag=True, help="Print JSON.")
"""The ``--json`` option every operator command takes."""

USAGE_POINTS = click.option(
    "--usage-point",
    "usage_points",
    multiple=True,
    type=int,
    help="Usage point id (repeatable; default: all of the customer's).",
)
"""The usage points a command is about (``authorization create``, ``export``)."""


def settings_of(ctx: click.Context) -> Settings:
    """The command's settings (loaded once per invocation)."""
    settings = ctx.obj.get("settings") if ctx.obj else None
    if settings is None:
        try:
            settings = load_settings(**(ctx.obj or {}).get("overrides", {}))
        except ConfigError as exc:
            raise click.ClickException(str(exc)) from None
        ctx.obj["settings"] = settings
    return settings


def engine_for(settings: Settings) -> Engine:
    """An engine for the command; disposed when the command ends (no leaked connections)."""
    from gbconnect.db import make_engine

    engine = make_engine(settings.sqlalchemy_url)
    click.get_current_context().call_on_close(engine.dispose)
    return engine


def require_schema(engine: Engine) -> None:
    """Stop unless the database answers and its schema is current."""
    from gbconnect.db import current_revision, head_revision

    try:
        current = current_revision(engine)
    except Exception as exc:
        raise click.ClickException(
            f"cannot reach the database: {exc.__class__.__name__}: {str(exc).splitlines()[0]}"
        ) from None
    if current != head_revision(engine):
        raise click.ClickException("the database schema is not current: run `gbconnect init` first")


@contextmanager
def database_session(ctx: click.Context) -> Iterator[tuple[Session, Settings]]:
    """A session on a current schema, committed when the block ends; an input error
    (a refused registration, grant, customer or scope) rolls back and ends the command
    with its message."""
    from gbconnect.db import make_sessionmaker

    settings = settings_of(ctx)
    engine = engine_for(settings)
    require_schema(engine)
    with make_sessionmaker(engine)() as session:
        try:
            yield session, settings
            session.commit()
        except ScopeError as exc:
            session.rollback()
            raise click.ClickException(f"scope: {exc}") from None
        except (GbconnectError, CustomerError) as exc:
            session.rollback()
            raise click.ClickException(str(exc)) from None


def out(as_json: bool, data: Any, text: str) -> None:
    """``data`` as JSON with ``--json``, else ``text``."""
    click.echo(json.dumps(data, indent=2, sort_keys=True) if as_json else text)


__all__ = [
    "JSON",
    "USAGE_POINTS",
    "database_session",
    "engine_for",
    "out",
    "require_schema",
    "settings_of",
]
