"""What every case shares, gathered once: the Data Custodian's endpoints (RFC 8414
discovery), a token of each class (STANDARD.md section 1: A by the browser flow, C by
client_credentials, R given), the HTTP client that records each exchange as evidence,
and the GET that follows the GBA's 2024 rules (200, or 202 then the package; a 400
"unprocessed batch request" counts as 202; on 403 refresh once and retry)."""

from __future__ import annotations

import ssl
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal
from urllib.parse import parse_qs, urlsplit

import httpx

from gbconnect.client import Endpoints, OAuthClient, OAuthError, TokenSet
from gbconnect.conformance.outcome import CaseFailed, Exchange, NotApplicable, excerpt, redact

if TYPE_CHECKING:
    from gbconnect.conformance.documents import Validator
    from gbconnect.conformance.notifications import Notifier

Kind = Literal["A", "C", "R"] | None

#: The GBA's example scope (STANDARD.md section 2), asked for when none is given.
GBA_SCOPE = "FB=1_3_4_5_13_14_39;IntervalDuration=900_3600;BlockDuration=daily;HistoryLength=13"
#: The 2024 rule: this 400 counts as a 202 (STANDARD.md section 6, last bullet).
UNPROCESSED = "unprocessed batch request"


@dataclass
class Options:
    """The command line, as the cases read it."""

    data_custodian: str
    client_id: str
    client_secret: str
    registration_token: str | None = None
    customer_username: str | None = None
    customer_password: str | None = None
    scope: str | None = None
    redirect_uri: str | None = None
    application_information: str | None = None
    offline_authorization: str | None = None
    notify_listen: str = "127.0.0.1:0"
    notify_url: str | None = None
    schema_dir: Path | None = None
    psh_wait: float = 120.0
    allow_http: bool = False
    destructive: bool = False
    ca_file: str | None = None
    client_cert: str | None = None
    client_key: str | None = None
    crawl_limit: int = 200
    chromium: str | None = None


@dataclass
class Grant:
    """What the browser flow gave: the authorization code (TC011, OAD005), the
    redirect URI it came back to and the tokens it was exchanged for."""

    code: str
    code_verifier: str
    redirect_uri: str
    tokens: TokenSet


