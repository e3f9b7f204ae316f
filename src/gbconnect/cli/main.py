"""The ``gbconnect`` command group: its options and its commands, one module per group
(:mod:`~gbconnect.cli.serve`, :mod:`~gbconnect.cli.data`,
:mod:`~gbconnect.cli.thirdparty`, :mod:`~gbconnect.cli.customer`,
:mod:`~gbconnect.cli.authorization`, :mod:`~gbconnect.cli.token`,
:mod:`~gbconnect.cli.worker` ...).

A command's module is imported only when that command runs (Click's lazy group
pattern): ``gbconnect --version`` and ``gbconnect --help`` import Click and nothing
of the service. :data:`COMMANDS` therefore names each command's module and repeats its
one-line help, which a test keeps equal to the command's own.
"""

from __future__ import annotations

import importlib
from typing import Any

import click

#: name -> ("module:attribute", the command's short help as ``--help`` lists it).
COMMANDS: dict[str, tuple[str, str]] = {
    "audit": ("audit:audit", "The audit log: who did what, when and from where."),
    "authorization": (
        "authorization:authorization",
        "Authorizations (grants of customer data to third parties).",
    ),
    "ca": (
        "certificates:ca",
        "The utility's own certificate authority, which signs third parties' requests.",
    ),
    "conformance": (
        "conformance:conformance",
        "Run the GBA Connect My Data test cases (FND, OAD, RBK, QRY, PSH, OFA, MGA, MGT, TC)"
        " against a Data Custodian; one line per case, a JSON and an HTML report.",
    ),
    "customer": ("customer:customer", "Customer logins."),
    "docs": ("docs:docs", "The developer guide (docs/developers) served at /developers/."),
    "demo": (
        "serve:demo",
        "Set up a demo database (schema + generated data, once) and serve it, with the sample"
        " third party on PORT+1.",
    ),
    "export": (
        "data:export",
        "Download My Data: a customer's usage as ESPI XML or gbconnect CSV (docs/csv.md).",
    ),
    "generate": ("data:generate", "Generate seeded, realistic synthetic customers and their data."),
    "ingest": (
        "data:ingest",
        "Import ESPI XML and CSV files (folders are searched); each file whole or not at all.",
    ),
    "init": ("serve:init", "Create or upgrade the schema of the configured database."),
    "notify": (
        "notify:notify",
        "Notifications to third parties (REQ.21 FB_39): what waits, what failed.",
    ),
    "sample-thirdparty": (
        "sample:sample_thirdparty",
        "Run the sample third-party app: connect your utility, usage insights,"
        " notifications (Green Button Connect My Data, the third party's side).",
    ),
    "serve": (
        "serve:serve",
        "Serve the application on the configured database (HTTPS with --tls-cert).",
    ),
    "staff": (
        "staff:staff",
        "Staff accounts of the utility's console (viewer, operator, administrator).",
    ),
    "thirdparty": (
        "thirdparty:thirdparty",
        "Register and manage third parties (ApplicationInformation).",
    ),
    "token": (
        "token:token",
        "Issue a data custodian admin (DC) or upload (U) token; printed once.",
    ),
    "validate": (
        "data:validate",
        "Check Green Button files against the ESPI schemas and the data rules of FB_1, 4,"
        " 5, 8, 10, 12, 15 and 16; exits 1 when a file has an error.",
    ),
    "worker": (
        "worker:worker",
        "Deliver notifications to third parties until stopped (SIGTERM or Ctrl-C).",
    ),
}

#: Sub-commands that live in another module than their group's.
EXTENSIONS: dict[str, tuple[str, ...]] = {"thirdparty": ("certificates:cert",)}


def load(target: str) -> Any:
    """The object ``"module:attribute"`` names, ``module`` under ``gbconnect.cli``."""
    module, _, attribute = target.partition(":")
    return getattr(importlib.import_module(f"gbconnect.cli.{module}"), attribute)


class LazyGroup(click.Group):
    """A group whose commands are imported when they are run, not when it is built."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*super().list_commands(ctx), *COMMANDS})

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name not in COMMANDS:
            return super().get_command(ctx, cmd_name)
        command: click.Command = load(COMMANDS[cmd_name][0])
        if isinstance(command, click.Group):
            for extension in EXTENSIONS.get(cmd_name, ()):
                sub: click.Command = load(extension)
                command.add_command(sub)
        return command

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        """The command list from :data:`COMMANDS`, without importing any of them."""
        names = self.list_commands(ctx)
        if not names:
            return
        limit = formatter.width - 6 - max(len(name) for name in names)
        rows = []
        for name in names:
            if name in COMMANDS:
                stand_in = click.Command(name, help=COMMANDS[name][1])
                text = stand_in.get_short_help_str(limit)
            else:
                command = super().get_command(ctx, name)
                text = command.get_short_help_str(limit) if command else ""
            rows.append((name, text))
        with formatter.section("Commands"):
            formatter.write_dl(rows)


@click.group(cls=LazyGroup)
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


__all__ = ["COMMANDS", "main"]
