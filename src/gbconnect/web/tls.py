"""HTTPS served by ``gbconnect serve`` itself, with client certificates (mutual TLS).

- **The TLS context** (:func:`server_context`): TLS 1.2 at least (GBA FB_13, TC001-011:
  HTTPS only, TLS 1.2 or newer, weak ciphers refused); for TLS 1.2 only ECDHE key
  exchange with AES-GCM or ChaCha20-Poly1305 (:data:`CIPHERS`: no CBC, no RSA key
  exchange, no SHA-1 MAC); TLS 1.3's suites are all AEAD. With a client CA, a client
  certificate is *requested* but optional at the TLS layer (``CERT_OPTIONAL``), so
  that browsers, which have none, still reach the pages; a certificate presented is
  verified against the CA (a bad one ends the handshake). Whether the API demands
  one is the application's decision (GBCONNECT_MTLS, :mod:`gbconnect.oauth.mtls`).
- **The certificate in the ASGI scope**: uvicorn 0.54 does not implement the ASGI TLS
  extension (uvicorn issues #400 and #745; pull requests #1119, #3043 and #3133 are
  unmerged). :func:`tls_protocol` subclasses uvicorn's HTTP protocol class: once per
  connection, when it is made, it reads the peer certificate from the transport's
  ``ssl_object`` and wraps the application so that every request of the connection
  gets ``scope["extensions"]["tls"]`` as the ASGI TLS extension spec
  (asgiref ``specs/tls.rst``) draws it: ``client_cert_chain`` (the leaf's PEM: the
  ssl module of Python before 3.13 reaches no further), ``tls_version``,
  ``server_cert``/``client_cert_name``/``client_cert_error``/``cipher_suite`` None;
  and beside them the leaf's RFC 8705 thumbprint, computed once
  (:data:`gbconnect.oauth.mtls.THUMBPRINT_KEY`). A plain-HTTP connection gets none
  (the spec: the extension is absent when the connection is not TLS).
"""

from __future__ import annotations

import asyncio
import ssl
from pathlib import Path
from typing import Any

from starlette.types import ASGIApp, Receive, Scope, Send

from gbconnect.oauth.mtls import THUMBPRINT_KEY
from gbconnect.registration.thumbprints import thumbprint

#: TLS 1.2 suites allowed (OpenSSL names): ECDHE (forward secrecy) with an AEAD cipher.
CIPHERS = "ECDHE+AESGCM:ECDHE+CHACHA20:!aNULL:!eNULL:!DSS:!PSK:!SRP"
#: ASGI TLS extension ``tls_version`` numbers (the protocol's own code points).
TLS_VERSIONS = {"TLSv1.2": 0x0303, "TLSv1.3": 0x0304}


def server_context(cert: Path, key: Path, client_ca: Path | None = None) -> ssl.SSLContext:
    """The server's TLS context (see the module's docstring)."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    context.set_ciphers(CIPHERS)
    context.options |= ssl.OP_NO_COMPRESSION | ssl.OP_CIPHER_SERVER_PREFERENCE
    context.options |= ssl.OP_NO_RENEGOTIATION
    context.load_cert_chain(str(cert), str(key))
    if client_ca is not None:
        context.load_verify_locations(cafile=str(client_ca))
        context.verify_mode = ssl.CERT_OPTIONAL
    else:
        context.verify_mode = ssl.CERT_NONE
    return context


def tls_extension(transport: asyncio.BaseTransport) -> dict[str, Any] | None:
    """The ASGI TLS extension of a connection, None when it is not TLS."""
    ssl_object = transport.get_extra_info("ssl_object")
    if ssl_object is None:
        return None
    der = ssl_object.getpeercert(binary_form=True)
    chain: tuple[str, ...] = () if not der else (ssl.DER_cert_to_PEM_cert(der),)
    extension: dict[str, Any] = {
        "server_cert": None,
        "client_cert_chain": chain,
        "client_cert_name": None,
        "client_cert_error": None,
        "tls_version": TLS_VERSIONS.get(ssl_object.version() or ""),
        "cipher_suite": None,
    }
    if der:
        extension[THUMBPRINT_KEY] = thumbprint(der)
    return extension


class _WithTls:
    """The application, with one connection's TLS extension in every scope."""

    __slots__ = ("app", "extension")

    def __init__(self, app: ASGIApp, extension: dict[str, Any]) -> None:
        self.app = app
        self.extension = extension

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] in ("http", "websocket"):
            extensions = scope.get("extensions")
            if extensions is None:
                scope["extensions"] = extensions = {}
            extensions["tls"] = self.extension
        await self.app(scope, receive, send)


def tls_protocol(base: type[asyncio.Protocol]) -> type[asyncio.Protocol]:
    """``base`` (uvicorn's h11 or httptools protocol class) telling the application
    each connection's TLS parameters and client certificate."""

    class TlsProtocol(base):  # type: ignore[valid-type,misc]
        def connection_made(self, transport: asyncio.BaseTransport) -> None:
            super().connection_made(transport)
            extension = tls_extension(transport)
            if extension is not None:
                self.app = _WithTls(self.app, extension)  # type: ignore[has-type]

    TlsProtocol.__name__ = TlsProtocol.__qualname__ = f"Tls{base.__name__}"
    return TlsProtocol


def http_protocol() -> type[asyncio.Protocol]:
    """uvicorn's own choice of HTTP protocol (httptools when installed, else h11),
    with the TLS extension."""
    try:
        from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

        return tls_protocol(HttpToolsProtocol)
    except ImportError:  # pragma: no cover - httptools is a dependency of uvicorn[standard]
        from uvicorn.protocols.http.h11_impl import H11Protocol

        return tls_protocol(H11Protocol)


__all__ = ["CIPHERS", "http_protocol", "server_context", "tls_extension", "tls_protocol"]
