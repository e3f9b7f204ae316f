"""Mutual TLS against a real ``gbconnect serve --tls-cert ... --client-ca ...`` over
real sockets, on SQLite and PostgreSQL (issue 12 item 7; PG&E: every API call but
browser redirects uses mutual TLS; GBA FB_13 TC001-011: TLS 1.2 or newer, weak
ciphers refused; RFC 8705 certificate-bound access tokens). Certificates are made by
trustme."""

from __future__ import annotations

import os
import socket
import ssl
import subprocess
import sys
import time
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from urllib.parse import quote

import httpx
import pytest
import trustme
from sqlalchemy import select

from gbconnect.audit import Actor
from gbconnect.customer.models import RetailCustomer
from gbconnect.db import make_engine, make_sessionmaker
from gbconnect.registration import certificates as certs
from gbconnect.registration import models as rm
from gbconnect.resource import now
from gbconnect.usage import models as um
from tests.databases import Databases
from tests.factories.app import make_settings
from tests.factories.parties import make_third_party
from tests.factories.tokens import grant
from tests.factories.world import Seed, store_world
from tests.serverproc import free_port

BASE = "/DataCustodian/espi/1_1/resource"
ACTOR = Actor("operator", "test", "command line")


@pytest.fixture
def world(databases: Databases) -> Seed:
    """The world's stored state (tests.factories.world), copied into ``db_url``."""
    return databases.template("world", store_world)


@dataclass
class Setup:
    """What a test needs: the CA, the certificates, the tokens and a block's path."""

    ca: trustme.CA
    folder: Path
    one_a: trustme.LeafCert  # registered to the world's application
    one_b: trustme.LeafCert  # also registered to it
    two: trustme.LeafCert  # registered to another application
    unregistered: trustme.LeafCert  # issued by the same CA, registered to no one
    expired: trustme.LeafCert
    seed: Seed
    customer_token: str  # issued without mTLS (by the utility): not bound
    block_path: str
    revoked_print: str
    base: str = "https://127.0.0.1:1"  # the running server's (set by tls_server)


def _pem(leaf: trustme.LeafCert) -> bytes:
    return leaf.cert_chain_pems[0].bytes()


def _thumbprint(leaf: trustme.LeafCert) -> str:
    return certs.thumbprint(ssl.PEM_cert_to_DER_cert(_pem(leaf).decode()))


@pytest.fixture
def setup(db_url: str, world: Seed, tmp_path: Path) -> Setup:
    rsa = trustme.KeyType.RSA
    ca = trustme.CA(key_type=rsa)
    leaves = [ca.issue_cert(f"{n}.example", key_type=rsa) for n in ("one-a", "one-b", "two")]
    unregistered = ca.issue_cert("stranger.example", key_type=rsa)
    revoked = ca.issue_cert("revoked.example", key_type=rsa)
    expired = ca.issue_cert(
        "expired.example",
        key_type=rsa,
        not_before=datetime(2020, 1, 1),
        not_after=datetime(2021, 1, 1),
    )
    settings = make_settings(db_url)
    engine = make_engine(db_url)
    try:
        with make_sessionmaker(engine)() as s:
            one = s.get(rm.ApplicationInformation, world.app_id)
            assert one is not None
            other = make_third_party(s, settings, name="Other Company").application
            certs.add_certificate(s, one, _pem(leaves[0]), ACTOR)
            certs.add_certificate(s, one, _pem(leaves[1]), ACTOR)
            certs.add_certificate(s, one, _pem(revoked), ACTOR)
            certs.add_certificate(s, other, _pem(leaves[2]), ACTOR)
            certs.revoke_certificate(s, one, _thumbprint(revoked), ACTOR)
            alice = s.scalars(
                select(RetailCustomer).where(RetailCustomer.username == "alice")
            ).one()
            up = world.alice_points[0]
            auth, token = grant(s, settings, one, alice, [up])
            assert auth.subscription is not None
            mr = s.scalars(
                select(um.MeterReading.id).where(um.MeterReading.usage_point_id == up)
            ).first()
            ib = s.scalars(
                select(um.IntervalBlock.id).where(um.IntervalBlock.meter_reading_id == mr)
            ).first()
            path = (
                f"{BASE}/Subscription/{auth.subscription.id}/UsagePoint/{up}"
                f"/MeterReading/{mr}/IntervalBlock/{ib}"
            )
            s.commit()
    finally:
        engine.dispose()
    return Setup(
        ca,
        tmp_path,
        leaves[0],
        leaves[1],
        leaves[2],
        unregistered,
        expired,
        world,
        token,
        path,
        _thumbprint(revoked),
    )


