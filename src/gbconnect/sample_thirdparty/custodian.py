"""The sample third party's dealings with the Data Custodian, all through the SDK
(:mod:`gbconnect.client`): discovery (RFC 8414), the authorization-code round trip
with PKCE (RFC 6749 section 4.1, RFC 7636), client credentials for Bulk (REQ.21
FB_35), token revocation (RFC 7009), pulling ``Batch/Subscription`` (REQ.21 FND005)
and what a notification names (FB_39), and storing the parsed readings.

Which token fetches a notified URI: the customer's for a package it asked for (a
202 earlier) or for its own ``Batch/Subscription``; the client token for everything
else (``Batch/Bulk``, ``Authorization``, ``ApplicationInformation``).
"""

from __future__ import annotations

import dataclasses
import json
import re
import threading
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import httpx

from gbconnect.client import (
    ApiError,
    DataCustodianClient,
    Endpoints,
    FeedError,
    LocalTime,
    MeterReading,
    Notification,
    OAuthClient,
    OAuthError,
    Pending,
    Reading,
    ReadingType,
    TokenSet,
    UsagePoint,
    parse,
)
from gbconnect.client.http import make_http
from gbconnect.sample_thirdparty.config import SampleConfig
from gbconnect.sample_thirdparty.store import Store, StoredReading, StoredUsagePoint

#: RFC 8414 section 3.
WELL_KNOWN = "/.well-known/oauth-authorization-server"
#: Asked for when neither ``--scope`` nor the metadata's ``scopes_supported`` says:
#: electricity and gas intervals, usage summaries, notifications (STANDARD.md section 2).
FALLBACK_SCOPE = (
    "FB=1_3_4_5_10_13_14_15_16_39;IntervalDuration=900_3600;BlockDuration=daily;HistoryLength=13"
)
_SUBSCRIPTION = re.compile(r"(?:^|/)Subscription/([^/?#]+)")
#: accumulationBehaviour codes of meter reads that add up over time (1 bulkQuantity,
#: 3 cumulative: a register's reading, not the energy of its interval) and of
#: instantaneous values (12): not summed as energy (REQ.21 code tables).
CUMULATIVE = (1, 3, 12)
_CLIENT_TOKEN = "client_token"
#: A web page waits on these calls: a few retries (429, network), short backoff.
#: What a refused refresh says (RFC 6749 section 5.2, RFC 6750 section 3.1).
TOKEN_REFUSED = ("invalid_grant", "invalid_token", "invalid_client", "unauthorized_client")
MAX_RETRIES = 2
BACKOFF_CAP = 5.0


class UtilityError(Exception):
    """The Data Custodian could not be reached or answered something unusable; the
    message is a sentence for the page (no token, no secret)."""


def subscription_key(url: str) -> str:
    """The subscription id in a resource URI (``.../Batch/Subscription/{id}``, or a
    UsagePoint's ``.../Subscription/{id}/UsagePoint/{id}``); the URI itself when it
    names none (a Data Custodian with other paths)."""
    m = _SUBSCRIPTION.search(url)
    return m.group(1) if m else url


def local_time_fields(local: LocalTime) -> dict[str, Any]:
    """LocalTimeParameters as JSON-ready fields (stored with the usage point)."""
    return {f.name: getattr(local, f.name) for f in dataclasses.fields(local)}


@dataclass(frozen=True)
class Loaded:
    """What one feed brought: usage points and readings stored."""

    usage_points: int
    readings: int