@dataclass
class Context:
    options: Options
    http: httpx.Client = field(init=False)
    log: list[Exchange] = field(default_factory=list)
    notifier: Notifier | None = None
    cleanups: list[tuple[str, Callable[[], None]]] = field(default_factory=list)
    _endpoints: Endpoints | None = None
    _client: TokenSet | None = None
    _grant: Grant | None = None
    _grant_error: Exception | None = None
    _registration: dict[str, Any] | None = None
    _validator: Validator | None = None
    crawled: dict[str, bytes] = field(default_factory=dict)
    #: The requests that pointed the Data Custodian at the receiver (PSH001's trigger).
    notify_setup: list[Exchange] = field(default_factory=list)
    #: Why the receiver could not be set up, if it could not.
    notify_error: str | None = None

    def __post_init__(self) -> None:
        o = self.options
        tls = ssl.create_default_context(cafile=o.ca_file)
        if o.client_cert:
            tls.load_cert_chain(o.client_cert, o.client_key)
        self.http = httpx.Client(verify=tls, timeout=30.0, follow_redirects=False)

    # -- evidence -------------------------------------------------------------------
    def begin(self) -> None:
        self.log = []

    def fail(self, message: str) -> CaseFailed:
        return CaseFailed(message, list(self.log))

    def send(
        self,
        method: str,
        url: str,
        *,
        token: str | None = None,
        label: str = "",
        headers: dict[str, str] | None = None,
        note: str = "",
        **kwargs: Any,
    ) -> httpx.Response:
        """One request, recorded; ``label`` names the credential shown instead of it."""
        sent = dict(headers or {})
        if token is not None:
            sent["Authorization"] = f"Bearer {token}"
            label = label or "Bearer token"
        elif "Authorization" in sent and not label:
            label = "Authorization header"
        try:
            r = self.http.request(method, url, headers=sent, **kwargs)
        except httpx.HTTPError as exc:
            error = f"{type(exc).__name__}: {exc}"
            self.log.append(Exchange(method, redact(url), None, label, "", error))
            raise self.fail(f"{method} {url}: no answer ({type(exc).__name__}: {exc})") from None
        body = r.content if len(r.content) < 65536 else r.content[:4096]
        self.log.append(
            Exchange(method, redact(str(r.url)), r.status_code, label, excerpt(body), note)
        )
        return r

    # -- endpoints and tokens ---------------------------------------------------------
    @property
    def base(self) -> str:
        return self.options.data_custodian.rstrip("/")

    @property
    def endpoints(self) -> Endpoints:
        if self._endpoints is None:
            try:
                self._endpoints = Endpoints.discover(self.base, http=self.http)
            except Exception:
                self._endpoints = Endpoints.defaults(self.base)
        return self._endpoints

    @property
    def oauth(self) -> OAuthClient:
        return OAuthClient(
            self.endpoints,
            self.options.client_id,
            self.options.client_secret,
            http=self.http,
        )

    def client_tokens(self) -> TokenSet:
        """A client access token (class C) by client_credentials, once."""
        if self._client is None:
            try:
                self._client = self.oauth.client_credentials()
            except OAuthError as exc:
                raise self.fail(f"client_credentials refused: {exc}") from None
        return self._client

    def registration_token(self) -> str:
        if not self.options.registration_token:
            raise NotApplicable("no registration token given (--registration-token)")
        return self.options.registration_token

    def registration_uri(self) -> str:
        registration = self.endpoints.registration or f"{self.base}/oauth/register"
        return f"{registration.rstrip('/')}/{self.options.client_id}"

    def registration(self) -> dict[str, Any]:
        """The client's registration (RFC 7592 GET with the registration token)."""
        if self._registration is None:
            r = self.send(
                "GET", self.registration_uri(), token=self.registration_token(), label="R token"
            )
            if r.status_code != 200:
                raise self.fail(f"RFC 7592 read of the registration answered {r.status_code}")
            self._registration = r.json()
        return self._registration

    def redirect_uri(self) -> str:
        if self.options.redirect_uri:
            return self.options.redirect_uri
        if self.options.registration_token:
            uris = self.registration().get("redirect_uris") or []
            if uris:
                return str(uris[0])
        raise NotApplicable("no redirect URI: give --redirect-uri or --registration-token")

    def scope(self) -> str:
        if self.options.scope:
            return self.options.scope
        if self.options.registration_token:
            text = str(self.registration().get("scope") or "").split()
            if text:
                return text[0]
        return GBA_SCOPE

    def application_information_url(self) -> str:
        if self.options.application_information:
            return self.resolve(self.options.application_information)
        if self.options.registration_token:
            reg = self.registration()
            for key in ("applicationInformationURI", "application_information_uri"):
                if reg.get(key):
                    return str(reg[key])
        raise NotApplicable(
            "the ApplicationInformation URI is unknown: give --application-information"
        )

    def resolve(self, uri: str) -> str:
        """A full URL, an id-less path under the resource base, or a full path."""
        if uri.startswith(("http://", "https://")):
            return uri
        if uri.startswith("/"):
            return self.base + uri
        return self.endpoints.resource(uri)

    def grant(self) -> Grant:
        """A customer's grant by the browser flow (class A), once."""
        o = self.options
        if not (o.customer_username and o.customer_password):
            raise NotApplicable("no test customer given (--customer-username/--customer-password)")
        if self._grant_error is not None:
            raise self.fail(f"the browser flow failed earlier: {self._grant_error}")
        if self._grant is None:
            try:
                self._grant = self._browser_grant()
            except CaseFailed as exc:
                self._grant_error = exc
                raise
        return self._grant

    def new_grant(self) -> Grant:
        """Another grant by the browser flow, not kept (the cases that spend one: a
        Data Custodian may revoke the tokens of a reused code, RFC 6749 section
        4.1.2, and a new grant may replace the customer's earlier one)."""
        self.grant()
        return self._browser_grant()

    def _browser_grant(self) -> Grant:
        from gbconnect.conformance.browser import authorize_in_browser

        o = self.options
        redirect = self.redirect_uri()
        request = self.oauth.authorization_url(self.scope(), redirect_uri=redirect)
        self.log.append(Exchange("GET", request.url, None, "browser", "", "customer approves"))
        landed = authorize_in_browser(
            request.url,
            redirect,
            str(o.customer_username),
            str(o.customer_password),
            approve=True,
            chromium=o.chromium,
            private_ca=bool(o.ca_file),
        )
        query = {k: v[0] for k, v in parse_qs(urlsplit(landed).query).items()}
        self.log.append(Exchange("GET", redact(landed), None, "browser", "", "redirect caught"))
        if "code" not in query:
            raise self.fail(f"the authorization answered no code: {landed}")
        if query.get("state") != request.state:
            raise self.fail("the redirect did not carry the state sent (RFC 6749 4.1.2)")
        try:
            tokens = self.oauth.exchange_code(
                query["code"], request.code_verifier, redirect_uri=redirect
            )
        except OAuthError as exc:
            raise self.fail(f"the code exchange was refused: {exc}") from None
        return Grant(query["code"], request.code_verifier, redirect, tokens)

    def customer_tokens(self) -> TokenSet:
        return self.grant().tokens

    def token(self, kind: Kind) -> str | None:
        if kind == "A":
            return self.customer_tokens().access_token
        if kind == "C":
            return self.client_tokens().access_token
        if kind == "R":
            return self.registration_token()
        return None

    def refresh(self, kind: Kind) -> None:
        """A new token of ``kind`` (the 403 rule of 2024)."""
        if kind == "A" and self._grant is not None:
            self._grant.tokens = self.oauth.refresh(self._grant.tokens)
        elif kind == "C":
            self._client = None
            self.client_tokens()

    # -- documents --------------------------------------------------------------------
    @property
    def validator(self) -> Validator:
        if self._validator is None:
            from gbconnect.conformance.documents import Validator

            self._validator = Validator.find(self.options.schema_dir)
        return self._validator

    def get_document(self, url: str, kind: Kind) -> bytes:
        """GET ``url`` with a token of ``kind`` under the 2024 rules: 200 is the
        document; 202 (or a 400 "unprocessed batch request") waits for the package
        at ``Location`` (at most ``--psh-wait`` s); 403 refreshes the token and tries
        once more. Anything else fails the case with the evidence."""
        label = f"{kind} token" if kind else "no token"
        r = self.send("GET", url, token=self.token(kind), label=label)
        if r.status_code == 403 and kind in ("A", "C"):
            self.refresh(kind)
            r = self.send("GET", url, token=self.token(kind), label=label, note="after refresh")
        if r.status_code == 202 or (r.status_code == 400 and UNPROCESSED in r.text):
            r = self._wait_package(r, url, kind, label)
        if r.status_code != 200:
            raise self.fail(f"GET {url} with the {label} answered {r.status_code}, not 200")
        return r.content

    def _wait_package(self, r: httpx.Response, url: str, kind: Kind, label: str) -> httpx.Response:
        """Poll the package a 202 named (``Location``; without one, the resource
        again) until it is ready: waits of 0.5 s doubling, at most ``Retry-After``
        and 5 s, for ``--psh-wait`` seconds in all. Another party's pending request
        (the 400 of 2024) is waited out the same way."""
        target = r.headers.get("Location") or url
        deadline = time.monotonic() + self.options.psh_wait
        pause = 0.5
        while time.monotonic() < deadline:
            after = r.headers.get("Retry-After", "")
            time.sleep(min(pause, 5.0, float(after) if after.isdigit() else 5.0))
            pause *= 2
            r = self.send("GET", target, token=self.token(kind), label=label, note="package")
            if r.status_code == 202:
                target = r.headers.get("Location") or target
            elif not (r.status_code == 400 and UNPROCESSED in r.text):
                return r
        raise self.fail(f"the package of {url} was not ready in {self.options.psh_wait:g} s")

    # -- end of the run -----------------------------------------------------------------
    def on_close(self, what: str, action: Callable[[], None]) -> None:
        self.cleanups.append((what, action))

    def close(self) -> list[str]:
        """Undo what the run changed (newest first); the problems met, in words."""
        problems: list[str] = []
        for what, action in reversed(self.cleanups):
            try:
                action()
            except Exception as exc:
                problems.append(f"{what}: {exc}")
        self.cleanups.clear()
        if self.notifier is not None:
            self.notifier.stop()
        self.http.close()
        return problems


__all__ = ["GBA_SCOPE", "Context", "Grant", "Kind", "Options"]
