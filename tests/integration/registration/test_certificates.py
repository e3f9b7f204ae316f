"""Registering, revoking and issuing third parties' client certificates on each
database (gbconnect.registration.certificates; PG&E mutual TLS; RFC 8705), each change
in the audit log."""

from __future__ import annotations

from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from gbconnect.audit import Actor
from gbconnect.audit.models import AuditEvent
from gbconnect.audit.record import OPERATOR, THIRD_PARTY
from gbconnect.registration import certificates as certs
from gbconnect.registration import models as rm
from tests.factories.app import make_settings
from tests.factories.certificates import make_cert, make_csr, sha1_cert
from tests.factories.parties import make_third_party

ACTOR = Actor(OPERATOR, "ops", "command line")


def _apps(session: Session, db_url: str) -> tuple[rm.ApplicationInformation, ...]:
    settings = make_settings(db_url)
    one = make_third_party(session, settings, name="One").application
    two = make_third_party(session, settings, name="Two").application
    return one, two


def _actions(session: Session) -> list[str]:
    return [e.action for e in session.scalars(select(AuditEvent).order_by(AuditEvent.seq))]


def test_add_list_and_revoke(db_url: str, factory: sessionmaker[Session]) -> None:
    pem = make_cert("one.example")
    with factory() as s:
        one, two = _apps(s, db_url)
        row = certs.add_certificate(s, one, pem, Actor(THIRD_PARTY, "one", "192.0.2.1"))
        s.commit()
        assert row.thumbprint == certs.thumbprint(
            x509.load_pem_x509_certificate(pem).public_bytes(Encoding.DER)
        )
        assert row.subject == "CN=one.example" and row.revoked_at is None
        assert [c.thumbprint for c in certs.certificates_of(s, one)] == [row.thumbprint]
        assert certs.certificates_of(s, two) == []
        # Another application cannot revoke it by naming its thumbprint.
        assert certs.revoke_certificate(s, two, row.thumbprint, ACTOR) is None
        revoked = certs.revoke_certificate(s, one, row.thumbprint, ACTOR)
        assert revoked is not None and revoked.revoked_at is not None
        # Twice: nothing more happens, and nothing more is recorded.
        certs.revoke_certificate(s, one, row.thumbprint, ACTOR)
        s.commit()
        assert _actions(s)[-2:] == ["certificate.added", "certificate.revoked"]
        added = s.scalars(select(AuditEvent).where(AuditEvent.action == "certificate.added")).one()
        assert added.actor_kind == THIRD_PARTY and added.address == "192.0.2.1"
        assert added.details is not None and added.details["thumbprint"] == row.thumbprint


def test_one_certificate_one_application(db_url: str, factory: sessionmaker[Session]) -> None:
    pem = make_cert("shared.example")
    with factory() as s:
        one, two = _apps(s, db_url)
        certs.add_certificate(s, one, pem, ACTOR)
        with pytest.raises(certs.CertificateError, match="already registered"):
            certs.add_certificate(s, two, pem, ACTOR)
        with pytest.raises(certs.CertificateError, match="already registered"):
            certs.add_certificate(s, one, pem, ACTOR)


@pytest.mark.parametrize(
    ("pem", "words"),
    [
        (lambda: make_cert(bits=1024), "at least 2048"),
        (sha1_cert, "SHA-2 is required"),
        (lambda: make_cert(days=-1, start_days=-9), "expired"),
        (lambda: make_cert(usages=[x509.oid.ExtendedKeyUsageOID.SERVER_AUTH]), "clientAuth"),
        (lambda: b"garbage", "not a PEM-encoded"),
    ],
)
def test_refusals_record_nothing(
    db_url: str, factory: sessionmaker[Session], pem: object, words: str
) -> None:
    with factory() as s:
        one, _ = _apps(s, db_url)
        before = _actions(s)
        with pytest.raises(certs.CertificateError, match=words):
            certs.add_certificate(s, one, pem(), ACTOR)  # type: ignore[operator]
        assert certs.certificates_of(s, one) == [] and _actions(s) == before


def test_issue_from_csr_with_the_utilitys_ca(
    db_url: str, factory: sessionmaker[Session], tmp_path: Path
) -> None:
    ca_cert, ca_key = certs.write_authority(tmp_path / "ca", "Test Utility CA")
    settings = make_settings(db_url).model_copy(update={"ca_cert": ca_cert, "ca_key": ca_key})
    csr, _ = make_csr("solar.example")
    with factory() as s:
        one, _ = _apps(s, db_url)
        row = certs.issue_from_csr(settings, one, csr, ACTOR)
        s.commit()
        issued = x509.load_pem_x509_certificate(row.pem.encode())
        authority = x509.load_pem_x509_certificate(ca_cert.read_bytes())
        issued.verify_directly_issued_by(authority)
        assert row.source == "issued" and row.issuer == "CN=Test Utility CA"
        usage = issued.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
        assert list(usage) == [x509.oid.ExtendedKeyUsageOID.CLIENT_AUTH]
        assert _actions(s)[-1] == "certificate.issued"
        with pytest.raises(certs.CertificateError, match="not a PEM-encoded certificate request"):
            certs.issue_from_csr(settings, one, b"nope", ACTOR)
        unconfigured = make_settings(db_url)
        with pytest.raises(certs.CertificateError, match="GBCONNECT_CA_CERT"):
            certs.issue_from_csr(unconfigured, one, make_csr("x.example")[0], ACTOR)
    with pytest.raises(certs.CertificateError, match="not overwritten"):
        certs.write_authority(tmp_path / "ca", "Again")
