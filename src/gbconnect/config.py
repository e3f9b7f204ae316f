"""Settings, read once from the environment (``GBCONNECT_*``) and an optional ``.env``.

One object, validated at start-up: a bad value stops the program with a message
naming the variable, never a traceback (see :func:`load_settings`).
"""

from __future__ import annotations

import secrets
from functools import lru_cache
from ipaddress import IPv4Network, IPv6Network, ip_network
from pathlib import Path
from typing import Literal
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from gbconnect.errors import ConfigError


class Settings(BaseSettings):
    """Everything the service reads from its environment."""

    model_config = SettingsConfigDict(
        env_prefix="GBCONNECT_", env_file=".env", env_file_encoding="utf-8", extra="ignore"
    )

    env: Literal["development", "production"] = "development"
    database_url: str = "sqlite:///gbconnect.db"
    base_url: str = "http://127.0.0.1:8000"
    secret_key: str = Field(default="", repr=False)
    #: The utility's local time zone: CSV wall-clock times and daily blocks use it.
    timezone: str = "America/Los_Angeles"
    #: REQ.21 resource base under the host (PG&E: /GreenButtonConnect/espi/1_1/resource).
    resource_base: str = "/DataCustodian/espi/1_1/resource"
    data_custodian_id: str = "gbconnect"
    utility_name: str = "Demo Utility"
    #: Folder holding espi.xsd, customer.xsd and atom.xsd, for validation.
    schema_dir: Path | None = None
    log_level: str = "INFO"
    #: Threads that run database work for requests; default 4 on SQLite (local,
    #: CPU-bound: fewer threads contend less for the GIL) and 16 on PostgreSQL
    #: (network round trips overlap). Measured with benchmarks/api_load.py.
    worker_threads: int | None = Field(default=None, ge=1, le=200)
    #: PostgreSQL connections of the event-loop read path (the IntervalBlock entry that
    #: third parties poll; gbconnect.db.rowreader): about the number of polls in flight at
    #: once. Opened as needed; with the worker threads' pool (at most 40) they must fit
    #: the server's max_connections (100 by default).
    read_connections: int = Field(default=32, ge=1, le=500)
    #: Seconds the event-loop read path waits for a PostgreSQL connection before it
    #: answers 503 (the database is down or every connection is busy).
    database_timeout: float = Field(default=10.0, gt=0, le=300)
    #: Resource requests checked or streamed at once; more wait their turn, holding no
    #: connection. A feed holds a database connection while it streams; the worker
    #: threads' pool is sized to worker threads + feed streams + 8 (gbconnect.app).
    feed_streams: int = Field(default=16, ge=1, le=500)

    #: Set by ``gbconnect demo``: the demo customer whose login the home page shows.
    demo_login: str | None = None

    # -- OAuth (REQ.21 section 2; STANDARD.md section 2) --
    #: Function blocks this Data Custodian offers; a requested scope must stay inside
    #: (older retail customer numbers count as their current ones, FB_46 as FB_51:
    #: gbconnect.espi.blocks). The default covers PG&E's and UtilityAPI's certified
    #: sets (STANDARD.md section 5), FB_39 push notification included.
    function_blocks: str = (
        "1_3_4_5_6_7_8_9_10_12_13_14_15_16_17_18_19_27_28_31_32_33_35_36_37_38_39_40_41_44_51_53_57"
    )
    #: The scope a third party gets when it registers without naming one.
    default_scope: str = (
        "FB=1_3_4_5_8_10_12_13_14_15_16_18_19_31_32_35_37_38;"
        "IntervalDuration=900_3600_86400;BlockDuration=daily;HistoryLength=13"
    )
    code_lifetime: int = Field(default=600, ge=30, le=3600)
    access_token_lifetime: int = Field(default=3600, ge=60, le=86400 * 7)
    refresh_token_lifetime: int = Field(default=365 * 86400, ge=3600)
    #: Failed logins allowed per (username, address) in the window; past them on an
    #: address or a username, attempts wait (gbconnect.web.security.LoginThrottle).
    login_attempts: int = Field(default=5, ge=1)
    login_window: int = Field(default=900, ge=1)
    #: Rate limits of the API and the token endpoint (gbconnect.ratelimit): ``on`` or
    #: ``off``; unset, on in production and off in development.
    rate_limits: bool | None = None
    #: Requests per second per vendor (PG&E: 1; STANDARD.md section 7). A vendor is a
    #: client id until companies own several (gbconnect.ratelimit.limits.vendor_key).
    rate_vendor_per_second: int = Field(default=1, ge=1)
    #: Requests per clock hour per client id (PG&E: 2,000).
    rate_client_per_hour: int = Field(default=2000, ge=1)
    #: Requests per UTC day per client id (PG&E: 20,000).
    rate_client_per_day: int = Field(default=20000, ge=1)
    #: Largest upload body in bytes (413 beyond it); forms and every other body have
    #: a small fixed limit (gbconnect.web.limits).
    max_body_bytes: int = Field(default=64 * 1024 * 1024, ge=1024)
    #: Reverse proxies whose X-Forwarded-For is believed (addresses or CIDR networks,
    #: comma-separated; none by default): the client is the address just before the
    #: first trusted hop (gbconnect.web.security.client_address).
    trusted_proxies: str = ""

    # -- Mutual TLS (PG&E: every API call but browser redirects; RFC 8705; docs/mtls.md) --
    #: ``off`` (the default, and the demo's): no client certificate is read.
    #: ``optional``: a certificate presented with a client or customer access token, or
    #: at the token endpoint, must be one registered to the token's application, and
    #: the tokens issued over it are bound to it. ``required``: every API call with such
    #: a token, and the token endpoint for confidential clients, must present one.
    #: Browser pages never need one (gbconnect.oauth.mtls).
    mtls: Literal["off", "optional", "required"] = "off"
    #: Behind a TLS-terminating proxy: the request header holding the client's
    #: certificate as URL-encoded PEM (nginx ``$ssl_client_escaped_cert``), believed
    #: only when the connection comes from GBCONNECT_TRUSTED_PROXIES.
    mtls_cert_header: str | None = None
    #: The utility's own certificate authority (PEM files), which signs third parties'
    #: certificate requests (``gbconnect thirdparty cert issue``; ``gbconnect ca init``
    #: makes one for a demo or a test).
    ca_cert: Path | None = None
    ca_key: Path | None = None
    #: Days a certificate issued by the utility's CA is valid.
    ca_cert_days: int = Field(default=397, ge=1, le=3650)

    # -- Notifications (REQ.21 FB_39; gbconnect.jobs) --
    #: Hours a notification is retried (exponential backoff with jitter) before it is
    #: dead-lettered; UtilityAPI retries for 72 h.
    notify_retry_hours: float = Field(default=72.0, gt=0, le=24 * 30)
    #: Seconds before the first retry of a failed notification (each later one waits
    #: twice as long, with jitter; gbconnect.jobs.retry). Shorten it for tests and for
    #: a conformance run's PSH004 (``gbconnect conformance``).
    notify_first_retry: float = Field(default=30.0, gt=0, le=3600)
    #: Seconds to connect to a notify URI, and to wait for its answer.
    notify_connect_timeout: float = Field(default=5.0, gt=0, le=60)
    notify_read_timeout: float = Field(default=10.0, gt=0, le=120)
    #: Deliveries in flight at once in one worker process (each a thread).
    notify_concurrency: int = Field(default=8, ge=1, le=256)
    #: Seconds an idle worker waits before it looks for work again (a commit in the
    #: same process, or a PostgreSQL NOTIFY, wakes it at once).
    notify_poll_interval: float = Field(default=0.5, gt=0, le=60)
    #: Run a worker inside ``gbconnect serve``: the default on SQLite (so the demo
    #: notifies); on PostgreSQL run ``gbconnect worker`` processes instead.
    notify_in_process: bool | None = None
    #: Notify URIs resolving to loopback or private addresses are refused (SSRF),
    #: except in development unless this says otherwise.
    notify_allow_private: bool | None = None

    #: PG&E's daily "data ready" notice: from this local hour (0-23) each day, every
    #: third party with active authorizations is sent one BatchList naming its Bulk
    #: URL (or its subscriptions); unset, none is sent.
    notify_daily_hour: int | None = Field(default=None, ge=0, le=23)
    #: Days the notification delivery log is kept: the worker (hourly) and
    #: ``gbconnect notify purge`` delete older attempts and delivered or cancelled
    #: notifications (dead ones are kept).
    notify_log_days: int = Field(default=30, ge=1)

    # -- asynchronous batches (GBA 2024: any resource GET may answer 202; PG&E) --
    #: A Batch/Bulk or Batch/Subscription request covering more IntervalBlocks than
    #: this (a block is one day of one channel; counted before anything streams, and
    #: no further than this number) answers 202 Accepted and is packaged by the worker
    #: (gbconnect.api.batches). 0: never asynchronous. The default (about 55
    #: channel-years, some 400 MB of XML) leaves every ordinary request synchronous.
    batch_async_blocks: int = Field(default=20_000, ge=0)
    #: Days a package is kept once made (and a pending one waits for a worker); then
    #: its URL answers 410 and the purge deletes it (Con Edison keeps files 2 days).
    batch_retention_days: int = Field(default=7, ge=1, le=365)
    #: A second request for a resource whose package is still pending: ``same`` (202
    #: naming the same package) or ``reject`` (400 "An unprocessed batch request for
    #: the same resource already exists", which GBA's tester counts as a 202).
    batch_duplicate: Literal["same", "reject"] = "same"
    #: Folder of the packages' gzip files (created on first use). Every server that
    #: answers the package URL and every worker must see the same folder (a shared
    #: volume when there are several machines: docs/batches.md).
    batch_dir: Path = Path("gbconnect-batches")
    #: PG&E's practice: a Batch request whose window (published-min/max,
    #: updated-min/max) holds no data answers 204 No Content instead of a feed of
    #: empty usage points. Off by default (the feed, as before).
    empty_window_204: bool = False

    # -- Mail to customers (password reset links) --
    #: SMTP server; unset, each message is written as an ``.eml`` file to the mail
    #: folder instead (the demo's way: open the file to follow the link).
    smtp_host: str | None = None
    smtp_port: int = Field(default=587, ge=1, le=65535)
    smtp_user: str | None = None
    smtp_password: str | None = Field(default=None, repr=False)
    #: STARTTLS before authenticating (port 587); false for a local relay only.
    smtp_starttls: bool = True
    mail_from: str = "no-reply@localhost"
    mail_dir: Path = Path("gbconnect-mail")

    # -- Text messages to customers (one-time codes: guest access, phone change) --
    #: Folder each text message is written to as a file when neither a webhook nor a
    #: sender of the utility's own is set (the demo's phone: open the file to read
    #: the code).
    sms_dir: Path = Path("gbconnect-sms")
    #: URL that is POSTed ``{"to": "+14155550123", "text": "..."}`` (JSON) for each
    #: text message: the utility's SMS gateway (gbconnect.sms.WebhookSender).
    sms_webhook: str | None = None
    #: ``package.module:factory`` of the utility's own sender: the factory takes the
    #: Settings and returns an object with ``send(to, text)``; it wins over the
    #: webhook (gbconnect.sms).
    sms_sender: str | None = None

    # -- The developer guide (docs/developers, gbconnect.developers) --
    #: Folder of the built guide that ``serve`` answers at /developers/ (what
    #: ``gbconnect docs build --out DIR`` wrote); unset, ``build/developers`` in the
    #: source tree, where ``gbconnect docs build`` writes by default.
    developer_docs_dir: Path | None = None

    @field_validator("trusted_proxies")
    @classmethod
    def _networks(cls, value: str) -> str:
        for part in value.split(","):
            if part.strip():
                try:
                    ip_network(part.strip(), strict=False)
                except ValueError:
                    raise ValueError(
                        f"{part.strip()!r} is not an IP address or network (10.0.0.0/8)"
                    ) from None
        return value

    @model_validator(mode="after")
    def _mtls_rules(self) -> Settings:
        header = self.mtls_cert_header
        if header is not None:
            if not header or not all(c.isalnum() or c in "-_" for c in header):
                raise ValueError("GBCONNECT_MTLS_CERT_HEADER must be a header name (X-Client-Cert)")
            if not self.trusted_proxies.strip():
                raise ValueError(
                    "GBCONNECT_MTLS_CERT_HEADER is believed only from GBCONNECT_TRUSTED_PROXIES: "
                    "name the proxies"
                )
        if (self.ca_cert is None) != (self.ca_key is None):
            raise ValueError("GBCONNECT_CA_CERT and GBCONNECT_CA_KEY go together")
        return self

    @field_validator("database_url")
    @classmethod
    def _known_database(cls, value: str) -> str:
        scheme = value.split(":", 1)[0]
        if scheme not in {"sqlite", "postgresql", "postgresql+psycopg"}:
            raise ValueError(
                "must start with sqlite:/// or postgresql:// (PostgreSQL uses psycopg 3)"
            )
        return value

    @field_validator("base_url")
    @classmethod
    def _absolute_url(cls, value: str) -> str:
        parts = urlsplit(value)
        if parts.scheme not in {"http", "https"} or not parts.netloc:
            raise ValueError("must be an absolute http(s) URL such as https://data.example.com")
        return value.rstrip("/")

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown IANA time zone {value!r}") from exc
        return value

    @field_validator("resource_base")
    @classmethod
    def _path(cls, value: str) -> str:
        if not value.startswith("/"):
            raise ValueError("must be a path starting with /")
        return value.rstrip("/")

    @model_validator(mode="after")
    def _production_rules(self) -> Settings:
        if self.env == "production":
            if len(self.secret_key) < 32:
                raise ValueError(
                    "GBCONNECT_SECRET_KEY must hold at least 32 characters in production"
                )
            if not self.base_url.startswith("https://"):
                raise ValueError("GBCONNECT_BASE_URL must use https in production (FB_13)")
        elif not self.secret_key:
            # Development only: a key for this process; sessions end with it.
            self.secret_key = secrets.token_urlsafe(32)
        return self

    @model_validator(mode="after")
    def _oauth_rules(self) -> Settings:
        if self.env == "production" and self.demo_login:
            raise ValueError("GBCONNECT_DEMO_LOGIN is for development only")
        from gbconnect.espi import scope
        from gbconnect.espi.blocks import not_offered

        parts = [p for p in self.function_blocks.replace(",", "_").split("_") if p.strip()]
        if not parts or not all(p.strip().isdigit() for p in parts):
            raise ValueError("GBCONNECT_FUNCTION_BLOCKS must be numbers joined by _ (1_3_4_5)")
        try:
            default = scope.parse(self.default_scope)
        except scope.ScopeError as exc:
            raise ValueError(f"GBCONNECT_DEFAULT_SCOPE: {exc}") from None
        extra = not_offered(default.function_blocks, self.supported_blocks)
        if extra:
            raise ValueError(
                "GBCONNECT_DEFAULT_SCOPE asks for function blocks not in "
                f"GBCONNECT_FUNCTION_BLOCKS: {extra}"
            )
        return self

    @property
    def public_resource_base(self) -> str:
        """The resource base as third parties reach it: ``{base_url}{resource_base}``
        without a trailing slash (REQ.21 resourceURI prefix)."""
        return self.base_url.rstrip("/") + self.resource_base.rstrip("/")

    def resource_url(self, path: str = "") -> str:
        """The public URL of an ESPI resource, ``path`` relative to the resource base
        (``"Subscription/5/UsagePoint"``); the one place such a URL is built."""
        path = path.lstrip("/")
        return f"{self.public_resource_base}/{path}" if path else self.public_resource_base

    def site_url(self, path: str = "") -> str:
        """The public URL of a non-resource path of the service (``"/oauth/token"``)."""
        return self.base_url.rstrip("/") + "/" + path.lstrip("/")

    @property
    def threads(self) -> int:
        """Worker threads for database work (GBCONNECT_WORKER_THREADS or the default)."""
        if self.worker_threads is not None:
            return self.worker_threads
        return 4 if self.database_url.startswith("sqlite") else 16

    @property
    def notify_worker_in_process(self) -> bool:
        """Whether ``serve`` runs a notification worker (default: on SQLite)."""
        if self.notify_in_process is not None:
            return self.notify_in_process
        return self.database_url.startswith("sqlite")

    @property
    def rate_limits_on(self) -> bool:
        """Whether the API's rate limits apply (GBCONNECT_RATE_LIMITS, or production)."""
        if self.rate_limits is not None:
            return self.rate_limits
        return self.env == "production"

    @property
    def notify_private_allowed(self) -> bool:
        """Whether a notify URI may resolve to a private address (default: development)."""
        if self.notify_allow_private is not None:
            return self.notify_allow_private
        return self.env == "development"

    @property
    def supported_blocks(self) -> frozenset[int]:
        """The function blocks offered (GBCONNECT_FUNCTION_BLOCKS)."""
        return frozenset(int(p) for p in self.function_blocks.replace(",", "_").split("_") if p)

    @property
    def sqlalchemy_url(self) -> str:
        """The URL with the psycopg 3 driver named, as SQLAlchemy wants it."""
        if self.database_url.startswith("postgresql://"):
            return "postgresql+psycopg://" + self.database_url[len("postgresql://") :]
        return self.database_url

    @property
    def trusted_networks(self) -> tuple[IPv4Network | IPv6Network, ...]:
        """GBCONNECT_TRUSTED_PROXIES as networks (a bare address is a /32 or /128)."""
        parts = [p.strip() for p in self.trusted_proxies.split(",")]
        return tuple(ip_network(p, strict=False) for p in parts if p)

    @property
    def https(self) -> bool:
        """The public base URL is https: cookies are ``Secure``, HSTS is sent."""
        return self.base_url.startswith("https://")

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)


def load_settings(**overrides: object) -> Settings:
    """Build and validate the settings; raise :class:`ConfigError` with a readable message."""
    try:
        return Settings(**overrides)  # type: ignore[arg-type]
    except ValidationError as exc:
        problems = []
        for err in exc.errors():
            where = ".".join(str(p) for p in err["loc"]) or "settings"
            name = f"GBCONNECT_{where.upper()}" if err["loc"] else "settings"
            problems.append(f"{name}: {err['msg']}")
        raise ConfigError("invalid configuration: " + "; ".join(problems)) from None


__all__ = ["ConfigError", "Settings", "get_settings", "load_settings"]


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide settings (cached)."""
    return load_settings()
