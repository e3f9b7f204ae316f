"""PG&E's connectivity test (STANDARD.md section 7), run live from the third-party
portal against the application's own configuration, step by step:

a. a ``client_credentials`` token from ``/oauth/token`` with the application's
   credentials (RFC 6749 section 4.4; GBA OAD015) -- the portal keeps only the
   secret's hash, so the secret is typed in for this run and never stored;
b. ``ReadServiceStatus`` with that token (GBA FND006);
c. ``DownloadSampleData`` with that token (PG&E);
d. a test notification: a signed ``BatchList`` POSTed to the notify URI
   (REQ.21 FB_39; :mod:`gbconnect.notify.signing`, :func:`gbconnect.notify.delivery.deliver`)
   and its answer (GBA PSH004: a failed POST is detected);
e. an authorization-code round trip with one of the utility's test customers
   (``RetailCustomer.is_test``, who may authorize an application in review): the
   consent is given server-side for the test customer, the code exchanged with the
   typed secret (RFC 6749 section 4.1, S256 PKCE) and the ``Authorization`` resource
   the token response names read with the client token (GBA FND004).

How the calls are made: steps a, b, c and e go **in-process through the ASGI
application** (``httpx.ASGITransport`` on ``request.app``), with URLs built on
``settings.base_url``; step d is a real HTTP POST to the third party's notify URI.
In-process, the calls pass through the whole middleware stack and the same routes a
third party reaches, but do not depend on the server reaching its own public URL
(behind a TLS-terminating proxy, in a container or under the test client, the public
address is often not reachable from inside); a separate HTTP round trip would add
nothing the routes do not already check. Step e needs a session of the test customer:
it is a Starlette session cookie signed with ``GBCONNECT_SECRET_KEY``, made here, as
the server itself would make it at sign-in.

Every step is recorded with what was sent and received, secrets masked
(:func:`mask`). Passing every step moves ``thirdPartyApplicationStatus`` from 1
(development) to 2 (review/test, "awaiting approval") and keeps the date, the
fingerprint of the URIs tested (:func:`gbconnect.registration.connectivity.fingerprint`:
a later change of them clears the pass) and the report.
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
import secrets
import time
from dataclasses import asdict, dataclass, field
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import httpx
import itsdangerous
from anyio import to_thread
from sqlalchemy import select
from sqlalchemy.orm import Session
from starlette.types import ASGIApp

from gbconnect import __version__
from gbconnect.config import Settings
from gbconnect.customer.models import RetailCustomer
from gbconnect.espi.batchlist import batch_list
from gbconnect.notify.delivery import NotifyUriError, deliver, resolve_notify_uri
from gbconnect.notify.signing import SIGNATURE_HEADER, signature_headers
from gbconnect.registration import models as rm
from gbconnect.registration.connectivity import (
    AWAITING_APPROVAL,
    DEVELOPMENT,
    clear_if_changed,
    fingerprint,
    is_passed,
)
from gbconnect.registration.signing_keys import signing_keys
from gbconnect.usage.models import UsagePoint
from gbconnect.web.security import SESSION_CSRF, SESSION_CUSTOMER, SESSION_EPOCH

#: PG&E: the test is passed within 90 days of registration.
DEADLINE_DAYS = 90
#: Characters of a body kept in the report.
EXCERPT = 600
SESSION_COOKIE = "gbconnect_session"


@dataclass
class Step:
    """One step of the test: its name, whether it passed, and what was sent and
    received (secrets masked)."""

    key: str
    title: str
    passed: bool = False
    skipped: bool = False
    detail: str = ""
    sent: list[str] = field(default_factory=list)
    received: list[str] = field(default_factory=list)


@dataclass
class Report:
    started_at: float
    steps: list[Step]

    @property
    def passed(self) -> bool:
        return all(s.passed for s in self.steps)

    def as_json(self) -> dict[str, Any]:
        return {
            "started_at": self.started_at,
            "passed": self.passed,
            "steps": [asdict(s) for s in self.steps],
        }


def mask(value: str) -> str:
    """A secret as the report shows it: its first four characters, then dots."""
    return value[:4] + "…" if len(value) > 8 else "…"


def _excerpt(text: str) -> str:
    text = text.strip()
    return text if len(text) <= EXCERPT else text[:EXCERPT] + f"… ({len(text)} characters)"


def _masked_json(text: str) -> str:
    try:
        data = json.loads(text)
    except ValueError:
        return _excerpt(text)
    if isinstance(data, dict):
        for key in ("access_token", "refresh_token"):
            if isinstance(data.get(key), str):
                data[key] = mask(data[key])
    return _excerpt(json.dumps(data, indent=1))


def deadline(app: rm.ApplicationInformation) -> float:
    """When PG&E's 90 days from registration end (epoch seconds)."""
    return float(app.client_id_issued_at) + DEADLINE_DAYS * 86400


