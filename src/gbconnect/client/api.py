"""The resource client of a third party (REQ.21 section 1 paths): a Bearer GET that
waits out 429 (RFC 6585 section 4, ``Retry-After``), refreshes an expired token once
(RFC 6749 section 6; client credentials when there is no refresh token), turns 202
into :class:`Pending` (the package comes later by notification, FB_39; so does the
GBA's 400 "An unprocessed batch request for the same resource already exists") and
any other error into :class:`ApiError`.
"""

from __future__ import annotations

import ssl
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import httpx
from lxml import etree

from gbconnect.client.http import RETRYABLE, backoff, make_http, retry_after
from gbconnect.client.oauth import Endpoints, OAuthClient, OAuthError, TokenSet
from gbconnect.client.parser.entries import entries
from gbconnect.client.parser.errors import FeedError
from gbconnect.client.parser.hardened import parse_document
from gbconnect.client.parser.namespaces import ESPI
from gbconnect.client.receiver import Notification

#: GBA (2024): a 400 with this sentence counts as 202 (a package is already coming).
DUPLICATE_BATCH = "An unprocessed batch request for the same resource already exists"

_IDEMPOTENT = frozenset({"GET", "HEAD", "PUT", "DELETE", "OPTIONS"})

_ATOM_XML = "application/atom+xml, application/xml;q=0.9, */*;q=0.1"


@dataclass(frozen=True)
class Pending:
    """202 Accepted: the Data Custodian prepares the package and POSTs a BatchList
    naming it when ready (REQ.21 FB_39). ``retry_after`` is the server's hint (seconds)
    if it gave one."""

    url: str
    retry_after: float | None


class ApiError(Exception):
    """A resource request that failed. ``status`` is the HTTP status (``None`` when no
    answer came), ``url`` the URL asked, ``message`` the server's sentence (the first
    500 characters of the body), ``error`` the ESPI/OAuth error code if the body or the
    ``WWW-Authenticate`` header named one."""

    def __init__(
        self, status: int | None, url: str, message: str, error: str | None = None
    ) -> None:
        self.status = status
        self.url = url
        self.message = message
        self.error = error
        what = f"HTTP {status}" if status is not None else "no answer"
        code = f" {error}" if error else ""
        super().__init__(f"{what}{code} from {url}: {message}")


class PendingError(ApiError):
    """:meth:`DataCustodianClient.stream` got 202 Accepted: there is nothing to stream
    yet; ``pending`` says where the package will be."""

    def __init__(self, pending: Pending) -> None:
        super().__init__(
            202, pending.url, "the package is being prepared; it will be notified", "pending"
        )
        self.pending = pending


