"""``gbconnect thirdparty cert add|list|revoke|issue`` and ``gbconnect ca init`` as
separate processes on SQLite and PostgreSQL (mutual TLS, PG&E; RFC 8705); refusals
are one line, never a traceback; each change is in the audit log."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from cryptography import x509
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from gbconnect.audit.models import AuditEvent
from tests.clirun import run_cli
from tests.factories.certificates import make_cert, make_csr


def _register(db_url: str, name: str) -> str:
    done = run_cli(
        db_url,
        "thirdparty",
        "register",
        "--name",
        name,
        "--redirect-uri",
        "https://tp.example/cb",
        "--approve",
        "--json",
    )
    assert done.returncode == 0, done.stderr
    return str(json.loads(done.stdout)["client_id"])


def _json(db_url: str, *args: str) -> object:
    done = run_cli(db_url, *args, "--json")
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def _one_line_error(db_url: str, *args: str) -> str:
    done = run_cli(db_url, *args)
    assert done.returncode != 0, done.stdout
    assert "Traceback" not in done.stderr, done.stderr
    return done.stderr.strip()


def test_add_list_revoke_and_issue(
    db_url: str,
    factory: sessionmaker[Session],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    client_id = _register(db_url, "Volt Tracker")
    pem = tmp_path / "client.pem"
    pem.write_bytes(make_cert("volt.example"))
    added = _json(db_url, "thirdparty", "cert", "add", client_id, "--file", str(pem))
    assert isinstance(added, dict) and added["state"] == "current"
    assert added["subject"] == "CN=volt.example" and len(added["thumbprint"]) == 43

    folder = tmp_path / "ca"
    made = _json(db_url, "ca", "init", "--dir", str(folder), "--name", "Demo Utility CA")
    assert isinstance(made, dict)
    monkeypatch.setenv("GBCONNECT_CA_CERT", made["GBCONNECT_CA_CERT"])
    monkeypatch.setenv("GBCONNECT_CA_KEY", made["GBCONNECT_CA_KEY"])
    csr = tmp_path / "request.pem"
    csr.write_bytes(make_csr("volt-2.example")[0])
    out = tmp_path / "issued.pem"
    issued = _json(
        db_url, "thirdparty", "cert", "issue", client_id, "--csr", str(csr), "--out", str(out)
    )
    assert isinstance(issued, dict) and issued["source"] == "issued"
    cert = x509.load_pem_x509_certificate(out.read_bytes())
    cert.verify_directly_issued_by(
        x509.load_pem_x509_certificate(Path(made["GBCONNECT_CA_CERT"]).read_bytes())
    )

    revoked = _json(db_url, "thirdparty", "cert", "revoke", client_id, added["thumbprint"])
    assert isinstance(revoked, dict) and revoked["state"] == "revoked"
    listed = _json(db_url, "thirdparty", "cert", "list", client_id)
    assert isinstance(listed, list)
    assert [(c["thumbprint"], c["state"]) for c in listed] == [
        (added["thumbprint"], "revoked"),
        (issued["thumbprint"], "current"),
    ]
    text = run_cli(db_url, "thirdparty", "cert", "list", client_id).stdout
    assert added["thumbprint"] in text and "revoked" in text
    with factory() as s:
        actions = [
            e.action
            for e in s.scalars(
                select(AuditEvent)
                .where(AuditEvent.action.like("certificate.%"))
                .order_by(AuditEvent.seq)
            )
        ]
    assert actions == ["certificate.added", "certificate.issued", "certificate.revoked"]


def test_refusals_are_one_line(db_url: str, tmp_path: Path) -> None:
    client_id = _register(db_url, "Amp Assistant")
    other_id = _register(db_url, "Other One")
    garbage = tmp_path / "garbage.pem"
    garbage.write_text("not a certificate")
    weak = tmp_path / "weak.pem"
    weak.write_bytes(make_cert(bits=1024))
    good = tmp_path / "good.pem"
    good.write_bytes(make_cert("amp.example"))
    csr = tmp_path / "request.pem"
    csr.write_bytes(make_csr("amp-2.example")[0])
    added = _json(db_url, "thirdparty", "cert", "add", client_id, "--file", str(good))
    assert isinstance(added, dict)
    for args, words in (
        (("cert", "add", client_id, "--file", str(garbage)), "not a PEM-encoded X.509"),
        (("cert", "add", client_id, "--file", str(weak)), "at least 2048"),
        (("cert", "add", other_id, "--file", str(good)), "already registered"),
        (("cert", "add", "no-such-client", "--file", str(good)), "no third party"),
        (("cert", "revoke", other_id, added["thumbprint"]), "has no certificate"),
        # base64url may start with "-": still a thumbprint, not an option.
        (("cert", "revoke", client_id, "-IObyUv74iIiCZ3E"), "has no certificate"),
        (("cert", "list", "no-such-client"), "no third party"),
        (
            ("cert", "issue", client_id, "--csr", str(garbage), "--out", str(tmp_path / "o")),
            "not a PEM-encoded certificate request",
        ),
        (
            ("cert", "issue", client_id, "--csr", str(csr), "--out", str(tmp_path / "o")),
            "GBCONNECT_CA_CERT",
        ),
    ):
        message = _one_line_error(db_url, "thirdparty", *args)
        assert words in message, (args, message)
    folder = tmp_path / "ca"
    assert run_cli(db_url, "ca", "init", "--dir", str(folder)).returncode == 0
    assert "not overwritten" in _one_line_error(db_url, "ca", "init", "--dir", str(folder))


def test_serve_refuses_bad_tls_options_in_one_line(db_url: str, tmp_path: Path) -> None:
    garbage = tmp_path / "garbage.pem"
    garbage.write_text("not a certificate")
    for args, words in (
        (("--tls-cert", str(garbage)), "--tls-cert and --tls-key together"),
        (("--client-ca", str(garbage)), "--client-ca needs --tls-cert"),
        (("--tls-cert", str(garbage), "--tls-key", str(garbage)), "cannot load the TLS files"),
    ):
        message = _one_line_error(db_url, "serve", "--port", "1", *args)
        assert words in message, (args, message)