def record_result(app: rm.ApplicationInformation, report: Report) -> None:
    """Keep the report; a pass moves development to "awaiting approval"."""
    app.connectivity_report = report.as_json()
    if report.passed:
        app.connectivity_passed_at = report.started_at
        app.connectivity_fingerprint = fingerprint(app)
        if app.third_party_status == DEVELOPMENT:
            app.third_party_status = AWAITING_APPROVAL


@dataclass(frozen=True)
class Subject:
    """What the test needs of the application, read before it runs."""

    client_id: str
    redirect_uri: str
    scope: str
    notify_uri: str | None
    bulk_id: int
    keys: list[bytes]
    test_customer: tuple[int, int] | None  # id and session epoch


def subject_of(session: Session, app: rm.ApplicationInformation) -> Subject:
    """The application's configuration and a test customer with a usage point (the
    first by id), read in ``session``."""
    row = session.execute(
        select(RetailCustomer.id, RetailCustomer.session_epoch)
        .where(RetailCustomer.is_test.is_(True))
        .where(
            select(UsagePoint.id).where(UsagePoint.retail_customer_id == RetailCustomer.id).exists()
        )
        .order_by(RetailCustomer.id)
        .limit(1)
    ).first()
    return Subject(
        client_id=app.client_id,
        redirect_uri=app.redirect_uris[0],
        scope=app.scopes[0],
        notify_uri=app.notify_uri,
        bulk_id=app.bulk_id,
        keys=signing_keys(app, time.time()),
        test_customer=None if row is None else (int(row[0]), int(row[1])),
    )


def session_cookie(settings: Settings, data: dict[str, Any]) -> str:
    """A session cookie value as Starlette's ``SessionMiddleware`` signs it."""
    signer = itsdangerous.TimestampSigner(str(settings.secret_key))
    payload = base64.b64encode(json.dumps(data).encode("utf-8"))
    return signer.sign(payload).decode("utf-8")