class Custodian:
    """One Data Custodian, as the sample app talks to it."""

    def __init__(self, config: SampleConfig, store: Store) -> None:
        self.config = config
        self.store = store
        self._lock = threading.Lock()
        self._endpoints: Endpoints | None = None
        self._scope: str | None = config.scope
        self._oauth: OAuthClient | None = None

    # discovery ------------------------------------------------------------------
    def endpoints(self) -> Endpoints:
        """The utility's endpoints, read once from its metadata (RFC 8414); its usual
        paths when it publishes none (:meth:`Endpoints.defaults`)."""
        with self._lock:
            if self._endpoints is None:
                self._endpoints, scopes = self._discover()
                if self._scope is None:
                    self._scope = scopes[0] if scopes else FALLBACK_SCOPE
            return self._endpoints

    def _discover(self) -> tuple[Endpoints, list[str]]:
        base = self.config.data_custodian.rstrip("/")
        with self._http() as http:
            try:
                endpoints = Endpoints.discover(base, http=http)
            except OAuthError as exc:
                if exc.error == "network_error":
                    raise UtilityError(f"The utility at {base} cannot be reached.") from None
                return Endpoints.defaults(base), []
            try:
                meta = http.get(base + WELL_KNOWN).json()
            except (httpx.HTTPError, ValueError):
                meta = {}
        scopes = meta.get("scopes_supported") if isinstance(meta, dict) else None
        return endpoints, [s for s in scopes or [] if isinstance(s, str) and s]

    def _http(self) -> httpx.Client:
        """An HTTP client with the app's TLS settings (the SDK's: CA file, client
        certificate for mutual TLS, RFC 8705)."""
        return make_http(cert=self.config.cert, verify=self.config.verify, timeout=30)

    def scope(self) -> str:
        """The scope asked for: ``--scope``, else ``scopes_supported[0]``."""
        self.endpoints()
        assert self._scope is not None
        return self._scope

    def oauth(self) -> OAuthClient:
        endpoints = self.endpoints()
        with self._lock:
            if self._oauth is None:
                self._oauth = OAuthClient(
                    endpoints,
                    self.config.client_id,
                    self.config.client_secret,
                    redirect_uri=self.config.redirect_uri,
                    cert=self.config.cert,
                    verify=self.config.verify,
                )
            return self._oauth

    def close(self) -> None:
        """Close the OAuth client's connections (the app's shutdown)."""
        with self._lock:
            if self._oauth is not None:
                self._oauth.http.close()
                self._oauth = None

    # tokens ---------------------------------------------------------------------
    def customer_api(self, session_id: str) -> DataCustodianClient | None:
        """A client with the customer's tokens (saved again when refreshed)."""
        stored = self.store.tokens(session_id)
        if stored is None:
            return None
        tokens = TokenSet.from_dict(stored)

        def save(fresh: TokenSet) -> None:
            self.store.save_tokens(
                session_id, fresh.to_dict(), self.store.subscription_of(session_id)
            )

        return DataCustodianClient(
            self.endpoints(),
            tokens,
            oauth=self.oauth(),
            on_tokens=save,
            cert=self.config.cert,
            verify=self.config.verify,
            max_retries=MAX_RETRIES,
            backoff_cap=BACKOFF_CAP,
        )

    def client_api(self) -> DataCustodianClient:
        """A client with the application's client credentials token (REQ.21 class C),
        kept while it lasts."""
        stored = self.store.get_setting(_CLIENT_TOKEN)
        tokens = None if stored is None else TokenSet.from_dict(_json(stored))
        if tokens is None or tokens.expired():
            tokens = self.oauth().client_credentials()
            self.store.set_setting(_CLIENT_TOKEN, _dumps(tokens.to_dict()))

        def save(fresh: TokenSet) -> None:
            self.store.set_setting(_CLIENT_TOKEN, _dumps(fresh.to_dict()))

        return DataCustodianClient(
            self.endpoints(),
            tokens,
            oauth=self.oauth(),
            on_tokens=save,
            cert=self.config.cert,
            verify=self.config.verify,
            max_retries=MAX_RETRIES,
            backoff_cap=BACKOFF_CAP,
        )

    def revoke(self, tokens: TokenSet) -> bool:
        """Revoke the customer's refresh and access tokens at the utility (RFC 7009,
        client_secret_basic); whether the utility accepted. Without a revocation
        endpoint nothing is sent (False)."""
        url = self.endpoints().revocation
        if not url:
            return False
        auth = (self.config.client_id, self.config.client_secret or "")  # RFC 6749 2.3.1
        ok = True
        with self._http() as http:
            for value, hint in (
                (tokens.refresh_token, "refresh_token"),
                (tokens.access_token, "access_token"),
            ):
                if not value:
                    continue
                data = {"token": value, "token_type_hint": hint}
                try:
                    if self.config.client_secret is None:  # a public client names itself
                        r = http.post(url, data={**data, "client_id": self.config.client_id})
                    else:
                        r = http.post(url, data=data, auth=auth)
                except httpx.HTTPError:
                    return False
                ok = ok and r.status_code == 200
        return ok

    # data -----------------------------------------------------------------------
    def pull_subscription(self, session_id: str) -> Loaded | Pending:
        """GET the customer's ``Batch/Subscription`` (their token's resourceURI) and
        store it; a 202 is remembered so that its notification is fetched with this
        customer's token."""
        api = self.customer_api(session_id)
        if api is None:
            raise UtilityError("You are not connected.")
        url = api.tokens.resource_uri
        if not url:
            api.close()
            raise UtilityError("The utility's token names no subscription (resourceURI).")
        got = _get(api, url)
        if isinstance(got, Pending):
            self.store.remember_pending(got.url, session_id)
            return got
        if not got:  # 204 No Content: nothing in the window (PG&E, STANDARD.md section 7)
            return Loaded(0, 0)
        return self.load(got, subscription_key(url))

    def load(self, feed: bytes, default_subscription: str) -> Loaded:
        """Parse ``feed`` with the SDK and store its usage points and readings (each
        under the subscription its UsagePoint href names, else ``default_subscription``)."""
        points: list[UsagePoint] = []
        local_times: list[LocalTime] = []
        readings: list[Reading] = []
        types: dict[str, ReadingType] = {}
        meters: dict[str, MeterReading] = {}
        try:
            for item in parse(feed):
                if isinstance(item, Reading):
                    readings.append(item)
                elif isinstance(item, UsagePoint):
                    points.append(item)
                elif isinstance(item, LocalTime):
                    local_times.append(item)
                elif isinstance(item, ReadingType):
                    types[item.href] = item
                elif isinstance(item, MeterReading):
                    meters[item.href] = item
        except FeedError as exc:
            raise UtilityError(f"The utility sent a document that cannot be read: {exc}") from None
        cumulative = {
            href
            for href, m in meters.items()
            if m.reading_type in types
            and types[m.reading_type].accumulation_behaviour in CUMULATIVE
        }
        readings = [r for r in readings if r.meter_reading not in cumulative]
        only_local = local_times[0] if len(local_times) == 1 else None
        for p in points:
            local = p.local_time or only_local
            self.store.save_usage_point(
                StoredUsagePoint(
                    p.href,
                    _key(p.href, default_subscription),
                    p.title,
                    p.service_kind,
                    None if local is None else local_time_fields(local),
                )
            )
        stored = 0
        for key, group in _by_subscription(readings, default_subscription).items():
            stored += self.store.save_readings(key, group)
        return Loaded(len(points), stored)

    def fetch_notified(self, notification: Notification) -> tuple[str, int]:
        """Fetch every URI a BatchList named with the right token and store what it
        holds; a sentence saying what came of it, and the readings stored."""
        done: list[str] = []
        total = 0
        for url in notification.resources:
            session_id = self.store.pending_session(url)
            if session_id is None and "/Batch/Subscription/" in url:
                session_id = self.store.session_for_subscription(subscription_key(url))
            try:
                api = self.client_api() if session_id is None else self.customer_api(session_id)
                if api is None:
                    done.append(f"{_short(url)}: no token for it any more")
                    continue
                got = _get(api, url)
            except (UtilityError, OAuthError) as exc:
                done.append(f"{_short(url)}: {exc}")
                continue
            if isinstance(got, Pending):
                if session_id is not None:
                    self.store.remember_pending(got.url, session_id)
                done.append(f"{_short(url)}: still being prepared")
                continue
            self.store.done_pending(url)
            if "/Batch/" in url:
                default = self.store.subscription_of(session_id) if session_id else None
                try:
                    loaded = (
                        self.load(got, default or subscription_key(url)) if got else Loaded(0, 0)
                    )
                except UtilityError as exc:
                    done.append(f"{_short(url)}: {exc}")
                    continue
                total += loaded.readings
                done.append(f"{_short(url)}: {loaded.readings} readings stored")
            else:
                done.append(f"{_short(url)}: fetched ({len(got)} bytes)")
        return "; ".join(done) or "nothing named", total


