"""Mutual TLS at the API and certificate-bound access tokens (RFC 8705).

The client certificate of a request comes from one of two places:

* the TLS connection itself, when ``gbconnect serve --tls-cert ... --client-ca ...``
  terminates TLS: the ASGI TLS extension's ``client_cert_chain``
  (``scope["extensions"]["tls"]``, put there by :mod:`gbconnect.web.tls`, which also
  leaves the leaf's thumbprint under :data:`THUMBPRINT_KEY`, once per connection);
* a TLS-terminating proxy's header (GBCONNECT_MTLS_CERT_HEADER: URL-encoded PEM, as
  nginx's ``$ssl_client_escaped_cert``), believed only when the connection's peer is
  one of GBCONNECT_TRUSTED_PROXIES; from anyone else the header is ignored.

What is done with it (GBCONNECT_MTLS): :func:`gbconnect.oauth.guard.caller_of`
checks it against the token's application on the API, in the token's own lookup row
(no further query); :func:`check_token_request` at the token endpoint; an access
token issued over a certificate carries its thumbprint (``cnf`` ``x5t#S256``, RFC
8705 section 3.1) and is refused with any other certificate or none.
"""

from __future__ import annotations

import ssl
from functools import lru_cache
from ipaddress import ip_address
from typing import Any
from urllib.parse import unquote

from authlib.oauth2.rfc6749.errors import InvalidClientError
from sqlalchemy import select
from sqlalchemy.orm import Session
from starlette.requests import Request

from gbconnect.config import Settings
from gbconnect.registration import models as rm
from gbconnect.registration.thumbprints import thumbprint

OFF, OPTIONAL, REQUIRED = "off", "optional", "required"
#: Where :mod:`gbconnect.web.tls` leaves the client certificate's thumbprint, beside
#: the ASGI TLS extension's keys.
THUMBPRINT_KEY = "gbconnect.x5t#S256"

#: RFC 8705 section 2 / RFC 6750 section 3.1 wording of each refusal.
REQUIRED_MESSAGE = (
    "a client certificate registered to this application is required (mutual TLS, "
    "RFC 8705 section 2)"
)
UNKNOWN_MESSAGE = "the client certificate is not registered to this application"
REVOKED_MESSAGE = "the client certificate is revoked"
EXPIRED_MESSAGE = "the client certificate is expired or not yet valid"
BOUND_MESSAGE = (
    "the access token is bound to another client certificate than the one presented "
    "(RFC 8705 section 3)"
)


def pem_thumbprint(pem: str) -> str | None:
    """The ``x5t#S256`` of a PEM certificate, None when it is not one."""
    try:
        return thumbprint(ssl.PEM_cert_to_DER_cert(pem.strip()))
    except (ValueError, TypeError):
        return None


def _from_tls(scope: Any) -> str | None:
    extensions = scope.get("extensions")
    tls = extensions.get("tls") if extensions else None
    if not tls:
        return None
    cached = tls.get(THUMBPRINT_KEY)
    if cached:
        return str(cached)
    chain = tls.get("client_cert_chain")
    if not chain:
        return None
    return pem_thumbprint(next(iter(chain)))


def _from_proxy(request: Request, settings: Settings) -> tuple[bool, str | None]:
    """(believed, thumbprint): whether the peer is a trusted proxy, and the
    certificate its header names (None: it named none)."""
    header = settings.mtls_cert_header
    if not header or request.client is None:
        return False, None
    try:
        peer = ip_address(request.client.host)
    except ValueError:
        return False, None
    if not any(peer in net for net in settings.trusted_networks):
        return False, None
    value = request.headers.get(header)
    if not value:
        return True, None
    return True, _header_thumbprint(value)


@lru_cache(maxsize=1024)
def _header_thumbprint(value: str) -> str | None:
    """The thumbprint of a proxy header's URL-encoded PEM (cached: a third party polls
    with the same certificate again and again)."""
    return pem_thumbprint(unquote(value))


def presented_thumbprint(request: Request, settings: Settings) -> str | None:
    """The ``x5t#S256`` of the client certificate the request presented; None when
    it presented none, or when GBCONNECT_MTLS is off."""
    if settings.mtls == OFF:
        return None
    believed, found = _from_proxy(request, settings)
    if believed:
        return found
    return _from_tls(request.scope)


def refusal(row: Any, presented: str | None, mode: str, at: int) -> tuple[str, str] | None:
    """Why a client or customer access token's request is refused for its
    certificate, as (error, description), or None. ``row`` carries the token's
    ``token_cnf`` and the presented certificate as registered to the token's
    application (``cert_id``, ``cert_not_before``, ``cert_not_after``,
    ``cert_revoked_at``; ``cert_id`` None when it is not)."""
    bound = row.token_cnf
    if bound is not None and presented != bound:
        return "invalid_token", BOUND_MESSAGE
    if mode == OFF:
        return None
    if presented is None:
        return ("invalid_client", REQUIRED_MESSAGE) if mode == REQUIRED else None
    if row.cert_id is None:
        return "invalid_client", UNKNOWN_MESSAGE
    if row.cert_revoked_at is not None:
        return "invalid_client", REVOKED_MESSAGE
    if not row.cert_not_before <= at < row.cert_not_after:
        return "invalid_client", EXPIRED_MESSAGE
    return None


def token_request_refusal(
    mode: str, is_public: bool, presented: str | None, cert: Any, at: int
) -> str | None:
    """Why a token request is refused for its client certificate (the
    ``error_description`` of its ``invalid_client``), or None. ``cert`` is the
    presented certificate as registered to the client (``not_before``, ``not_after``,
    ``revoked_at``), None when it is not (RFC 8705 section 2)."""
    if mode == OFF:
        return None
    if presented is None:
        return REQUIRED_MESSAGE if mode == REQUIRED and not is_public else None
    if cert is None:
        return UNKNOWN_MESSAGE
    if cert.revoked_at is not None:
        return REVOKED_MESSAGE
    if not cert.not_before <= at < cert.not_after:
        return EXPIRED_MESSAGE
    return None


def check_token_request(
    session: Session,
    settings: Settings,
    app: rm.ApplicationInformation,
    presented: str | None,
    at: int,
) -> None:
    """At the token endpoint, after the client authenticated and before anything of
    the grant is used: a confidential client must present a current certificate of
    its own when mTLS is required; any certificate presented must be one (RFC 8705
    section 2; :func:`token_request_refusal`). Raises Authlib's ``invalid_client``
    (401)."""
    if settings.mtls == OFF:
        return
    cert = None
    if presented is not None:
        cert = session.execute(
            select(
                rm.ApplicationCertificate.not_before,
                rm.ApplicationCertificate.not_after,
                rm.ApplicationCertificate.revoked_at,
            ).where(
                rm.ApplicationCertificate.thumbprint == presented,
                rm.ApplicationCertificate.application_id == app.id,
            )
        ).first()
    why = token_request_refusal(settings.mtls, app.is_public, presented, cert, at)
    if why is not None:
        raise InvalidClientError(description=why, status_code=401)


__all__ = [
    "OFF",
    "OPTIONAL",
    "REQUIRED",
    "THUMBPRINT_KEY",
    "check_token_request",
    "pem_thumbprint",
    "presented_thumbprint",
    "refusal",
    "token_request_refusal",
]
