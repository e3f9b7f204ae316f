"""Where the API finds the client certificate, and what it refuses (RFC 8705;
gbconnect.oauth.mtls). Requests are Starlette's own, made from an ASGI scope."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any
from urllib.parse import quote

import pytest
from cryptography.hazmat.primitives.serialization import Encoding
from starlette.requests import Request

from gbconnect.config import load_settings
from gbconnect.oauth import mtls
from gbconnect.registration.certificates import load_certificate, thumbprint
from tests.factories.certificates import make_cert

PEM = make_cert("unit.example")
OTHER = make_cert("other.example")


def _print(pem: bytes) -> str:
    return thumbprint(load_certificate(pem).public_bytes(Encoding.DER))


def _request(peer: str, headers: dict[str, str], tls: dict[str, Any] | None = None) -> Request:
    scope: dict[str, Any] = {
        "type": "http",
        "method": "GET",
        "path": "/",
        "headers": [(k.lower().encode(), v.encode()) for k, v in headers.items()],
        "client": (peer, 40000),
    }
    if tls is not None:
        scope["extensions"] = {"tls": tls}
    return Request(scope)


def test_pem_thumbprint() -> None:
    assert mtls.pem_thumbprint(PEM.decode()) == _print(PEM)
    assert mtls.pem_thumbprint("garbage") is None


def test_sources_of_the_certificate() -> None:
    header = {"X-Client-Cert": quote(PEM.decode(), safe="")}
    tls = {"client_cert_chain": (OTHER.decode(),)}
    proxied = load_settings(
        mtls="required", mtls_cert_header="X-Client-Cert", trusted_proxies="10.0.0.0/8"
    )
    # From a trusted proxy, its header wins (the TLS connection is the proxy's own).
    assert mtls.presented_thumbprint(_request("10.1.2.3", header, tls), proxied) == _print(PEM)
    assert mtls.presented_thumbprint(_request("10.1.2.3", {}, tls), proxied) is None
    # From anyone else the header is ignored; the connection's certificate counts.
    assert mtls.presented_thumbprint(_request("192.0.2.9", header, tls), proxied) == _print(OTHER)
    assert mtls.presented_thumbprint(_request("192.0.2.9", header), proxied) is None
    assert mtls.presented_thumbprint(_request("not-an-ip", header), proxied) is None
    # The thumbprint the TLS layer computed once per connection is used as it is.
    cached = {"client_cert_chain": (OTHER.decode(),), mtls.THUMBPRINT_KEY: "x" * 43}
    assert mtls.presented_thumbprint(_request("192.0.2.9", {}, cached), proxied) == "x" * 43
    # Off: nothing is read.
    off = load_settings()
    assert mtls.presented_thumbprint(_request("192.0.2.9", header, tls), off) is None


def _row(**values: Any) -> SimpleNamespace:
    base = {
        "token_cnf": None,
        "cert_id": 1,
        "cert_not_before": 0,
        "cert_not_after": 2000,
        "cert_revoked_at": None,
    }
    return SimpleNamespace(**{**base, **values})


@pytest.mark.parametrize(
    ("row", "presented", "mode", "refused"),
    [
        (_row(), None, "off", None),
        (_row(), None, "optional", None),
        (_row(), None, "required", "required"),
        (_row(), "p", "required", None),
        (_row(cert_id=None), "p", "optional", "not registered"),
        (_row(cert_revoked_at=5), "p", "required", "revoked"),
        (_row(cert_not_after=1000), "p", "required", "expired"),
        (_row(cert_not_before=1500), "p", "required", "not yet valid"),
        (_row(token_cnf="p"), "p", "required", None),
        (_row(token_cnf="p"), "q", "required", "bound"),
        (_row(token_cnf="p"), None, "off", "bound"),
    ],
)
def test_refusal(
    row: SimpleNamespace, presented: str | None, mode: str, refused: str | None
) -> None:
    found = mtls.refusal(row, presented, mode, 1200)
    if refused is None:
        assert found is None
    else:
        assert found is not None and refused in found[1]
        assert found[0] == ("invalid_token" if refused == "bound" else "invalid_client")
