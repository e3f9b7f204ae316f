"""``gbconnect customer ...``: customer logins."""

from __future__ import annotations

from typing import Any

import click
from sqlalchemy import select

from gbconnect.cli.context import JSON, database_session, out
from gbconnect.customer import services as customers
from gbconnect.customer.models import RetailCustomer
from gbconnect.customer.phones import PhoneError, normalize_phone
from gbconnect.usage.points import customer_usage_point_ids


@click.group()
def customer() -> None:
    """Customer logins."""


@customer.command("create")
@click.argument("username")
@click.option("--password", prompt=True, hide_input=True, confirmation_prompt=True)
@click.option("--name")
@click.option("--email")
@click.option(
    "--phone",
    help="The phone on the account (guest access and text-message codes go to it), "
    "like '(415) 555-0123' or '+66 81 234 5678'.",
)
@click.option(
    "--test/--no-test",
    "is_test",
    default=None,
    help="A test account (may authorize third parties not approved yet), or a real one "
    "again; unchanged when not given.",
)
@JSON
@click.pass_context
def customer_create(
    ctx: click.Context,
    username: str,
    password: str,
    name: str | None,
    email: str | None,
    is_test: bool | None,
    as_json: bool,
    phone: str | None = None,
) -> None:
    """Create a customer login (or set the password of an imported customer).
    ``--test`` makes it a test account, the only kind that may authorize a third party
    the utility has not approved yet (PG&E's connectivity test)."""
    if phone is not None:
        try:
            phone = normalize_phone(phone)
        except PhoneError as exc:
            raise click.BadParameter(str(exc), param_hint="--phone") from None
    with database_session(ctx) as (session, _):
        c = customers.create_customer(session, username, password, name, email, is_test=is_test)
        if phone is not None:
            c.phone = phone
        data = {
            "retail_customer_id": c.id,
            "username": c.username,
            "name": c.name,
            "test": c.is_test,
        }
    kind = " (test account)" if data["test"] else ""
    out(as_json, data, f"customer {data['username']} ({data['retail_customer_id']}){kind}")


@customer.command("list")
@JSON
@click.pass_context
def customer_list(ctx: click.Context, as_json: bool) -> None:
    """List customers and how many usage points each has."""
    with database_session(ctx) as (session, _):
        rows: list[dict[str, Any]] = [
            {
                "retail_customer_id": c.id,
                "username": c.username,
                "name": c.name,
                "can_log_in": c.password_hash is not None,
                "test": c.is_test,
                "usage_points": customer_usage_point_ids(session, c.id),
            }
            for c in session.scalars(select(RetailCustomer).order_by(RetailCustomer.username))
        ]
    out(
        as_json,
        rows,
        "\n".join(
            f"{r['username']:<24} {len(r['usage_points']):>3} usage points"
            f"{'' if r['can_log_in'] else '  (no login)'}"
            f"{'  (test account)' if r['test'] else ''}"
            for r in rows
        )
        or "no customers",
    )
