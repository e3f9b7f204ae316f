"""A company's client certificates on the third-party portal (mutual TLS, RFC 8705):
upload one its CA issued, have the utility's CA sign a request, download, revoke;
every refusal a sentence, another company's application a 404. SQLite and
PostgreSQL."""

from __future__ import annotations

import re
from dataclasses import replace
from pathlib import Path

from sqlalchemy import select

from gbconnect.audit.models import AuditEvent
from gbconnect.registration import models as rm
from gbconnect.registration.certificates import write_authority
from tests.factories.app import app_client
from tests.factories.certificates import make_cert, make_csr, sha1_cert
from tests.factories.world import World
from tests.integration.thirdparty_portal.helpers import (
    app_id_of,
    company,
    csrf,
    register,
)


def _page(world: World, app_id: int) -> str:
    return f"/thirdparty/applications/{app_id}/certificates"


def _add(world: World, app_id: int, how: str, pem: str) -> tuple[int, str]:
    data = {"csrf": csrf(world.client, _page(world, app_id)), "how": how, "pem": pem}
    r = world.client.post(_page(world, app_id), data=data)
    return r.status_code, r.text


def test_upload_download_and_revoke(portal: World) -> None:
    company(portal)
    status, html = register(portal)
    assert status == 200, html
    app_id = app_id_of(html)
    assert "None yet." in portal.client.get(_page(portal, app_id)).text
    pem = make_cert("acme-client").decode()
    status, html = _add(portal, app_id, "certificate", pem)
    assert status == 200 and 'id="done"' in html and "CN=acme-client" in html
    thumbprint = re.search(r"<code>([A-Za-z0-9_-]{43})</code>", html)
    assert thumbprint
    r = portal.client.get(f"{_page(portal, app_id)}/{thumbprint.group(1)}.pem")
    assert r.status_code == 200 and r.text.strip() == pem.strip()
    # Registered once only.
    status, html = _add(portal, app_id, "certificate", pem)
    assert status == 400 and "already" in html
    data = {"csrf": csrf(portal.client, _page(portal, app_id))}
    r = portal.client.post(f"{_page(portal, app_id)}/{thumbprint.group(1)}/revoke", data=data)
    assert r.status_code == 200 and "revoked" in r.text
    with portal.factory() as s:
        row = s.scalars(select(rm.ApplicationCertificate)).one()
        assert row.revoked_at is not None
        actions = [e.action for e in s.scalars(select(AuditEvent).order_by(AuditEvent.seq))]
    assert "certificate.added" in actions and "certificate.revoked" in actions


def test_refusals_are_sentences(portal: World) -> None:
    company(portal)
    app_id = app_id_of(register(portal)[1])
    for how, pem, words in (
        ("certificate", "", "Paste a PEM"),
        ("certificate", "not a certificate", ""),
        ("certificate", sha1_cert().decode(), "SHA-1"),
        ("certificate", make_cert(bits=1024).decode(), "2048"),
        ("certificate", make_cert(days=-1, start_days=-10).decode(), "expired"),
        ("nonsense", make_cert().decode(), "Choose whether"),
    ):
        status, html = _add(portal, app_id, how, pem)
        assert status == 400, (how, pem[:30])
        assert 'id="error"' in html and words in html, (words, html[:2000])
    # A body beyond the forms' limit is refused before it is read (413).
    status, _html = _add(portal, app_id, "certificate", "x" * (300 * 1024))
    assert status == 413
    # No CA configured: a request cannot be signed.
    status, html = _add(portal, app_id, "request", make_csr()[0].decode())
    assert status == 400 and 'id="error"' in html
    # CSRF, another company's application, an unknown thumbprint.
    r = portal.client.post(_page(portal, app_id), data={"how": "certificate", "pem": "x"})
    assert r.status_code == 403
    assert portal.client.get(_page(portal, 999_999)).status_code == 404
    data = {"csrf": csrf(portal.client, _page(portal, app_id))}
    r = portal.client.post(f"{_page(portal, app_id)}/{'A' * 43}/revoke", data=data)
    assert r.status_code == 404
    assert portal.client.get(f"{_page(portal, app_id)}/{'A' * 43}.pem").status_code == 404


def test_the_utilitys_ca_signs_a_request(portal: World, engine: object, tmp_path: Path) -> None:
    ca_cert, ca_key = write_authority(tmp_path, "Demo Utility CA")
    settings = portal.settings.model_copy(update={"ca_cert": ca_cert, "ca_key": ca_key})
    with app_client(settings, engine) as client:  # type: ignore[arg-type]
        world = replace(portal, client=client, settings=settings)
        company(world)
        app_id = app_id_of(register(world)[1])
        assert 'value="request"' in world.client.get(_page(world, app_id)).text
        status, html = _add(world, app_id, "request", make_csr("acme-issued")[0].decode())
        assert status == 200 and 'id="done"' in html, html[:3000]
        assert "CN=acme-issued" in html
        with world.factory() as s:
            row = s.scalars(select(rm.ApplicationCertificate)).one()
            assert row.source == "issued" and "Demo Utility CA" in row.issuer