@contextmanager
def tls_server(db_url: str, setup: Setup, **env: str) -> Iterator[str]:
    """``gbconnect serve`` with HTTPS and client certificates; its base URL."""
    server_cert = setup.ca.issue_cert("127.0.0.1", "localhost")
    pem = setup.folder / "server.pem"
    server_cert.private_key_and_cert_chain_pem.write_to_path(str(pem))
    client_ca = setup.folder / "client-ca.pem"
    setup.ca.cert_pem.write_to_path(str(client_ca))
    port = free_port()
    base = setup.base = f"https://127.0.0.1:{port}"
    variables = {
        **os.environ,
        "GBCONNECT_DATABASE_URL": db_url,
        "GBCONNECT_SECRET_KEY": "s" * 40,
        "GBCONNECT_BASE_URL": base,
        "GBCONNECT_MTLS": "required",
        **env,
    }
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "gbconnect.cli",
            "serve",
            "--port",
            str(port),
            "--tls-cert",
            str(pem),
            "--tls-key",
            str(pem),
            "--client-ca",
            str(client_ca),
        ],
        env=variables,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        for _ in range(200):
            try:
                with client(setup) as c:
                    c.get("/livez")
                break
            except httpx.TransportError:
                time.sleep(0.1)
        yield base
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def _context(setup: Setup, leaf: trustme.LeafCert | None) -> ssl.SSLContext:
    ctx = ssl.create_default_context()
    setup.ca.configure_trust(ctx)
    if leaf is not None:
        leaf.configure_cert(ctx)
    return ctx


def client(setup: Setup, leaf: trustme.LeafCert | None = None) -> httpx.Client:
    """A client presenting ``leaf`` (None: no certificate)."""
    return httpx.Client(base_url=setup.base, verify=_context(setup, leaf), timeout=10)


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def _client_token(setup: Setup, leaf: trustme.LeafCert | None) -> httpx.Response:
    with client(setup, leaf) as c:
        return c.post(
            "/oauth/token",
            data={"grant_type": "client_credentials"},
            auth=(setup.seed.client_id, setup.seed.client_secret),
        )


def _refused(response: httpx.Response, error: str, words: str) -> None:
    assert response.status_code == 401, response.text
    body = response.json()
    assert body["error"] == error and words in body["error_description"], body
    assert f'error="{error}"' in response.headers["www-authenticate"]


def test_required_mtls_refuses_what_it_must_and_binds_tokens(db_url: str, setup: Setup) -> None:
    status = f"{BASE}/ReadServiceStatus"
    with tls_server(db_url, setup):
        # The token endpoint: a confidential client without a certificate, or with
        # another application's, gets no token.
        refused = _client_token(setup, None)
        assert refused.status_code == 401 and refused.json()["error"] == "invalid_client"
        assert "RFC 8705" in refused.json()["error_description"]
        other = _client_token(setup, setup.two)
        assert other.status_code == 401 and "not registered" in other.json()["error_description"]
        unknown = _client_token(setup, setup.unregistered)
        assert unknown.status_code == 401

        # The right certificate: a token bound to it (RFC 8705 section 3).
        issued = _client_token(setup, setup.one_a)
        assert issued.status_code == 200, issued.text
        token = issued.json()["access_token"]
        with client(setup, setup.one_a) as c:
            assert c.get(status, headers=_bearer(token)).status_code == 200
            seen = c.post(
                "/oauth/introspect",
                data={"token": token},
                auth=(setup.seed.client_id, setup.seed.client_secret),
            ).json()
            assert seen["active"] is True
            assert seen["cnf"] == {"x5t#S256": _thumbprint(setup.one_a)}
            meta = c.get("/.well-known/oauth-authorization-server").json()
            assert meta["tls_client_certificate_bound_access_tokens"] is True
        # The bound token with another certificate of the same application, or none.
        with client(setup, setup.one_b) as c:
            _refused(c.get(status, headers=_bearer(token)), "invalid_token", "bound")
        with client(setup, None) as c:
            _refused(c.get(status, headers=_bearer(token)), "invalid_token", "bound")

        # The hot path (one IntervalBlock, read as one row) with a customer token.
        customer = _bearer(setup.customer_token)
        with client(setup, None) as c:
            _refused(c.get(setup.block_path, headers=customer), "invalid_client", "required")
            # Browser pages never need a certificate.
            assert c.get("/login").status_code == 200
        with client(setup, setup.two) as c:
            _refused(c.get(setup.block_path, headers=customer), "invalid_client", "not registered")
        with client(setup, setup.unregistered) as c:
            _refused(c.get(setup.block_path, headers=customer), "invalid_client", "not registered")
        with client(setup, setup.one_b) as c:
            answer = c.get(setup.block_path, headers=customer)
            assert answer.status_code == 200 and b"<IntervalBlock" in answer.content

        # An expired certificate, or one of another CA, does not finish the handshake.
        stranger = trustme.CA().issue_cert("stranger.example")
        for leaf in (setup.expired, stranger):
            ctx = ssl.create_default_context()
            setup.ca.configure_trust(ctx)
            leaf.configure_cert(ctx)
            with (
                pytest.raises(httpx.TransportError),
                httpx.Client(base_url=setup.base, verify=ctx, timeout=10) as c,
            ):
                c.get(setup.block_path, headers=customer)


