"""``gbconnect token admin|upload``: data custodian tokens (STANDARD.md section 1:
DC, the utility's admin token; U, the upload token)."""

from __future__ import annotations

import click

from gbconnect.cli.context import JSON, database_session, out
from gbconnect.oauth import models as om
from gbconnect.oauth import services as grants


@click.command("token")
@click.argument("kind", type=click.Choice(["admin", "upload"]))
@click.option("--lifetime", type=click.IntRange(60), help="Seconds (default: until revoked).")
@JSON
@click.pass_context
def token(ctx: click.Context, kind: str, lifetime: int | None, as_json: bool) -> None:
    """Issue a data custodian admin (DC) or upload (U) token; printed once."""
    with database_session(ctx) as (session, _):
        value, row = grants.issue_token(
            session,
            kind="access",
            token_class=om.ADMIN if kind == "admin" else om.UPLOAD,
            application_id=None,
            authorization_id=None,
            scope="FB=1_3_4_5_33" if kind == "admin" else "FB=33",
            lifetime=lifetime,
        )
        data = {"access_token": value, "token_class": row.token_class, "expires_at": row.expires_at}
    out(as_json, data, value)
