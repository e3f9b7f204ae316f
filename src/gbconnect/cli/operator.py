"""Operator commands: third parties, customers, offline authorizations, admin tokens.

Every command takes ``--json`` so that utilities can script onboarding and tests can
set up state without a browser. Secrets are printed once, at creation.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

import click
from sqlalchemy import select
from sqlalchemy.orm import Session

from gbconnect.cli import _engine, _require_schema, _settings, main
from gbconnect.config import Settings
from gbconnect.customer import services as customers
from gbconnect.customer.models import RetailCustomer
from gbconnect.db import make_sessionmaker
from gbconnect.espi import scope as espi_scope
from gbconnect.oauth import models as om
from gbconnect.oauth import services as grants
from gbconnect.registration import models as rm
from gbconnect.registration import services as registry
from gbconnect.registration.errors import RegistrationError

JSON = click.option("--json", "as_json", is_flag=True, help="Print JSON.")


@contextmanager
def _session(ctx: click.Context) -> Iterator[tuple[Session, Settings]]:
    settings = _settings(ctx)
    engine = _engine(settings)
    _require_schema(engine)
    with make_sessionmaker(engine)() as session:
        try:
            yield session, settings
            session.commit()
        except (RegistrationError, grants.GrantError, customers.CustomerError) as exc:
            session.rollback()
            raise click.ClickException(str(exc)) from None
        except espi_scope.ScopeError as exc:
            session.rollback()
            raise click.ClickException(f"scope: {exc}") from None


def _out(as_json: bool, data: Any, text: str) -> None:
    click.echo(json.dumps(data, indent=2, sort_keys=True) if as_json else text)


def _app_or_fail(session: Session, key: str) -> rm.ApplicationInformation:
    app = registry.find_application(session, key)
    if app is None:
        raise click.ClickException(f"no third party with client id or id {key!r}")
    return app


def _app_data(app: rm.ApplicationInformation) -> dict[str, Any]:
    return {
        "application_information_id": app.id,
        "client_id": app.client_id,
        "name": app.client_name,
        "status": rm.STATUS_NAMES[app.data_custodian_status],
        "redirect_uris": app.redirect_uris,
        "notify_uri": app.notify_uri,
        "scopes": app.scopes,
        "bulk_id": app.bulk_id,
        "public": app.is_public,
    }


# -- third parties ----------------------------------------------------------------------


@main.group()
def thirdparty() -> None:
    """Register and manage third parties (ApplicationInformation)."""


@thirdparty.command("register")
@click.option("--name", required=True)
@click.option("--redirect-uri", "redirect_uris", multiple=True, required=True)
@click.option("--notify-uri")
@click.option("--scope", "scopes", multiple=True, help="ESPI scope (repeatable).")
@click.option("--public", is_flag=True, help="A public client: no secret, PKCE only.")
@click.option("--approve", is_flag=True, help="Straight to production.")
@JSON
@click.pass_context
def thirdparty_register(
    ctx: click.Context,
    name: str,
    redirect_uris: tuple[str, ...],
    notify_uri: str | None,
    scopes: tuple[str, ...],
    public: bool,
    approve: bool,
    as_json: bool,
) -> None:
    """Register a third party; prints its credentials once."""
    with _session(ctx) as (session, settings):
        done = registry.register(
            session,
            settings,
            name=name,
            redirect_uris=list(redirect_uris),
            notify_uri=notify_uri,
            scopes=list(scopes) or None,
            public=public,
            approve=approve,
        )
        data = _app_data(done.application)
        data["client_secret"] = done.client_secret
        data["registration_access_token"] = done.registration_access_token
    _out(
        as_json,
        data,
        "\n".join(f"{k}: {v}" for k, v in sorted(data.items()))
        + "\nThe secret and token are shown only now.",
    )


def _set_status(ctx: click.Context, key: str, status: int, as_json: bool) -> None:
    with _session(ctx) as (session, _):
        app = _app_or_fail(session, key)
        registry.set_status(session, app, status)
        data = _app_data(app)
    _out(as_json, data, f"{data['name']} ({data['client_id']}): {data['status']}")


@thirdparty.command("approve")
@click.argument("client_id")
@JSON
@click.pass_context
def thirdparty_approve(ctx: click.Context, client_id: str, as_json: bool) -> None:
    """Move a third party to production."""
    _set_status(ctx, client_id, rm.PRODUCTION, as_json)


@thirdparty.command("hold")
@click.argument("client_id")
@JSON
@click.pass_context
def thirdparty_hold(ctx: click.Context, client_id: str, as_json: bool) -> None:
    """Put a third party on hold: its access tokens stop working at once."""
    _set_status(ctx, client_id, rm.ON_HOLD, as_json)


@thirdparty.command("revoke")
@click.argument("client_id")
@JSON
@click.pass_context
def thirdparty_revoke(ctx: click.Context, client_id: str, as_json: bool) -> None:
    """Revoke a third party and every authorization it holds."""
    _set_status(ctx, client_id, rm.REVOKED, as_json)


@thirdparty.command("invite")
@click.option(
    "--lifetime",
    type=click.IntRange(60),
    default=7 * 86400,
    show_default=True,
    help="Seconds the invitation is valid.",
)
@JSON
@click.pass_context
def thirdparty_invite(ctx: click.Context, lifetime: int, as_json: bool) -> None:
    """Issue an initial access token for dynamic registration (RFC 7591, FB_36):
    the third party POSTs its metadata to /oauth/register with it, once."""
    with _session(ctx) as (session, settings):
        value, row = grants.issue_token(
            session,
            kind="access",
            token_class=om.INITIAL,
            application_id=None,
            authorization_id=None,
            scope="FB=36",
            lifetime=lifetime,
        )
        data = {
            "initial_access_token": value,
            "registration_endpoint": f"{settings.base_url.rstrip('/')}/oauth/register",
            "expires_at": row.expires_at,
        }
    _out(as_json, data, "\n".join(f"{k}: {v}" for k, v in data.items()))


@thirdparty.command("list")
@JSON
@click.pass_context
def thirdparty_list(ctx: click.Context, as_json: bool) -> None:
    """List third parties."""
    with _session(ctx) as (session, _):
        apps = [
            _app_data(a)
            for a in session.scalars(
                select(rm.ApplicationInformation).order_by(rm.ApplicationInformation.published)
            )
        ]
    _out(
        as_json,
        apps,
        "\n".join(f"{a['client_id']}  {a['status']:<10}  {a['name']}" for a in apps)
        or "no third parties",
    )


# -- customers ------------------------------------------------------------------------


@main.group()
def customer() -> None:
    """Customer logins."""


@customer.command("create")
@click.argument("username")
@click.option("--password", prompt=True, hide_input=True, confirmation_prompt=True)
@click.option("--name")
@click.option("--email")
@JSON
@click.pass_context
def customer_create(
    ctx: click.Context,
    username: str,
    password: str,
    name: str | None,
    email: str | None,
    as_json: bool,
) -> None:
    """Create a customer login (or set the password of an imported customer)."""
    with _session(ctx) as (session, _):
        c = customers.create_customer(session, username, password, name, email)
        data = {"retail_customer_id": c.id, "username": c.username, "name": c.name}
    _out(as_json, data, f"customer {data['username']} ({data['retail_customer_id']})")


@customer.command("list")
@JSON
@click.pass_context
def customer_list(ctx: click.Context, as_json: bool) -> None:
    """List customers and how many usage points each has."""
    with _session(ctx) as (session, _):
        rows: list[dict[str, Any]] = []
        for c in session.scalars(select(RetailCustomer).order_by(RetailCustomer.username)):
            ups = grants.customer_usage_points(session, c)
            rows.append(
                {
                    "retail_customer_id": c.id,
                    "username": c.username,
                    "name": c.name,
                    "can_log_in": c.password_hash is not None,
                    "usage_points": [u.id for u in ups],
                }
            )
    _out(
        as_json,
        rows,
        "\n".join(
            f"{r['username']:<24} {len(r['usage_points']):>3} usage points"
            f"{'' if r['can_log_in'] else '  (no login)'}"
            for r in rows
        )
        or "no customers",
    )


# -- authorizations -------------------------------------------------------------------


def _auth_data(auth: om.Authorization, settings: Settings) -> dict[str, Any]:
    base = f"{settings.base_url.rstrip('/')}{settings.resource_base}"
    data = {
        "authorization_id": auth.id,
        "authorizationURI": f"{base}/Authorization/{auth.id}",
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
        data["resourceURI"] = f"{base}/Batch/Subscription/{auth.subscription.id}"
    return data


@main.group()
def authorization() -> None:
    """Authorizations (grants of customer data to third parties)."""


@authorization.command("create")
@click.option("--client-id", required=True)
@click.option("--customer", "username", required=True)
@click.option(
    "--usage-point",
    "usage_points",
    multiple=True,
    type=int,
    help="Usage point id (repeatable; default: all of the customer's).",
)
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
    with _session(ctx) as (session, settings):
        app = _app_or_fail(session, client_id)
        c = customers.find_customer(session, username)
        if c is None:
            raise click.ClickException(f"no customer {username!r}")
        requested = espi_scope.parse(scope_text or app.scopes[0])
        if not any(requested.within(espi_scope.parse(s)) for s in app.scopes):
            raise click.ClickException("the scope is wider than the third party registered")
        ids = list(usage_points) or [u.id for u in grants.customer_usage_points(session, c)]
        end = None
        if end_date:
            try:
                day = datetime.strptime(end_date, "%Y-%m-%d").replace(tzinfo=UTC)
            except ValueError:
                raise click.ClickException("--end must be YYYY-MM-DD") from None
            end = int(day.timestamp()) + 86400
        auth = grants.grant_customer_authorization(
            session,
            settings,
            app,
            c,
            grants.GrantRequest(scope=requested, usage_point_ids=ids, end=end),
            offline=True,
        )
        data = _auth_data(auth, settings)
    _out(as_json, data, "\n".join(f"{k}: {v}" for k, v in sorted(data.items())))


@authorization.command("list")
@click.option("--client-id")
@click.option("--customer", "username")
@JSON
@click.pass_context
def authorization_list(
    ctx: click.Context, client_id: str | None, username: str | None, as_json: bool
) -> None:
    """List authorizations."""
    with _session(ctx) as (session, settings):
        app_id = _app_or_fail(session, client_id).id if client_id else None
        customer_id = None
        if username:
            c = customers.find_customer(session, username)
            if c is None:
                raise click.ClickException(f"no customer {username!r}")
            customer_id = c.id
        rows = [
            _auth_data(a, settings) for a in grants.authorizations_of(session, app_id, customer_id)
        ]
    _out(
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
    with _session(ctx) as (session, settings):
        auth = session.get(om.Authorization, authorization_id)
        if auth is None:
            raise click.ClickException(f"no authorization {authorization_id}")
        if auth.status == om.ACTIVE:
            grants.revoke_authorization(session, auth, "data custodian")
        data = _auth_data(auth, settings)
    _out(as_json, data, f"authorization {authorization_id}: {data['status']}")


# -- data custodian tokens --------------------------------------------------------------


@main.command("token")
@click.argument("kind", type=click.Choice(["admin", "upload"]))
@click.option("--lifetime", type=click.IntRange(60), help="Seconds (default: until revoked).")
@JSON
@click.pass_context
def token(ctx: click.Context, kind: str, lifetime: int | None, as_json: bool) -> None:
    """Issue a data custodian admin (DC) or upload (U) token; printed once."""
    with _session(ctx) as (session, _):
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
    _out(as_json, data, value)


# -- Download My Data ----------------------------------------------------------------------


def _day_start(text: str | None, option: str) -> int | None:
    if not text:
        return None
    try:
        return int(datetime.strptime(text, "%Y-%m-%d").replace(tzinfo=UTC).timestamp())
    except ValueError:
        raise click.ClickException(f"{option} must be YYYY-MM-DD") from None


@main.command("export")
@click.option("--customer", "username", required=True)
@click.option(
    "--usage-point",
    "usage_points",
    multiple=True,
    type=int,
    help="Usage point id (repeatable; default: all of the customer's).",
)
@click.option("--from", "date_from", help="First day (YYYY-MM-DD, UTC).")
@click.option("--to", "date_to", help="Day after the last (YYYY-MM-DD, UTC).")
@click.option(
    "--format", "fmt", type=click.Choice(["xml", "csv"]), default="xml", show_default=True
)
@click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False, writable=True),
    help="File to write (default: standard output).",
)
@click.pass_context
def export(
    ctx: click.Context,
    username: str,
    usage_points: tuple[int, ...],
    date_from: str | None,
    date_to: str | None,
    fmt: str,
    output: str | None,
) -> None:
    """Download My Data: a customer's usage as ESPI XML or gbconnect CSV (docs/csv.md)."""
    from gbconnect.api.export import ExportError, export_csv, export_xml, usage_point_ids

    lo, hi = _day_start(date_from, "--from"), _day_start(date_to, "--to")
    if lo is not None and hi is not None and hi <= lo:
        raise click.ClickException("--to must be after --from")
    with _session(ctx) as (session, settings):
        c = customers.find_customer(session, username)
        if c is None:
            raise click.ClickException(f"no customer {username!r}")
        try:
            ids = usage_point_ids(session, c.id, usage_points)
        except ExportError as exc:
            raise click.ClickException(str(exc)) from None
        pieces = (
            export_xml(session, settings, c.id, ids, lo, hi)
            if fmt == "xml"
            else export_csv(session, c.id, ids, lo, hi)
        )
        stream = click.open_file(output or "-", "w", encoding="utf-8", atomic=bool(output))
        with stream:
            for piece in pieces:
                stream.write(piece)


