"""``gbconnect staff ...``: the console's staff accounts (gbconnect.console.staff).

The first administrator is made here; administrators then manage staff in the console
too. Every change is written to the audit log (actor: the operator at the command
line)."""

from __future__ import annotations

from datetime import UTC, datetime

import click

from gbconnect.audit import Actor, record
from gbconnect.cli.context import JSON, database_session, out
from gbconnect.console import staff as services
from gbconnect.console.models import ROLES, StaffUser


def _data(s: StaffUser) -> dict[str, object]:
    return {
        "email": s.email,
        "name": s.name,
        "role": s.role,
        "second_factor": bool(s.totp_secret),
        "created_at": datetime.fromtimestamp(s.created_at, UTC).isoformat(timespec="seconds"),
        "disabled": s.disabled_at is not None,
    }


@click.group()
def staff() -> None:
    """Staff accounts of the utility's console (viewer, operator, administrator)."""


@staff.command("create")
@click.argument("email")
@click.option("--name", required=True, help="The person's name.")
@click.option("--role", type=click.Choice(ROLES), required=True)
@click.option(
    "--password",
    prompt=True,
    hide_input=True,
    confirmation_prompt=True,
    help="The password (asked for when omitted; at least 10 characters).",
)
@JSON
@click.pass_context
def staff_create(
    ctx: click.Context, email: str, name: str, role: str, password: str, as_json: bool
) -> None:
    """Create a staff account."""
    with database_session(ctx) as (session, _settings):
        s = services.create_staff(session, email, name, role, password)
        record(
            session,
            "staff.created",
            Actor.operator(),
            ("staff", s.id),
            {"email": s.email, "role": role},
        )
        data = _data(s)
    out(as_json, data, f"created {data['email']} ({role})")


@staff.command("list")
@JSON
@click.pass_context
def staff_list(ctx: click.Context, as_json: bool) -> None:
    """List staff accounts."""
    with database_session(ctx) as (session, _settings):
        rows = [_data(s) for s in services.list_staff(session)]
    out(
        as_json,
        rows,
        "\n".join(
            f"{r['email']:<32} {r['role']:<14} {'disabled' if r['disabled'] else 'active':<9}"
            f" {r['name']}"
            for r in rows
        )
        or "no staff accounts",
    )


@staff.command("disable")
@click.argument("email")
@JSON
@click.pass_context
def staff_disable(ctx: click.Context, email: str, as_json: bool) -> None:
    """Disable a staff account (it cannot sign in; its sessions end)."""
    with database_session(ctx) as (session, _settings):
        s = services.find_staff(session, email)
        if s is None:
            raise click.ClickException(f"no staff account {email!r}")
        if services.disable_staff(session, s):
            record(session, "staff.disabled", Actor.operator(), ("staff", s.id), {"email": s.email})
        data = _data(s)
    out(as_json, data, f"disabled {data['email']}")
