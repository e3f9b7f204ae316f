"""One delivery attempt of a notification to a third party (GBA PSH001-PSH004).

The Data Custodian POSTs a ``BatchList`` to the third party's ``thirdPartyNotifyUri``
and the third party answers 200 (STANDARD.md section 3, REQ.21 FB_39). GBA test PSH004
requires the Data Custodian to detect a failed POST: :func:`deliver` makes exactly one
POST and classifies its result as an :class:`Attempt` whose ``outcome`` says what to do
next -- ``delivered``, ``retry`` (the receiver may answer later) or ``dead`` (it refuses
the notification; retrying will not help). It never raises for the receiver's fault.

:func:`check_notify_uri` is the guard applied to a notify URI before it is stored or
used: an absolute http(s) URI whose host resolves only to public addresses, so that a
registration cannot make the Data Custodian POST into its own network (SSRF).

Durable notifications (issue 10) build on these two functions: a job table written in
the changing transaction, retries with backoff of each ``retry`` attempt, and a dead
letter for ``dead`` attempts and for retries that run out.
"""

from __future__ import annotations

import contextlib
import ipaddress
import socket
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal
from urllib.parse import urlsplit

import httpx

from gbconnect.errors import InputError

Outcome = Literal["delivered", "retry", "dead"]
IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

#: Client errors that say "not now" rather than "never" (RFC 9110 15.5.9, RFC 6585 4).
_RETRYABLE_4XX = frozenset({408, 429})


class NotifyUriError(InputError):
    """A notify URI is not an absolute http(s) URI of a public host."""

    error = "invalid_notify_uri"


@dataclass(frozen=True)
class Attempt:
    """The result of one POST of a notification (GBA PSH004: a failed POST is detected).

    ``status`` is the HTTP status answered, ``None`` when there was no answer;
    ``latency_ms`` the time from the start of the attempt to its end; ``error`` what
    went wrong, ``None`` when delivered.
    """

    outcome: Outcome
    status: int | None
    latency_ms: int
    error: str | None


def outcome_of(status: int) -> Outcome:
    """The outcome of an answer with HTTP ``status``: 2xx is ``delivered``; 408, 429,
    5xx and 3xx (redirects are not followed) are ``retry``; any other status is
    ``dead``."""
    if 200 <= status < 300:
        return "delivered"
    if status in _RETRYABLE_4XX or 300 <= status < 400 or status >= 500:
        return "retry"
    return "dead"


def deliver(
    url: str,
    body: bytes,
    headers: Mapping[str, str],
    *,
    connect_timeout: float = 5,
    read_timeout: float = 10,
    max_response_bytes: int = 64 * 1024,
    client: httpx.Client | None = None,
    sni: str | None = None,
) -> Attempt:
    """POST ``body`` (a ``BatchList``, ``Content-Type: application/xml``) to ``url``
    once (GBA PSH001-PSH004) and classify the result.

    A refused or reset connection, a timeout, 408, 429, a 3xx (redirects are not
    followed) and a 5xx are ``retry``; any other 4xx is ``dead``; a 2xx is
    ``delivered``. At most ``max_response_bytes`` of the answer are read.
    ``client`` is a kept-alive client to reuse (made with :func:`notify_client`); its
    timeouts are replaced by the ones given here. ``sni``: the host name TLS checks the
    certificate against when ``url`` names an address (:func:`resolve_notify_uri`).
    """
    sent = httpx.Headers(dict(headers))
    sent["Content-Type"] = "application/xml"
    timeout = httpx.Timeout(
        connect=connect_timeout, read=read_timeout, write=read_timeout, pool=connect_timeout
    )
    start = time.monotonic()
    status: int | None = None
    try:
        with (
            contextlib.nullcontext(client) if client is not None else notify_client() as http,
            http.stream(
                "POST",
                url,
                content=body,
                headers=sent,
                timeout=timeout,
                extensions={"sni_hostname": sni} if sni else None,
            ) as response,
        ):
            status = response.status_code
            _read_at_most(response, max_response_bytes)
    except (httpx.InvalidURL, httpx.UnsupportedProtocol) as exc:
        return Attempt("dead", None, _since(start), f"invalid notify URI: {exc}")
    except httpx.TimeoutException as exc:
        if status is None:
            return Attempt("retry", None, _since(start), f"timeout: {type(exc).__name__}")
    except httpx.HTTPError as exc:
        if status is None:
            return Attempt("retry", None, _since(start), f"{type(exc).__name__}: {exc}")
    if status is None:
        return Attempt("retry", None, _since(start), "no answer")
    outcome = outcome_of(status)
    error = None if outcome == "delivered" else f"HTTP {status}"
    return Attempt(outcome, status, _since(start), error)