# -- validation ---------------------------------------------------------------------------


@main.command("validate")
@click.argument("files", nargs=-1, required=True, type=click.Path(exists=True, dir_okay=False))
@click.option(
    "--schemas",
    "schema_dir",
    type=click.Path(exists=True, file_okay=False),
    help="Folder with atom.xsd, espi.xsd (and customer.xsd); default GBCONNECT_SCHEMA_DIR.",
)
@JSON
@click.pass_context
def validate(
    ctx: click.Context, files: tuple[str, ...], schema_dir: str | None, as_json: bool
) -> None:
    """Check Green Button files against the ESPI schemas and the data rules of FB_1, 4,
    5, 8, 10, 12, 15 and 16; exits 1 when a file has an error."""
    from pathlib import Path

    from gbconnect.espi.validate import SchemaSet, validate_file

    folder = schema_dir or (str(_settings(ctx).schema_dir) if _settings(ctx).schema_dir else None)
    if folder is None:
        raise click.ClickException("give --schemas DIR (or set GBCONNECT_SCHEMA_DIR)")
    try:
        schemas = SchemaSet(Path(folder))
    except (FileNotFoundError, OSError) as exc:
        raise click.ClickException(str(exc)) from None
    errors = 0
    report: dict[str, list[dict[str, object]]] = {}
    for name in files:
        findings = validate_file(Path(name), schemas)
        errors += sum(not f.warning for f in findings)
        report[name] = [
            {"rule": f.rule, "line": f.line, "message": f.message, "warning": f.warning}
            for f in findings
        ]
        if not as_json:
            for f in findings:
                click.echo(f.render(name))
            n_err = sum(not f.warning for f in findings)
            n_warn = len(findings) - n_err
            click.echo(
                f"{name}: {'valid' if not n_err else 'invalid'} "
                f"({n_err} error(s), {n_warn} warning(s))"
            )
    if schemas.codes is None and not as_json:
        click.echo("note: code-tables.json not found beside the schemas; codes were not checked")
    if as_json:
        click.echo(json.dumps(report, indent=2))
    if errors:
        ctx.exit(1)