def test_revoked_certificate_refused(db_url: str, setup: Setup) -> None:
    with tls_server(db_url, setup):
        engine = make_engine(db_url)
        try:
            with make_sessionmaker(engine)() as s:
                one = s.get(rm.ApplicationInformation, setup.seed.app_id)
                assert one is not None
                certs.revoke_certificate(s, one, _thumbprint(setup.one_b), ACTOR)
                s.commit()
        finally:
            engine.dispose()
        with client(setup, setup.one_b) as c:
            _refused(
                c.get(setup.block_path, headers=_bearer(setup.customer_token)),
                "invalid_client",
                "revoked",
            )


def _handshake(port: int, ctx: ssl.SSLContext) -> str:
    with (
        socket.create_connection(("127.0.0.1", port), timeout=10) as raw,
        ctx.wrap_socket(raw, server_hostname="127.0.0.1") as tls,
    ):
        return str(tls.version())


def test_tls_versions_and_ciphers(db_url: str, setup: Setup) -> None:
    """FB_13 / TC001-011: TLS 1.2 or newer, and no weak cipher suite."""
    with tls_server(db_url, setup) as base:
        port = int(base.rsplit(":", 1)[1])

        def context(low: ssl.TLSVersion, high: ssl.TLSVersion, ciphers: str = "") -> ssl.SSLContext:
            ctx = ssl.create_default_context()
            setup.ca.configure_trust(ctx)
            if ciphers:
                ctx.set_ciphers(ciphers)
            with warnings.catch_warnings():  # TLS 1.1 is deprecated: that is the point
                warnings.simplefilter("ignore", DeprecationWarning)
                ctx.minimum_version, ctx.maximum_version = low, high
            return ctx

        v = ssl.TLSVersion
        assert _handshake(port, context(v.TLSv1_3, v.TLSv1_3)) == "TLSv1.3"
        assert _handshake(port, context(v.TLSv1_2, v.TLSv1_2)) == "TLSv1.2"
        # TLS 1.1 (the client lowered to security level 0 so that it offers it).
        with pytest.raises(ssl.SSLError):
            _handshake(port, context(v.TLSv1_1, v.TLSv1_1, "DEFAULT:@SECLEVEL=0"))
        # TLS 1.2 with only CBC suites, or RSA key exchange.
        weak = "ECDHE-ECDSA-AES128-SHA:ECDHE-RSA-AES128-SHA:AES128-GCM-SHA256:AES256-SHA256"
        with pytest.raises(ssl.SSLError):
            _handshake(port, context(v.TLSv1_2, v.TLSv1_2, weak))


@contextmanager
def proxied_server(db_url: str, trusted: str) -> Iterator[str]:
    """Plain HTTP behind a (pretended) TLS-terminating proxy that passes the client
    certificate in X-Client-Cert; proxies trusted: ``trusted``."""
    from tests.serverproc import serving

    with serving(
        db_url,
        GBCONNECT_MTLS="required",
        GBCONNECT_MTLS_CERT_HEADER="X-Client-Cert",
        GBCONNECT_TRUSTED_PROXIES=trusted,
    ) as served:
        yield served.base


def test_proxy_header_believed_from_a_trusted_proxy_only(db_url: str, setup: Setup) -> None:
    customer = _bearer(setup.customer_token)
    # nginx's $ssl_client_escaped_cert: the PEM, URL-encoded.
    one = {"X-Client-Cert": quote(_pem(setup.one_a).decode(), safe=""), **customer}
    two = {"X-Client-Cert": quote(_pem(setup.two).decode(), safe=""), **customer}
    with proxied_server(db_url, "127.0.0.1") as base:
        assert httpx.get(base + setup.block_path, headers=one).status_code == 200
        _refused(
            httpx.get(base + setup.block_path, headers=two), "invalid_client", "not registered"
        )
        _refused(httpx.get(base + setup.block_path, headers=customer), "invalid_client", "required")
        garbage = {"X-Client-Cert": "not-a-certificate", **customer}
        _refused(httpx.get(base + setup.block_path, headers=garbage), "invalid_client", "required")
        # A certificate registered once, expired since (inserted as it was).
        expired_print = _thumbprint(setup.expired)
        engine = make_engine(db_url)
        try:
            with make_sessionmaker(engine)() as s:
                s.add(
                    rm.ApplicationCertificate(
                        application_id=setup.seed.app_id,
                        thumbprint=expired_print,
                        subject="CN=expired.example",
                        issuer="CN=test",
                        serial="1",
                        not_before=1577836800,
                        not_after=1609459200,
                        added_at=now(),
                        source="uploaded",
                        pem=_pem(setup.expired).decode(),
                    )
                )
                s.commit()
        finally:
            engine.dispose()
        old = {"X-Client-Cert": quote(_pem(setup.expired).decode(), safe=""), **customer}
        _refused(httpx.get(base + setup.block_path, headers=old), "invalid_client", "expired")
    # The same header from a peer that is not a trusted proxy is ignored.
    with proxied_server(db_url, "10.0.0.0/8") as base:
        _refused(httpx.get(base + setup.block_path, headers=one), "invalid_client", "required")
