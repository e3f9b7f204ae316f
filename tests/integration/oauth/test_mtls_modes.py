"""GBCONNECT_MTLS in the application, in process, on each database (RFC 8705).

The TLS layer is stood in for by :class:`Presenting`, which puts the certificate a
test names into the ASGI TLS extension as :mod:`gbconnect.web.tls` does for a real
connection (real sockets: ``tests/e2e/test_mtls_served.py``). What is checked here:
``optional`` accepts no certificate and binds the tokens issued over one; a token
endpoint refusal consumes nothing (the authorization code still works after it);
``off`` reads no certificate and advertises no binding."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from urllib.parse import quote, unquote

from cryptography.hazmat.primitives.serialization import Encoding
from fastapi.testclient import TestClient
from starlette.types import ASGIApp, Receive, Scope, Send

from gbconnect.app import create_app
from gbconnect.audit import Actor
from gbconnect.registration import certificates as certs
from gbconnect.registration import models as rm
from tests.factories.certificates import make_cert
from tests.factories.parties import REDIRECT
from tests.factories.world import World

STATUS = "/DataCustodian/espi/1_1/resource/ReadServiceStatus"
ACTOR = Actor("operator", "test", "command line")
MINE, MINE_TOO, STRANGER = (make_cert(n) for n in ("mine", "mine-too", "stranger"))


class Presenting:
    """The TLS layer's stand-in: the PEM in the test's ``X-Test-Cert`` header (URL-
    encoded) becomes the connection's ``client_cert_chain``."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            for name, value in scope["headers"]:
                if name == b"x-test-cert":
                    chain = (unquote(value.decode()),)
                    scope["extensions"] = {"tls": {"client_cert_chain": chain}}
        await self.app(scope, receive, send)


@contextmanager
def mtls_client(world: World, mode: str) -> Iterator[TestClient]:
    settings = world.settings.model_copy(update={"mtls": mode})
    engine = world.factory.kw["bind"]
    with TestClient(Presenting(create_app(settings, engine))) as client:
        yield client


def _present(pem: bytes | None) -> dict[str, str]:
    return {} if pem is None else {"X-Test-Cert": quote(pem.decode(), safe="")}


def _register(world: World) -> None:
    with world.factory() as s:
        app = s.get(rm.ApplicationInformation, world.app_id)
        assert app is not None
        certs.add_certificate(s, app, MINE, ACTOR)
        certs.add_certificate(s, app, MINE_TOO, ACTOR)
        s.commit()


def _token(client: TestClient, world: World, pem: bytes | None) -> dict[str, object]:
    r = client.post(
        "/oauth/token",
        data={"grant_type": "client_credentials"},
        headers={**world.basic(), **_present(pem)},
    )
    assert r.status_code == 200, r.text
    body: dict[str, object] = r.json()
    return body


def _introspect(client: TestClient, world: World, token: object) -> dict[str, object]:
    r = client.post("/oauth/introspect", data={"token": str(token)}, headers=world.basic())
    assert r.status_code == 200, r.text
    body: dict[str, object] = r.json()
    return body


def _bearer(token: object, pem: bytes | None = None) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}", **_present(pem)}


def test_optional_accepts_none_and_binds_what_it_is_given(world: World) -> None:
    _register(world)
    with mtls_client(world, "optional") as client:
        meta = client.get("/.well-known/oauth-authorization-server").json()
        assert meta["tls_client_certificate_bound_access_tokens"] is True
        # No certificate: accepted, and the token is not bound.
        free = _token(client, world, None)["access_token"]
        assert "cnf" not in _introspect(client, world, free)
        assert client.get(STATUS, headers=_bearer(free)).status_code == 200
        assert client.get(STATUS, headers=_bearer(free, MINE)).status_code == 200
        # A registered certificate: the token is bound to it.
        bound = _token(client, world, MINE)["access_token"]
        cnf = _introspect(client, world, bound)["cnf"]
        der = certs.load_certificate(MINE).public_bytes(Encoding.DER)
        assert cnf == {"x5t#S256": certs.thumbprint(der)}
        assert client.get(STATUS, headers=_bearer(bound, MINE)).status_code == 200
        for pem in (None, MINE_TOO):
            r = client.get(STATUS, headers=_bearer(bound, pem))
            assert r.status_code == 401 and r.json()["error"] == "invalid_token", r.text
        # A certificate presented must be one of the application's.
        r = client.get(STATUS, headers=_bearer(free, STRANGER))
        assert r.status_code == 401 and r.json()["error"] == "invalid_client"
        r = client.post(
            "/oauth/token",
            data={"grant_type": "client_credentials"},
            headers={**world.basic(), **_present(STRANGER)},
        )
        assert r.status_code == 401 and r.json()["error"] == "invalid_client"
        assert "not registered" in r.json()["error_description"]


def test_a_refused_exchange_leaves_the_code_unused(world: World) -> None:
    _register(world)
    world.login()
    code = world.consent()["code"][0]
    form = {"grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT}
    with mtls_client(world, "required") as client:
        for pem in (None, STRANGER):
            r = client.post("/oauth/token", data=form, headers={**world.basic(), **_present(pem)})
            assert r.status_code == 401 and r.json()["error"] == "invalid_client", r.text
        r = client.post("/oauth/token", data=form, headers={**world.basic(), **_present(MINE)})
        assert r.status_code == 200, r.text
        tokens = r.json()
        seen = _introspect(client, world, tokens["access_token"])
        assert "x5t#S256" in seen["cnf"]  # type: ignore[operator]
        # The customer token, bound: its subscription with the certificate only.
        feed = (
            "/DataCustodian/espi/1_1/resource/"
            + str(tokens["resourceURI"]).split("/resource/", 1)[1]
        )
        assert client.get(feed, headers=_bearer(tokens["access_token"], MINE)).status_code == 200
        r = client.get(feed, headers=_bearer(tokens["access_token"], MINE_TOO))
        assert r.status_code == 401 and r.json()["error"] == "invalid_token"


def test_off_reads_no_certificate(world: World) -> None:
    _register(world)
    with mtls_client(world, "off") as client:
        meta = client.get("/.well-known/oauth-authorization-server").json()
        assert "tls_client_certificate_bound_access_tokens" not in meta
        token = _token(client, world, STRANGER)["access_token"]
        assert "cnf" not in _introspect(client, world, token)
        assert client.get(STATUS, headers=_bearer(token, STRANGER)).status_code == 200