def _get(api: DataCustodianClient, url: str) -> bytes | Pending:
    """One GET with ``api``, which is closed after it."""
    try:
        return api.get(url)
    except ApiError as exc:
        if exc.status is None:
            raise UtilityError(f"The utility cannot be reached at {_short(url)}.") from None
        if exc.status in (401, 403) or exc.error in TOKEN_REFUSED:
            raise UtilityError(
                "The utility no longer lets us read this (the access may have been revoked "
                "or has ended): disconnect, then connect again."
            ) from None
        raise UtilityError(f"The utility answered {exc.status} for {_short(url)}.") from None
    except OAuthError as exc:
        raise UtilityError(f"The utility refused our token: {exc.error}.") from None
    except httpx.HTTPError:
        raise UtilityError("The utility cannot be reached.") from None
    finally:
        api.close()


def _key(href: str, default: str) -> str:
    key = subscription_key(href)
    return default if key == href else key


def _by_subscription(readings: Iterable[Reading], default: str) -> dict[str, list[StoredReading]]:
    out: dict[str, list[StoredReading]] = {}
    for r in readings:
        out.setdefault(_key(r.usage_point, default), []).append(
            StoredReading(
                r.usage_point,
                r.meter_reading,
                r.start,
                r.duration,
                r.value,
                r.unit,
                r.flow_direction,
            )
        )
    return out


def _short(url: str) -> str:
    """The path of a resource URI after the resource base (for the log)."""
    marker = "/resource/"
    return url.split(marker, 1)[1] if marker in url else url


def _json(text: str) -> dict[str, Any]:
    value = json.loads(text)
    return value if isinstance(value, dict) else {}


def _dumps(value: dict[str, Any]) -> str:
    return json.dumps(value)


__all__ = ["FALLBACK_SCOPE", "Custodian", "Loaded", "UtilityError", "subscription_key"]
