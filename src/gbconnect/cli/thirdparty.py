"""``gbconnect thirdparty ...``: register and manage third parties (REQ.21
ApplicationInformation, FB_36; STANDARD.md section 4).

Every command takes ``--json`` so that utilities can script onboarding and tests can
set up state without a browser. Secrets are printed once, at creation.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click
from sqlalchemy import select
from sqlalchemy.orm import Session

from gbconnect.audit import Actor
from gbconnect.cli.context import JSON, database_session, out
from gbconnect.oauth import clients
from gbconnect.oauth import models as om
from gbconnect.oauth import services as grants
from gbconnect.registration import logos
from gbconnect.registration import models as rm
from gbconnect.registration import services as registry


def app_or_fail(session: Session, key: str) -> rm.ApplicationInformation:
    """The third party with client id (or ApplicationInformation id) ``key``, or stop."""
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
        "description": app.description,
        "portal_uri": app.portal_uri,
        "logo_uri": app.logo_uri,
    }


@click.group()
def thirdparty() -> None:
    """Register and manage third parties (ApplicationInformation)."""


@thirdparty.command("register")
@click.option("--name", required=True)
@click.option("--redirect-uri", "redirect_uris", multiple=True, required=True)
@click.option("--notify-uri")
@click.option("--scope", "scopes", multiple=True, help="ESPI scope (repeatable).")
@click.option("--public", is_flag=True, help="A public client: no secret, PKCE only.")
@click.option("--approve", is_flag=True, help="Straight to production.")
@click.option("--description", help="What the application does (customers read it; 256 max).")
@click.option("--website", "client_uri", help="The company's website (client_uri).")
@click.option("--privacy-policy", "policy_uri", help="Its privacy policy (policy_uri).")
@click.option("--terms", "tos_uri", help="Its terms of service (tos_uri).")
@click.option("--logo-uri", help="Where its logo is; the worker copies it here.")
@click.option(
    "--portal-uri",
    help="thirdPartyUserPortalScreenURI: where a customer sharing from the utility's "
    "list is sent (without it the company is not in the list).",
)
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
    description: str | None,
    client_uri: str | None,
    policy_uri: str | None,
    tos_uri: str | None,
    logo_uri: str | None,
    portal_uri: str | None,
) -> None:
    """Register a third party; prints its credentials once."""
    metadata = {
        "description": description,
        "client_uri": client_uri,
        "policy_uri": policy_uri,
        "tos_uri": tos_uri,
        "logo_uri": logo_uri,
        "portal_uri": portal_uri,
    }
    with database_session(ctx) as (session, settings):
        for key in ("client_uri", "policy_uri", "tos_uri", "logo_uri", "portal_uri"):
            if metadata.get(key):
                registry.check_redirect_uri(str(metadata[key]), settings)
        done = clients.register(
            session,
            settings,
            name=name,
            redirect_uris=list(redirect_uris),
            notify_uri=notify_uri,
            scopes=list(scopes) or None,
            public=public,
            approve=approve,
            description=description,
            client_uri=client_uri,
            policy_uri=policy_uri,
            tos_uri=tos_uri,
            logo_uri=logo_uri,
            portal_uri=portal_uri,
        )
        data = _app_data(done.application)
        data["client_secret"] = done.client_secret
        data["registration_access_token"] = done.registration_access_token
    out(
        as_json,
        data,
        "\n".join(f"{k}: {v}" for k, v in sorted(data.items()))
        + "\nThe secret and token are shown only now.",
    )


def _status_command(name: str, status: int, summary: str) -> click.Command:
    """``thirdparty <name> CLIENT_ID``: set dataCustodianApplicationStatus ``status``
    (:func:`gbconnect.oauth.clients.set_status`)."""

    @thirdparty.command(name, help=summary)
    @click.argument("client_id")
    @click.option("--reason", help="Why, in words the third party reads on its portal.")
    @JSON
    @click.pass_context
    def command(ctx: click.Context, client_id: str, reason: str | None, as_json: bool) -> None:
        with database_session(ctx) as (session, _):
            app = app_or_fail(session, client_id)
            clients.set_status(session, app, status, reason, Actor.operator())
            data = _app_data(app)
        out(as_json, data, f"{data['name']} ({data['client_id']}): {data['status']}")

    return command


thirdparty_approve = _status_command("approve", rm.PRODUCTION, "Move a third party to production.")
thirdparty_hold = _status_command(
    "hold", rm.ON_HOLD, "Put a third party on hold: its access tokens stop working at once."
)
thirdparty_revoke = _status_command(
    "revoke", rm.REVOKED, "Revoke a third party and every authorization it holds."
)


@thirdparty.command("logo")
@click.argument("client_id")
@click.option(
    "--file",
    "path",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="Set the logo from this PNG, JPEG, GIF or WebP file.",
)
@click.option("--fetch", is_flag=True, help="Fetch it now from the application's logo_uri.")
@JSON
@click.pass_context
def thirdparty_logo(
    ctx: click.Context, client_id: str, path: Path | None, fetch: bool, as_json: bool
) -> None:
    """Set the logo customers see beside the company's name in the list of companies
    (served by the utility itself: gbconnect.registration.logos)."""
    if (path is None) == (not fetch):
        raise click.UsageError("give either --file or --fetch")
    with database_session(ctx) as (session, settings):
        app = app_or_fail(session, client_id)
        try:
            if path is not None:
                if path.stat().st_size > logos.MAX_BYTES:
                    raise logos.LogoError(f"the logo is larger than {logos.MAX_BYTES // 1024} KB")
                logo = logos.check(path.read_bytes())
                source = logos.FROM_FILE
            else:
                if not app.logo_uri:
                    raise logos.LogoError("the application has no logo_uri")
                logo = logos.fetch(app.logo_uri, settings.notify_private_allowed)
                source = app.logo_uri
        except logos.LogoError as exc:
            raise click.ClickException(str(exc)) from None
        logos.store(session, app, logo, source)
        data = {
            "client_id": app.client_id,
            "content_type": logo.content_type,
            "bytes": len(logo.data),
            "source": source,
            "url": settings.site_url(f"/companies/{app.id}/logo"),
        }
    out(as_json, data, "\n".join(f"{k}: {v}" for k, v in data.items()))


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
    with database_session(ctx) as (session, settings):
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
            "registration_endpoint": settings.site_url("/oauth/register"),
            "expires_at": row.expires_at,
        }
    out(as_json, data, "\n".join(f"{k}: {v}" for k, v in data.items()))


@thirdparty.command("list")
@JSON
@click.pass_context
def thirdparty_list(ctx: click.Context, as_json: bool) -> None:
    """List third parties."""
    with database_session(ctx) as (session, _):
        apps = [
            _app_data(a)
            for a in session.scalars(
                select(rm.ApplicationInformation).order_by(rm.ApplicationInformation.published)
            )
        ]
    out(
        as_json,
        apps,
        "\n".join(f"{a['client_id']}  {a['status']:<10}  {a['name']}" for a in apps)
        or "no third parties",
    )
