"""HTTP plumbing shared by the OAuth and resource clients: the httpx client a caller
did not give, ``Retry-After`` (RFC 9110 section 10.2.3) and exponential backoff with
full jitter for 429 (RFC 6585 section 4) and transient 5xx answers.
"""

from __future__ import annotations

import email.utils
import os
import random
import ssl
import time

import httpx

#: Statuses worth another try after a wait: too many requests, and the gateway or
#: service being briefly unavailable.
RETRYABLE = frozenset({429, 502, 503, 504})

#: User-Agent of the SDK's requests.
USER_AGENT = "gbconnect-client/0.1"


def tls_context(
    cert: str | tuple[str, str] | None = None, verify: bool | str | ssl.SSLContext = True
) -> ssl.SSLContext:
    """The TLS context of the SDK's requests: ``verify`` True (httpx's default trust
    store), False (no verification: tests only), a CA file or directory, or a ready
    context; ``cert`` the client certificate for mutual TLS (RFC 8705): one PEM file
    holding the key and the chain, or ``(certificate file, key file)``."""
    if isinstance(verify, ssl.SSLContext):
        ctx = verify
    elif isinstance(verify, str):
        ctx = (
            ssl.create_default_context(capath=verify)
            if os.path.isdir(verify)
            else ssl.create_default_context(cafile=verify)
        )
    else:
        ctx = httpx.create_ssl_context(verify=verify)
    if cert is not None:
        if isinstance(cert, str):
            ctx.load_cert_chain(cert)
        else:
            ctx.load_cert_chain(cert[0], cert[1])
    return ctx


def make_http(
    *,
    cert: str | tuple[str, str] | None = None,
    verify: bool | str | ssl.SSLContext = True,
    timeout: float = 30.0,
) -> httpx.Client:
    """An httpx client with the caller's TLS client certificate (RFC 8705 mutual TLS)
    and trust settings (see :func:`tls_context`)."""
    return httpx.Client(
        verify=tls_context(cert, verify), timeout=timeout, headers={"User-Agent": USER_AGENT}
    )


def retry_after(value: str | None, now: float | None = None) -> float | None:
    """Seconds to wait from a ``Retry-After`` header: delay-seconds or an HTTP-date
    (RFC 9110 section 10.2.3); ``None`` when absent or unreadable."""
    if value is None:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        return None
    current = time.time() if now is None else now
    return max(0.0, when.timestamp() - current)


def backoff(attempt: int, cap: float, hint: float | None = None) -> float:
    """The wait before try ``attempt + 1`` (``attempt`` counts from 0): the server's
    ``Retry-After`` when it gave one (capped at ``cap``), else exponential backoff with
    full jitter, ``uniform(0, min(cap, 2**attempt))`` but at least 0.1 s."""
    if hint is not None:
        return min(cap, hint)
    return max(0.1, random.uniform(0.0, min(cap, float(2**attempt))))
