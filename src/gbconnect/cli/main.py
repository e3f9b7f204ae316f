"""The ``gbconnect`` command group: its options and its commands, one module per group
(:mod:`~gbconnect.cli.serve`, :mod:`~gbconnect.cli.data`,
:mod:`~gbconnect.cli.thirdparty`, :mod:`~gbconnect.cli.customer`,
:mod:`~gbconnect.cli.authorization`, :mod:`~gbconnect.cli.token`,
:mod:`~gbconnect.cli.worker`)."""

from __future__ import annotations

from typing import Any

import click

from gbconnect.cli import (
    audit,
    authorization,
    certificates,
    customer,
    data,
    serve,
    staff,
    thirdparty,
    token,
    worker,
)
from gbconnect.cli.notify import notify
from gbconnect.cli.sample import sample_thirdparty


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


for _module in (
    serve,
    data,
    thirdparty,
    customer,
    authorization,
    token,
    worker,
    audit,
    certificates,
    staff,
):
    for _command in _module.COMMANDS:
        main.add_command(_command)
main.add_command(notify)
main.add_command(sample_thirdparty)
thirdparty.thirdparty.add_command(certificates.cert)


__all__ = ["main"]