class Run:
    """One run of the test for ``subject`` with the typed ``secret``."""

    def __init__(self, app: ASGIApp, settings: Settings, subject: Subject, secret: str) -> None:
        self.settings = settings
        self.subject = subject
        self.secret = secret
        self.transport = httpx.ASGITransport(app=app, client=("127.0.0.1", 0))
        self.token: str | None = None

    def _basic(self) -> dict[str, str]:
        raw = f"{self.subject.client_id}:{self.secret}".encode()
        return {"Authorization": "Basic " + base64.b64encode(raw).decode()}

    def _client(self) -> httpx.AsyncClient:
        return httpx.AsyncClient(
            transport=self.transport, base_url=self.settings.base_url, follow_redirects=False
        )

    async def run(self) -> Report:
        report = Report(time.time(), [])
        steps = (
            ("token", "Client token (client_credentials)", self.client_token),
            ("status", "ReadServiceStatus", self.service_status),
            ("sample", "DownloadSampleData", self.sample_data),
            ("notify", "Test notification to the notify URI", self.notification),
            ("code", "Authorization-code round trip with a test customer", self.code_flow),
        )
        for key, title, fn in steps:
            step = Step(key, title)
            report.steps.append(step)
            try:
                await fn(step)
            except httpx.HTTPError as exc:
                step.passed = False
                step.detail = f"The request failed: {type(exc).__name__}."
            except ValueError:  # an answer that is not the JSON it should be
                step.passed = False
                step.detail = "The answer could not be read."
        return report

    async def client_token(self, step: Step) -> None:
        url = self.settings.site_url("/oauth/token")
        step.sent.append(
            f"POST {url}\nAuthorization: Basic {self.subject.client_id}:{mask(self.secret)}\n\n"
            "grant_type=client_credentials"
        )
        async with self._client() as http:
            r = await http.post(
                url, data={"grant_type": "client_credentials"}, headers=self._basic()
            )
        step.received.append(f"HTTP {r.status_code}\n{_masked_json(r.text)}")
        if r.status_code == 200 and isinstance(r.json().get("access_token"), str):
            self.token = r.json()["access_token"]
            step.passed = True
            step.detail = "A client access token was issued."
        elif r.status_code == 401:
            step.detail = "The client secret is not right (or was rotated since)."
        else:
            step.detail = f"The token endpoint answered {r.status_code}."

    async def _get(self, step: Step, path: str) -> httpx.Response | None:
        if self.token is None:
            step.skipped = True
            step.detail = "Skipped: no client token (step a failed)."
            return None
        url = self.settings.resource_url(path)
        step.sent.append(f"GET {url}\nAuthorization: Bearer {mask(self.token)}")
        async with self._client() as http:
            r = await http.get(url, headers={"Authorization": f"Bearer {self.token}"})
        step.received.append(
            f"HTTP {r.status_code} {r.headers.get('content-type', '')}\n{_excerpt(r.text)}"
        )
        return r

    async def service_status(self, step: Step) -> None:
        r = await self._get(step, "ReadServiceStatus")
        if r is None:
            return
        m = re.search(r"<(?:\w+:)?currentStatus>(\d+)<", r.text)
        step.passed = r.status_code == 200 and m is not None
        step.detail = (
            f"The service status is {m.group(1)} (1: available)."
            if step.passed and m
            else f"ReadServiceStatus answered {r.status_code}."
        )

    async def sample_data(self, step: Step) -> None:
        r = await self._get(step, "DownloadSampleData")
        if r is None:
            return
        step.passed = r.status_code == 200 and "<feed" in r.text[:2000]
        step.detail = (
            f"A sample feed of {len(r.content)} bytes was read."
            if step.passed
            else f"DownloadSampleData answered {r.status_code}."
        )

    async def notification(self, step: Step) -> None:
        uri = self.subject.notify_uri
        if not uri:
            step.detail = "The application has no notify URI: enter one and run the test again."
            return
        body = batch_list([self.settings.resource_url(f"Batch/Bulk/{self.subject.bulk_id}")])
        try:
            target = resolve_notify_uri(uri, self.settings.notify_private_allowed)
        except NotifyUriError as exc:
            step.detail = f"The notify URI is refused: {exc}."
            return
        headers = signature_headers(self.subject.keys, body, int(time.time()))
        headers["User-Agent"] = f"gbconnect/{__version__} (connectivity test)"
        headers["Host"] = target.host
        shown = {**headers, SIGNATURE_HEADER: "v1=" + mask(headers[SIGNATURE_HEADER][3:])}
        step.sent.append(
            f"POST {uri}\n"
            + "\n".join(f"{k}: {v}" for k, v in shown.items())
            + f"\n\n{body.decode()}"
        )
        attempt = await to_thread.run_sync(
            lambda: deliver(target.url, body, headers, sni=target.sni)
        )
        step.received.append(
            f"HTTP {attempt.status}" if attempt.status is not None else "no answer"
        )
        step.passed = attempt.outcome == "delivered"
        step.detail = (
            f"The notify URI answered {attempt.status} in {attempt.latency_ms} ms."
            if step.passed
            else f"The notification was not accepted: {attempt.error}."
        )

    async def code_flow(self, step: Step) -> None:
        if self.subject.test_customer is None:
            step.detail = (
                "The utility has no test customer with a usage point "
                "(gbconnect customer create NAME --test): ask the utility."
            )
            return
        customer_id, epoch = self.subject.test_customer
        csrf = secrets.token_urlsafe(16)
        cookie = session_cookie(
            self.settings, {SESSION_CUSTOMER: customer_id, SESSION_EPOCH: epoch, SESSION_CSRF: csrf}
        )
        verifier = secrets.token_urlsafe(48)
        challenge = (
            base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest())
            .rstrip(b"=")
            .decode()
        )
        state = secrets.token_urlsafe(8)
        query = urlencode(
            {
                "response_type": "code",
                "client_id": self.subject.client_id,
                "redirect_uri": self.subject.redirect_uri,
                "scope": self.subject.scope,
                "state": state,
                "code_challenge": challenge,
                "code_challenge_method": "S256",
            }
        )
        url = self.settings.site_url("/oauth/authorize?" + query)
        cookies = {"Cookie": f"{SESSION_COOKIE}={cookie}"}
        async with self._client() as http:
            step.sent.append(f"GET {url}\n(signed in as the utility's test customer)")
            page = await http.get(url, headers=cookies)
            step.received.append(f"HTTP {page.status_code} (the consent page)")
            if page.status_code != 200:
                step.detail = (
                    f"The consent page answered {page.status_code}: "
                    + _excerpt(re.sub(r"<[^>]+>", " ", page.text))[:200]
                )
                return
            services = re.findall(r'name="service"[^>]*value="(\d+)"', page.text)
            groups = re.findall(r'name="group"[^>]*value="([a-z]+)"', page.text)
            form = {
                "csrf": csrf,
                "decision": "approve",
                "service": services,
                "group": groups,
                "end": "revoke",
            }
            step.sent.append(
                f"POST {url}\ndecision=approve&service={'_'.join(services)}"
                f"&group={'_'.join(groups)}&end=revoke"
            )
            done = await http.post(url, data=form, headers=cookies)
            location = done.headers.get("location", "")
            step.received.append(f"HTTP {done.status_code}\nLocation: {_mask_code(location)}")
            code = parse_qs(urlsplit(location).query).get("code", [""])[0]
            if done.status_code != 302 or not code:
                step.detail = f"The consent was not given (HTTP {done.status_code})."
                return
            if parse_qs(urlsplit(location).query).get("state", [""])[0] != state:
                step.detail = "The redirect did not carry the state back."
                return
            token_url = self.settings.site_url("/oauth/token")
            step.sent.append(
                f"POST {token_url}\nAuthorization: Basic {self.subject.client_id}:"
                f"{mask(self.secret)}\n\ngrant_type=authorization_code&code={mask(code)}"
                f"&redirect_uri={self.subject.redirect_uri}&code_verifier={mask(verifier)}"
            )
            r = await http.post(
                token_url,
                data={
                    "grant_type": "authorization_code",
                    "code": code,
                    "redirect_uri": self.subject.redirect_uri,
                    "code_verifier": verifier,
                },
                headers=self._basic(),
            )
            step.received.append(f"HTTP {r.status_code}\n{_masked_json(r.text)}")
            if r.status_code != 200:
                step.detail = f"The code exchange answered {r.status_code}."
                return
            tokens = r.json()
            auth_uri = str(tokens.get("authorizationURI", ""))
            if not auth_uri.startswith(self.settings.base_url):
                step.detail = "The token response has no authorizationURI."
                return
            if self.token is None:
                step.detail = (
                    "The code was exchanged; reading the Authorization resource needs "
                    "the client token of step a."
                )
                return
            # GBA FND004: an Authorization entry is read with the client token (C).
            step.sent.append(f"GET {auth_uri}\nAuthorization: Bearer {mask(self.token)}")
            got = await http.get(auth_uri, headers={"Authorization": f"Bearer {self.token}"})
            step.received.append(f"HTTP {got.status_code}\n{_excerpt(got.text)}")
            step.passed = got.status_code == 200 and "Authorization" in got.text
            step.detail = (
                "The code was exchanged and the Authorization resource read."
                if step.passed
                else f"The Authorization resource answered {got.status_code}."
            )
            # The test grant is not left behind: revoked through the API, as a third
            # party ends a grant (REQ.21 FB_41), with the same client token.
            step.sent.append(f"DELETE {auth_uri}\nAuthorization: Bearer {mask(self.token)}")
            ended = await http.delete(auth_uri, headers={"Authorization": f"Bearer {self.token}"})
            step.received.append(f"HTTP {ended.status_code} (the test grant revoked)")


def _mask_code(location: str) -> str:
    return re.sub(r"code=[^&]+", lambda m: "code=" + mask(m.group(0)[5:]), location)


__all__ = [
    "AWAITING_APPROVAL",
    "DEADLINE_DAYS",
    "DEVELOPMENT",
    "Report",
    "Run",
    "Step",
    "clear_if_changed",
    "deadline",
    "is_passed",
    "mask",
    "record_result",
    "subject_of",
]
