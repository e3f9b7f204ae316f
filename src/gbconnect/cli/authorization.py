"""``gbconnect authorization ...``: grants of customer data to third parties (REQ.21
Authorization, FB_3; offline authorizations, FB_40)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import click

from gbconnect.cli.context import JSON, USAGE_POINTS, database_session, out
from gbconnect.cli.thirdparty import app_or_fail
from gbconnect.config import Settings
from gbconnect.customer import services as customers
from gbconnect.espi import scope as espi_scope
from gbconnect.oauth import models as om
from gbconnect.oauth import revocation
from gbconnect.oauth import services as grants
from gbconnect.portal.consent import end_of_day
from gbconnect.usage.points import customer_usage_point_ids


def _auth_data(auth: om.Authorization, settings: Settings) -> dict[str, Any]:
    data = {
        "authorization_id": auth.id,
        "authorizationURI": settings.resource_url(f"Authorization/{auth.id}"),
        "client_id": auth.application.client_id,
        "retail_customer_id": auth.retail_customer_id,
        "status": {0: "revoked", 1: "active", 2: "denied"}[auth.status],
        "scope": auth.scope,
        "offline": auth.offline,
        "authorized_start": auth.authorized_start,
        "authorized_end": auth.authorized_end,
    }
    if auth.subscription is not None:
        data["subscription_id"] = auth.subscription.id
        data["resourceURI"] = settings.resource_url(f"Batch/Subscription/{auth.subscription.id}")
    return data


def _customer_id(session: Any, username: str) -> int:
    c = customers.find_customer(session, username)
    if c is None:
        raise click.ClickException(f"no customer {username!r}")
    return c.id


@click.group()
def authorization() -> None:
    """Authorizations (grants of customer data to third parties)."""


@authorization.command("create")
@click.option("--client-id", required=True)
@click.option("--customer", "username", required=True)
@USAGE_POINTS
@click.option("--scope", "scope_text", help="Scope (default: the third party's first).")
@click.option("--end", "end_date", help="Last day (YYYY-MM-DD); default: until revoked.")
@JSON
@click.pass_context
def authorization_create(
    ctx: click.Context,
    client_id: str,
    username: str,
    usage_points: tuple[int, ...],
    scope_text: str | None,
    end_date: str | None,
    as_json: bool,
) -> None:
    """Record an offline (paper) authorization (REQ.21 FB_40)."""
    with database_session(ctx) as (session, settings):
        app = app_or_fail(session, client_id)
        c = customers.find_customer(session, username)
        if c is None:
            raise click.ClickException(f"no customer {username!r}")
        requested = espi_scope.parse(scope_text or app.scopes[0])
        if not any(requested.within(espi_scope.parse(s)) for s in app.scopes):
            raise click.ClickException("the scope is wider than the third party registered")
        ids = list(usage_points) or customer_usage_point_ids(session, c.id)
        end = None
        if end_date:
            try:
                day = datetime.strptime(end_date, "%Y-%m-%d").date()
            except ValueError:
                raise click.ClickException("--end must be YYYY-MM-DD") from None
            # All of the last day, in the utility's zone, as the consent page stores it.
            end = end_of_day(day, settings.zone)
        auth = grants.grant_customer_authorization(
            session,
            settings,
            app,
            c,
            grants.GrantRequest(scope=requested, usage_point_ids=ids, end=end),
            offline=True,
        )
        data = _auth_data(auth, settings)
    out(as_json, data, "\n".join(f"{k}: {v}" for k, v in sorted(data.items())))


@authorization.command("list")
@click.option("--client-id")
@click.option("--customer", "username")
@JSON
@click.pass_context
def authorization_list(
    ctx: click.Context, client_id: str | None, username: str | None, as_json: bool
) -> None:
    """List authorizations."""
    with database_session(ctx) as (session, settings):
        app_id = app_or_fail(session, client_id).id if client_id else None
        customer_id = _customer_id(session, username) if username else None
        rows = [
            _auth_data(a, settings) for a in grants.authorizations_of(session, app_id, customer_id)
        ]
    out(
        as_json,
        rows,
        "\n".join(
            f"{r['authorization_id']}  {r['status']:<8} {r['client_id']}  {r['scope']}"
            for r in rows
        )
        or "no authorizations",
    )


@authorization.command("revoke")
@click.argument("authorization_id", type=int)
@JSON
@click.pass_context
def authorization_revoke(ctx: click.Context, authorization_id: int, as_json: bool) -> None:
    """Revoke an authorization at once (its tokens stop working)."""
    with database_session(ctx) as (session, settings):
        auth = session.get(om.Authorization, authorization_id)
        if auth is None:
            raise click.ClickException(f"no authorization {authorization_id}")
        revocation.revoke_authorization(session, auth, "data custodian")
        data = _auth_data(auth, settings)
    out(as_json, data, f"authorization {authorization_id}: {data['status']}")