class DataCustodianClient:
    """GETs a third party's resources with its tokens. Give ``oauth`` to refresh
    expired tokens; ``on_tokens`` is called with each new :class:`TokenSet` (store it:
    the old refresh token died)."""

    def __init__(
        self,
        endpoints: Endpoints,
        tokens: TokenSet,
        *,
        oauth: OAuthClient | None = None,
        on_tokens: Callable[[TokenSet], None] | None = None,
        cert: str | tuple[str, str] | None = None,
        verify: bool | str | ssl.SSLContext = True,
        http: httpx.Client | None = None,
        max_retries: int = 5,
        backoff_cap: float = 60.0,
        timeout: float = 30.0,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.endpoints = endpoints
        self.tokens = tokens
        self.oauth = oauth
        self.on_tokens = on_tokens
        self.http = http or make_http(cert=cert, verify=verify, timeout=timeout)
        self.max_retries = max_retries
        self.backoff_cap = backoff_cap
        self.sleep = sleep

    def __repr__(self) -> str:  # never show a token
        return f"DataCustodianClient(resource_base={self.endpoints.resource_base!r})"

    # -- the request loop -----------------------------------------------------------

    def url(self, url_or_path: str) -> str:
        """An absolute URL as is; a path under the resource base otherwise."""
        if "://" in url_or_path:
            return url_or_path
        return self.endpoints.resource(url_or_path)

    def get(self, url_or_path: str, params: Mapping[str, str] | None = None) -> bytes | Pending:
        """The body of a GET, or :class:`Pending` on 202. Raises :class:`ApiError`."""
        url = self.url(url_or_path)
        with self._send(url, params) as r:
            if r.status_code == 202:
                return _pending(r, url)
            return r.read()

    @contextmanager
    def stream(
        self, url_or_path: str, params: Mapping[str, str] | None = None
    ) -> Iterator[Iterator[bytes]]:
        """A GET whose body comes in chunks (a big Batch/Bulk); the same retry and
        refresh rules as :meth:`get`. On 202 it raises :class:`PendingError` (an
        :class:`ApiError` with status 202 and ``.pending``)::

            with client.stream(tokens.resource_uri) as chunks:
                for reading in readings(chunks): ...
        """
        url = self.url(url_or_path)
        with self._send(url, params) as r:
            if r.status_code == 202:
                raise PendingError(_pending(r, url))
            yield r.iter_bytes()

    def request(
        self,
        method: str,
        url_or_path: str,
        *,
        params: Mapping[str, str] | None = None,
        content: bytes | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> httpx.Response:
        """Any request (PUT or DELETE of an Authorization, FB_41; of an
        ApplicationInformation, FB_44; a conformance check) with the same token,
        refresh and retry rules as :meth:`get`, answering the response whatever its
        status, its body read. Raises :class:`ApiError` only when no answer came."""
        url = self.url(url_or_path)
        with self._send(
            url, params, method=method.upper(), content=content, headers=headers, check=False
        ) as r:
            r.read()
            return r

    @contextmanager
    def _send(
        self,
        url: str,
        params: Mapping[str, str] | None,
        *,
        method: str = "GET",
        content: bytes | None = None,
        headers: Mapping[str, str] | None = None,
        check: bool = True,
    ) -> Iterator[httpx.Response]:
        attempt = 0
        refreshed = False
        if self.oauth is not None and self.tokens.expired():
            self._refresh(url)
            refreshed = True
        while True:
            request = self.http.build_request(
                method,
                url,
                params=dict(params) if params else None,
                content=content,
                headers={
                    "Accept": _ATOM_XML,
                    **(headers or {}),
                    "Authorization": f"Bearer {self.tokens.access_token}",
                },
            )
            try:
                r = self.http.send(request, stream=True)
            except httpx.HTTPError as exc:
                # A request that may not have been sent is sent again only when
                # repeating it is harmless (RFC 9110 section 9.2.2).
                if (
                    attempt < self.max_retries
                    and isinstance(exc, httpx.TransportError)
                    and method in _IDEMPOTENT
                ):
                    self.sleep(backoff(attempt, self.backoff_cap))
                    attempt += 1
                    continue
                raise ApiError(None, url, str(exc) or type(exc).__name__) from None
            try:
                status = r.status_code
                if status in RETRYABLE and attempt < self.max_retries:
                    r.close()
                    hint = retry_after(r.headers.get("retry-after"))
                    self.sleep(backoff(attempt, self.backoff_cap, hint))
                    attempt += 1
                    continue
                if status == 401 and self.oauth is not None and not refreshed:
                    r.close()
                    self._refresh(url)
                    refreshed = True
                    continue
                if status >= 400 and check:
                    error = _api_error(r, url)
                    if status == 400 and DUPLICATE_BATCH in error.message:
                        # GBA: this 400 counts as 202, the first request's package comes.
                        r.status_code = 202
                        yield r
                        return
                    raise error
                yield r
                return
            finally:
                r.close()

    def _refresh(self, url: str) -> None:
        assert self.oauth is not None
        try:
            if self.tokens.refresh_token:
                fresh = self.oauth.refresh(self.tokens)
            else:
                fresh = self.oauth.client_credentials(self.tokens.scope)
                fresh = _keep_uris(fresh, self.tokens)
        except OAuthError as exc:
            raise ApiError(
                exc.status or 401, url, f"refreshing the token failed: {exc}", exc.error
            ) from None
        self.tokens = fresh
        if self.on_tokens is not None:
            self.on_tokens(fresh)

    # -- REQ.21 resources -------------------------------------------------------------

    def _document(self, url_or_path: str) -> tuple[str, bytes]:
        url = self.url(url_or_path)
        body = self.get(url)
        if isinstance(body, Pending):
            raise PendingError(body)
        return url, body

    def read_service_status(self) -> int:
        """ReadServiceStatus ``currentStatus`` (1 = up; GBA FND006)."""
        url, body = self._document("ReadServiceStatus")
        root = parse_document(body)
        text = next(iter(root.iter(f"{{{ESPI}}}currentStatus")), None)
        value = (text.text or "").strip() if text is not None else ""
        if not value.isdigit():
            raise FeedError(f"{url} holds no ServiceStatus/currentStatus", _line(root))
        return int(value)

    def application_information(self, url_or_id: str | None = None) -> dict[str, Any]:
        """One ApplicationInformation (GBA FND002) as a dict of its fields. ``None``:
        the token's own (``ApplicationInformation`` must then hold exactly one)."""
        url = self._member("ApplicationInformation", url_or_id)
        found = entries(parse_document(self._document(url)[1]), "ApplicationInformation")
        if len(found) != 1:
            raise FeedError(f"{url} holds {len(found)} ApplicationInformation entries, not 1")
        return found[0]

    def authorizations(self) -> list[dict[str, Any]]:
        """The Authorization feed (GBA FND003): this third party's authorizations."""
        return entries(parse_document(self._document("Authorization")[1]), "Authorization")

    def authorization(self, url_or_id: str) -> dict[str, Any]:
        """One Authorization (status 0 revoked, 1 active, 2 denied; resourceURI...)."""
        url = self._member("Authorization", url_or_id)
        found = entries(parse_document(self._document(url)[1]), "Authorization")
        if len(found) != 1:
            raise FeedError(f"{url} holds {len(found)} Authorization entries, not 1")
        return found[0]

    def subscription(
        self, url: str | None = None, params: Mapping[str, str] | None = None
    ) -> bytes | Pending:
        """Batch/Subscription (GBA FND004): by default the customer token's
        ``resourceURI``."""
        return self.get(self._default(url), params)

    def bulk(
        self, url: str | None = None, params: Mapping[str, str] | None = None
    ) -> bytes | Pending:
        """Batch/Bulk (REQ.21 FB_35, GBA RBK001): by default the client token's
        ``resourceURI``."""
        return self.get(self._default(url), params)

    def fetch_notified(self, notification: Notification) -> Iterator[tuple[str, bytes | Pending]]:
        """GET each resource a BatchList notification named (PSH001-003), in order."""
        for url in notification.resources:
            yield url, self.get(url)

    def _member(self, collection: str, url_or_id: str | None) -> str:
        if url_or_id is None:
            return collection
        if "://" in url_or_id or url_or_id.startswith("/"):
            return url_or_id
        return f"{collection}/{url_or_id}"

    def _default(self, url: str | None) -> str:
        chosen = url or self.tokens.resource_uri
        if not chosen:
            raise ValueError("the token set names no resourceURI: pass the URL")
        return chosen

    def close(self) -> None:
        """Close the HTTP client (also when it was given)."""
        self.http.close()

    def __enter__(self) -> DataCustodianClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _pending(r: httpx.Response, url: str) -> Pending:
    """The :class:`Pending` of a 202: ``Location`` names the package when given."""
    location = r.headers.get("location")
    where = str(r.url.join(location)) if location else url
    return Pending(where, retry_after(r.headers.get("retry-after")))


def _keep_uris(fresh: TokenSet, old: TokenSet) -> TokenSet:
    fresh.resource_uri = fresh.resource_uri or old.resource_uri
    fresh.authorization_uri = fresh.authorization_uri or old.authorization_uri
    fresh.customer_resource_uri = fresh.customer_resource_uri or old.customer_resource_uri
    return fresh


def _api_error(r: httpx.Response, url: str) -> ApiError:
    body = r.read()
    text = body.decode("utf-8", "replace")
    error: str | None = None
    message = text[:500]
    if "json" in r.headers.get("content-type", ""):
        try:
            data = r.json()
        except ValueError:
            data = None
        if isinstance(data, dict):
            if isinstance(data.get("error"), str):
                error = data["error"]
            desc = data.get("error_description") or data.get("message")
            if isinstance(desc, str):
                message = desc[:500]
    if error is None:
        challenge = r.headers.get("www-authenticate", "")
        marker = 'error="'
        if marker in challenge:
            error = challenge.split(marker, 1)[1].split('"', 1)[0]
    return ApiError(r.status_code, url, message or r.reason_phrase, error)


def _line(el: etree._Element) -> int | None:
    line = el.sourceline
    return line if isinstance(line, int) else None