def notify_client() -> httpx.Client:
    """An HTTP client for notifications: redirects not followed (a 3xx is a failed
    attempt), no proxy or credentials taken from the environment."""
    return httpx.Client(follow_redirects=False, trust_env=False)


def _read_at_most(response: httpx.Response, limit: int) -> None:
    """Read the answer's body up to ``limit`` bytes; the rest is left unread."""
    read = 0
    for chunk in response.iter_raw():
        read += len(chunk)
        if read >= limit:
            return


def _since(start: float) -> int:
    return round((time.monotonic() - start) * 1000)


def check_notify_uri(uri: str, allow_private: bool) -> str:
    """``uri`` if it is an absolute http(s) URI whose host resolves only to public
    addresses (the ``thirdPartyNotifyUri`` of STANDARD.md section 3, GBA PSH001).

    A host resolving to a loopback, private, link-local, unspecified or otherwise
    non-global address is refused unless ``allow_private`` (development), so that a
    registered notify URI cannot reach the Data Custodian's own network (SSRF).
    Raises :class:`NotifyUriError` naming what is wrong.
    """
    try:
        parts = urlsplit(uri)
        port = parts.port
    except ValueError as exc:
        raise NotifyUriError(f"notify URI {uri!r} is malformed: {exc}") from None
    if parts.scheme not in ("http", "https"):
        raise NotifyUriError(f"notify URI {uri!r} must be an absolute http or https URI")
    host = parts.hostname
    if not host:
        raise NotifyUriError(f"notify URI {uri!r} has no host")
    if allow_private:
        return uri
    for address in _addresses(uri, host, port or (443 if parts.scheme == "https" else 80)):
        problem = _non_public(address)
        if problem:
            raise NotifyUriError(
                f"notify URI {uri!r} resolves to {problem} address {address}; "
                "only public hosts may be notified"
            )
    return uri


@dataclass(frozen=True)
class Target:
    """Where a notification goes, resolved once: ``url`` names the address that was
    checked, ``host`` is the ``Host`` header of the URI as registered, and ``sni`` the
    server name TLS is checked against (https with a host name). Connecting to the
    checked address closes the gap between the check and the connection that a DNS
    answer changed in between (DNS rebinding) would use."""

    url: str
    host: str
    sni: str | None


def resolve_notify_uri(uri: str, allow_private: bool) -> Target:
    """Check ``uri`` as :func:`check_notify_uri` does and pin it to an address its
    host resolves to, IPv4 first (raises :class:`NotifyUriError`)."""
    check_notify_uri(uri, allow_private=True)  # the form; the addresses below
    parts = urlsplit(uri)
    host = parts.hostname or ""
    port = parts.port or (443 if parts.scheme == "https" else 80)
    addresses = _addresses(uri, host, port)
    if not allow_private:
        for address in addresses:
            problem = _non_public(address)
            if problem:
                raise NotifyUriError(
                    f"notify URI {uri!r} resolves to {problem} address {address}; "
                    "only public hosts may be notified"
                )
    if not addresses:
        raise NotifyUriError(f"notify URI {uri!r}: host {host!r} does not resolve")
    address = min(addresses, key=lambda a: a.version)  # IPv4 first, else the first
    literal = f"[{address}]" if address.version == 6 else str(address)
    netloc = f"{literal}:{parts.port}" if parts.port else literal
    pinned = parts._replace(netloc=netloc).geturl()
    named = host != str(address) and not host.startswith("[")
    header = parts.netloc.rsplit("@", 1)[-1]
    return Target(pinned, header, host if parts.scheme == "https" and named else None)


def _addresses(uri: str, host: str, port: int) -> list[IPAddress]:
    try:
        return [ipaddress.ip_address(host)]
    except ValueError:
        pass
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError) as exc:
        raise NotifyUriError(
            f"notify URI {uri!r}: host {host!r} does not resolve ({exc})"
        ) from None
    return [ipaddress.ip_address(str(info[4][0]).split("%", 1)[0]) for info in infos]


def _non_public(address: IPAddress) -> str | None:
    """What kind of non-public address ``address`` is, ``None`` when it is public."""
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    for kind in ("loopback", "unspecified", "link_local", "private", "multicast", "reserved"):
        if getattr(address, f"is_{kind}"):
            return kind.replace("_", "-")
    if not address.is_global:
        return "non-global"
    return None
