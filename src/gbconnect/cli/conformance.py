"""``gbconnect conformance``: the GBA Connect My Data test cases against any Data
Custodian (:mod:`gbconnect.conformance`; docs/conformance.md). Exit code 0 only when
no case failed; 2 for a usage error."""

from __future__ import annotations

from pathlib import Path

import click


@click.command("conformance")
@click.option("--data-custodian", required=True, help="The Data Custodian's base URL.")
@click.option("--client-id", required=True)
@click.option("--client-secret", required=True)
@click.option("--registration-token", help="The registration access token (class R).")
@click.option("--customer-username", help="A test customer who signs in (class A cases).")
@click.option("--customer-password")
@click.option("--scope", help="The scope asked for (default: the registered one).")
@click.option("--redirect-uri", help="The registered redirect URI (default: read by RFC 7592).")
@click.option(
    "--application-information",
    help="The ApplicationInformation URI (or path under the resource base).",
)
@click.option("--offline-authorization", help="An Authorization URI created offline (OFA001).")
@click.option(
    "--notify-listen",
    default="127.0.0.1:0",
    show_default=True,
    help="HOST:PORT the tester's notification receiver listens on.",
)
@click.option("--notify-url", help="The notify URI the Data Custodian is to POST to.")
@click.option(
    "--schema-dir",
    type=click.Path(exists=True, file_okay=False, path_type=Path),
    help="Folder with atom.xsd and espi.xsd (default GBCONNECT_SCHEMA_DIR, "
    "or ../shared/espi/xsd beside the repository).",
)
@click.option("--only", help="Cases or families to run, comma-separated (FND,OAD001,...).")
@click.option("--json", "json_file", type=click.Path(dir_okay=False), help="Write JSON here.")
@click.option("--html", "html_file", type=click.Path(dir_okay=False), help="Write HTML here.")
@click.option("--ca-file", type=click.Path(exists=True, dir_okay=False))
@click.option("--client-cert", type=click.Path(exists=True, dir_okay=False))
@click.option("--client-key", type=click.Path(exists=True, dir_okay=False))
@click.option(
    "--psh-wait",
    type=click.FloatRange(1, 3600),
    default=120.0,
    show_default=True,
    help="Seconds to wait for a notification or a package.",
)
@click.option("--allow-http", is_flag=True, help="Plain http: TLS cases not applicable.")
@click.option("--destructive", is_flag=True, help="Also DELETE the ApplicationInformation (last).")
@click.option("--crawl-limit", type=click.IntRange(1, 10000), default=200, show_default=True)
@click.option("--chromium", type=click.Path(exists=True, dir_okay=False))
@click.option("--quiet", is_flag=True, help="Only the summary line and the failures.")
def conformance(
    data_custodian: str,
    client_id: str,
    client_secret: str,
    registration_token: str | None,
    customer_username: str | None,
    customer_password: str | None,
    scope: str | None,
    redirect_uri: str | None,
    application_information: str | None,
    offline_authorization: str | None,
    notify_listen: str,
    notify_url: str | None,
    schema_dir: Path | None,
    only: str | None,
    json_file: str | None,
    html_file: str | None,
    ca_file: str | None,
    client_cert: str | None,
    client_key: str | None,
    psh_wait: float,
    allow_http: bool,
    destructive: bool,
    crawl_limit: int,
    chromium: str | None,
    quiet: bool,
) -> None:
    """Run the GBA Connect My Data test cases (FND, OAD, RBK, QRY, PSH, OFA, MGA, MGT,
    TC) against a Data Custodian; one line per case, a JSON and an HTML report."""
    from gbconnect.conformance import report
    from gbconnect.conformance.context import Context, Options
    from gbconnect.conformance.notifications import parse_listen
    from gbconnect.conformance.runner import run, select

    if not data_custodian.startswith(("http://", "https://")):
        raise click.UsageError("--data-custodian must be an http(s) URL")
    if bool(customer_username) != bool(customer_password):
        raise click.UsageError("--customer-username and --customer-password go together")
    if client_key and not client_cert:
        raise click.UsageError("--client-key needs --client-cert")
    try:
        parse_listen(notify_listen)
        cases = select((only or "").split(","))
    except ValueError as exc:
        raise click.UsageError(str(exc)) from None
    options = Options(
        data_custodian=data_custodian,
        client_id=client_id,
        client_secret=client_secret,
        registration_token=registration_token,
        customer_username=customer_username,
        customer_password=customer_password,
        scope=scope,
        redirect_uri=redirect_uri,
        application_information=application_information,
        offline_authorization=offline_authorization,
        notify_listen=notify_listen,
        notify_url=notify_url,
        schema_dir=schema_dir,
        psh_wait=psh_wait,
        allow_http=allow_http,
        destructive=destructive,
        ca_file=ca_file,
        client_cert=client_cert,
        client_key=client_key,
        crawl_limit=crawl_limit,
        chromium=chromium,
    )
    try:
        ctx = Context(options)
        ctx.validator  # noqa: B018 - a bad schema folder stops here, before any request
    except (FileNotFoundError, OSError) as exc:
        raise click.ClickException(f"the schemas cannot be read: {exc}") from None
    done = run(ctx, cases, None if quiet else lambda r: click.echo(report.line(r)))
    if json_file:
        Path(json_file).write_text(report.to_json(done), encoding="utf-8")
    if html_file:
        Path(html_file).write_text(report.to_html(done), encoding="utf-8")
    if quiet:
        click.echo(report.terminal(done))
    else:
        for note in done.notes:
            click.echo(f"note: {note}")
        click.echo(report.terminal(done).splitlines()[-1])
    raise SystemExit(1 if done.failed else 0)


COMMANDS = (conformance,)
