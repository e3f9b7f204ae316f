"""``gbconnect thirdparty cert ...`` and ``gbconnect ca init``: third parties' client
certificates for mutual TLS (PG&E; RFC 8705; docs/mtls.md).

- ``thirdparty cert add CLIENT_ID --file F``: register a certificate (PEM);
- ``thirdparty cert list CLIENT_ID``: its certificates, revoked ones included;
- ``thirdparty cert revoke CLIENT_ID THUMBPRINT``: revoke one at once;
- ``thirdparty cert issue CLIENT_ID --csr F --out F``: the utility's CA signs the
  third party's certificate request (GBCONNECT_CA_CERT, GBCONNECT_CA_KEY);
- ``ca init --dir D``: make such a CA (for a demo or a test).

Each change is audited (:mod:`gbconnect.registration.certificates`).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from gbconnect.audit import Actor
from gbconnect.cli.context import JSON, database_session, out
from gbconnect.cli.thirdparty import app_or_fail
from gbconnect.registration import certificates as certs
from gbconnect.registration import models as rm
from gbconnect.resource import now

_FILE = click.Path(exists=True, dir_okay=False, path_type=Path)


def _read(path: Path) -> bytes:
    if path.stat().st_size > certs.MAX_PEM_BYTES:
        raise click.ClickException(f"{path} is larger than {certs.MAX_PEM_BYTES // 1024} KB")
    return path.read_bytes()


def _state(row: rm.ApplicationCertificate, at: int) -> str:
    if row.revoked_at is not None:
        return "revoked"
    if at >= row.not_after:
        return "expired"
    if at < row.not_before:
        return "not yet valid"
    return "current"


def _cert_data(row: rm.ApplicationCertificate, at: int) -> dict[str, Any]:
    return {
        "thumbprint": row.thumbprint,
        "subject": row.subject,
        "issuer": row.issuer,
        "serial": row.serial,
        "not_before": row.not_before,
        "not_after": row.not_after,
        "added_at": row.added_at,
        "revoked_at": row.revoked_at,
        "source": row.source,
        "state": _state(row, at),
    }


def _line(data: dict[str, Any]) -> str:
    return f"{data['thumbprint']}  {data['state']:<13}  {data['subject']}"


@click.group("cert")
def cert() -> None:
    """Client certificates of a third party (mutual TLS)."""


@cert.command("add")
@click.argument("client_id")
@click.option("--file", "path", type=_FILE, required=True, help="The PEM certificate.")
@JSON
@click.pass_context
def cert_add(ctx: click.Context, client_id: str, path: Path, as_json: bool) -> None:
    """Register a client certificate to a third party."""
    pem = _read(path)
    with database_session(ctx) as (session, _):
        app = app_or_fail(session, client_id)
        row = certs.add_certificate(session, app, pem, Actor.operator())
        data = _cert_data(row, now())
    out(as_json, data, "registered " + _line(data))


@cert.command("list")
@click.argument("client_id")
@JSON
@click.pass_context
def cert_list(ctx: click.Context, client_id: str, as_json: bool) -> None:
    """List a third party's certificates."""
    with database_session(ctx) as (session, _):
        app = app_or_fail(session, client_id)
        at = now()
        rows = [_cert_data(r, at) for r in certs.certificates_of(session, app)]
    out(as_json, rows, "\n".join(_line(r) for r in rows) or "no certificates")


# A thumbprint is base64url: it may start with "-", which is then not an option.
@cert.command("revoke", context_settings={"ignore_unknown_options": True})
@click.argument("client_id")
@click.argument("thumbprint")
@JSON
@click.pass_context
def cert_revoke(ctx: click.Context, client_id: str, thumbprint: str, as_json: bool) -> None:
    """Revoke a third party's certificate (by its x5t#S256 thumbprint) at once."""
    with database_session(ctx) as (session, _):
        app = app_or_fail(session, client_id)
        row = certs.revoke_certificate(session, app, thumbprint, Actor.operator())
        if row is None:
            raise click.ClickException(f"{client_id} has no certificate {thumbprint!r}")
        data = _cert_data(row, now())
    out(as_json, data, "revoked " + _line(data))


@cert.command("issue")
@click.argument("client_id")
@click.option("--csr", "csr_path", type=_FILE, required=True, help="The PEM PKCS#10 request.")
@click.option(
    "--out",
    "out_path",
    type=click.Path(dir_okay=False, path_type=Path),
    required=True,
    help="Where to write the signed certificate (PEM).",
)
@JSON
@click.pass_context
def cert_issue(
    ctx: click.Context, client_id: str, csr_path: Path, out_path: Path, as_json: bool
) -> None:
    """Sign a third party's certificate request with the utility's CA and register
    the certificate to it."""
    csr = _read(csr_path)
    if out_path.exists():
        raise click.ClickException(f"{out_path} exists already; it is not overwritten")
    with database_session(ctx) as (session, settings):
        app = app_or_fail(session, client_id)
        row = certs.issue_from_csr(settings, app, csr, Actor.operator())
        data = _cert_data(row, now())
        try:
            out_path.write_text(row.pem)
        except OSError as exc:
            raise click.ClickException(f"cannot write {out_path}: {exc.strerror}") from None
    data["file"] = str(out_path)
    out(as_json, data, "issued " + _line(data) + f"\nwritten to {out_path}")


@click.group("ca")
def ca() -> None:
    """The utility's own certificate authority, which signs third parties' requests."""


@ca.command("init")
@click.option(
    "--dir",
    "folder",
    type=click.Path(file_okay=False, path_type=Path),
    required=True,
    help="Folder for ca.pem and ca-key.pem.",
)
@click.option("--name", default="gbconnect utility CA", show_default=True)
@click.option("--days", type=click.IntRange(1, 36500), default=3650, show_default=True)
@JSON
def ca_init(folder: Path, name: str, days: int, as_json: bool) -> None:
    """Make a certificate authority (RSA 3072, SHA-256) and print the settings that
    name it."""
    try:
        cert_path, key_path = certs.write_authority(folder, name, days)
    except certs.CertificateError as exc:
        raise click.ClickException(str(exc)) from None
    except OSError as exc:
        raise click.ClickException(f"cannot write into {folder}: {exc.strerror}") from None
    data = {"GBCONNECT_CA_CERT": str(cert_path), "GBCONNECT_CA_KEY": str(key_path)}
    out(as_json, data, "\n".join(f"{k}={v}" for k, v in data.items()))
