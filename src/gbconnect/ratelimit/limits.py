"""The API's rate limits: PG&E's published numbers per vendor and client id
(STANDARD.md section 7: "1 request/s per vendor, 2,000/h and 20,000/day per client id
(HTTP 429 expected beyond)"), their decisions and the fields that tell a client about
them.

Counted: every ESPI API request made with a third party's token (client, customer
and registration tokens; the utility's own admin and upload tokens are not limited),
and every call of the OAuth token, revocation and introspection endpoints that
authenticated a client (:meth:`gbconnect.oauth.server.EspiAuthorizationServer.authenticate_client`).
A request is counted once it is authenticated and before anything of it is done; a
refused request is not counted, and an unauthenticated one cannot spend another
client's quota.

Beyond a limit the answer is 429 with ``Retry-After`` (RFC 9110 section 10.2.3:
seconds until the window that refused it ends) and the body of the API's other errors
(``{"error": "too_many_requests", "error_description": ...}``). Every limited answer,
429 or not, carries ``RateLimit-Policy`` and ``RateLimit``
(draft-ietf-httpapi-ratelimit-headers-10 sections 3 and 4)::

    RateLimit-Policy: "vendor-second";q=1;w=1, "client-hour";q=2000;w=3600,
                      "client-day";q=20000;w=86400
    RateLimit: "vendor-second";r=0;t=1, "client-hour";r=1999;t=1712,
               "client-day";r=19999;t=40112

(each on one line).

The windows are fixed (whole seconds, clock hours, UTC days:
:mod:`gbconnect.ratelimit.windows`); the counts live in the process's
:func:`~gbconnect.ratelimit.store.store_for` store (shared through the database on
PostgreSQL).
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
import weakref
from dataclasses import dataclass
from typing import Literal, Protocol

from sqlalchemy import Engine
from sqlalchemy.orm import Session

from gbconnect.audit import Actor, record
from gbconnect.audit.record import THIRD_PARTY
from gbconnect.config import Settings, get_settings
from gbconnect.db import make_sessionmaker
from gbconnect.errors import AccessError
from gbconnect.ratelimit.store import ADMIT, MERGE_INTERVAL, WAIT, Store, store_for
from gbconnect.ratelimit.windows import fixed_reset, fixed_start

Scope = Literal["vendor", "client"]

_log = logging.getLogger(__name__)


class HasClientId(Protocol):
    """An application, or anything that names one by its client id (an
    ApplicationInformation, a :class:`~gbconnect.oauth.guard.Caller`)."""

    @property
    def client_id(self) -> str: ...


def vendor_key(application: HasClientId) -> str:
    """The vendor an application belongs to, for the per-vendor limit: the company
    that registered it on the third-party portal (``company_id``, one vendor for all
    its client ids), else the client id itself (a third party registered by the
    command line or RFC 7591 is its own vendor)."""
    company = getattr(application, "company_id", None)
    return f"company {company}" if company is not None else application.client_id


@dataclass(frozen=True)
class Policy:
    """One limit: ``limit`` requests per fixed window of ``window`` seconds, per
    vendor or per client id."""

    name: str
    scope: Scope
    limit: int
    window: int

    def key(self, ident: str) -> str:
        return f"rl:{self.scope}:{ident}:{self.window}"

    def field(self) -> str:
        """This policy as an item of ``RateLimit-Policy``."""
        return f'"{self.name}";q={self.limit};w={self.window}'


def policies(settings: Settings) -> tuple[Policy, ...]:
    """The API's limits as configured (GBCONNECT_RATE_*), the shortest window first."""
    return (
        Policy("vendor-second", "vendor", settings.rate_vendor_per_second, 1),
        Policy("client-hour", "client", settings.rate_client_per_hour, 3600),
        Policy("client-day", "client", settings.rate_client_per_day, 86400),
    )


@dataclass(slots=True)
class Count:
    """Where one policy stands for one request: used and remaining quota, and whole
    seconds until its window ends."""

    policy: Policy
    used: int
    remaining: int
    reset: int

    def field(self) -> str:
        """This count as an item of ``RateLimit``."""
        return f'"{self.policy.name}";r={self.remaining};t={self.reset}'


@dataclass(slots=True)
class Decision:
    """Whether a hit is allowed, and where each limit stands. ``retry_after`` is 0
    when allowed."""

    allowed: bool
    counts: tuple[Count, ...]
    retry_after: int = 0
    violated: tuple[str, ...] = ()
    policy_field: str = ""  # RateLimit-Policy, when the caller has it made already
    first: bool = False  # the process's first refusal of this limit in this window

    def headers(self) -> dict[str, str]:
        """``RateLimit-Policy`` and ``RateLimit`` (draft-ietf-httpapi-ratelimit-headers
        sections 3 and 4), and ``Retry-After`` when refused (RFC 9110 section 10.2.3)."""
        fields = {
            "RateLimit-Policy": self.policy_field
            or ", ".join(c.policy.field() for c in self.counts),
            "RateLimit": ", ".join(c.field() for c in self.counts),
        }
        if not self.allowed:
            fields["Retry-After"] = str(self.retry_after)
        return fields


_WINDOW_WORDS = {1: "second", 60: "minute", 3600: "hour", 86400: "day"}


class RateLimited(AccessError):
    """429: a limit is used up (rendered by :func:`gbconnect.web.errors.api_error`
    with :attr:`headers`)."""

    status = 429
    error = "too_many_requests"

    def __init__(self, decision: Decision) -> None:
        refused = [c for c in decision.counts if c.policy.name in decision.violated]
        what = "; ".join(
            f"{c.policy.limit} requests per "
            f"{_WINDOW_WORDS.get(c.policy.window, f'{c.policy.window} seconds')}"
            f"{' per vendor' if c.policy.scope == 'vendor' else ' per client id'}"
            for c in refused
        )
        super().__init__(f"rate limit exceeded ({what}); retry in {decision.retry_after} seconds")
        self.decision = decision
        self.headers = decision.headers()


#: Merges a request waits for at most before it is refused (about half a second).
MAX_WAITS = 10


class ApiLimiter:
    """The API's limits over one store (one per application and database)."""

    def __init__(
        self,
        store: Store,
        rules: tuple[Policy, ...],
        interval: float = MERGE_INTERVAL,
        engine: Engine | None = None,
    ) -> None:
        self.store = store
        self.rules = rules
        self.interval = interval
        self.policy_field = ", ".join(r.field() for r in rules)
        self._keys: dict[tuple[str, str], tuple[str, ...]] = {}
        self._engine = weakref.ref(engine) if engine is not None else None
        self._reported: dict[tuple[str, int], None] = {}
        self._reported_lock = threading.Lock()

    def keys(self, application: HasClientId) -> tuple[str, ...]:
        """The counter keys of ``application``, one per rule (cached)."""
        client, vendor = application.client_id, vendor_key(application)
        keys = self._keys.get((client, vendor))
        if keys is None:
            if len(self._keys) > 10_000:
                self._keys.clear()
            keys = tuple(r.key(vendor if r.scope == "vendor" else client) for r in self.rules)
            self._keys[(client, vendor)] = keys
        return keys

    def _try(self, application: HasClientId, now: float) -> Decision | None:
        """One attempt: a decision, or None to wait for the next merge."""
        taken: list[tuple[str, int]] = []
        counts: list[Count] = []
        for rule, key in zip(self.rules, self.keys(application), strict=True):
            start = fixed_start(now, rule.window)
            outcome, seen = self.store.take(key, start, start + rule.window, rule.limit)
            reset = fixed_reset(now, rule.window)
            counts.append(Count(rule, seen, max(0, rule.limit - seen), reset))
            if outcome != ADMIT:
                for k, s in taken:
                    self.store.refund(k, s)
                if outcome == WAIT:
                    return None
                # The hits taken back: the earlier limits stand as before this request.
                shown = [Count(c.policy, c.used - 1, c.remaining + 1, c.reset) for c in counts[:-1]]
                field = self.policy_field
                first = self.first_refusal(key, start)
                decision = Decision(False, (*shown, counts[-1]), reset, (rule.name,), field)
                decision.first = first
                return decision
            taken.append((key, start))
        return Decision(True, tuple(counts), policy_field=self.policy_field)

    def first_refusal(self, key: str, start: int) -> bool:
        """Whether this is the process's first refusal of ``key`` in the window that
        starts at ``start`` (the one that is audited)."""
        if self._engine is None:
            return False
        with self._reported_lock:
            if (key, start) in self._reported:
                return False
            if len(self._reported) > 10_000:
                self._reported.clear()
            self._reported[(key, start)] = None
            return True

    def report(self, client_id: str, decision: Decision) -> None:
        """Audit a first refusal (``rate_limit.exceeded``: once per process, window and
        key, so that a client hammering past its limit does not write an event per
        request). One statement, once a window: the request pays for it."""
        engine = self._engine() if self._engine is not None else None
        if engine is None or not decision.first:
            return
        rule = next(c.policy for c in decision.counts if c.policy.name in decision.violated)
        details = {"limit": rule.name, "quota": rule.limit, "window": rule.window}
        _record_exceeded(engine, client_id, details)

    def _overdue(self) -> Decision:
        """A hit that waited :data:`MAX_WAITS` merges in vain (the database does not
        answer and the process's share is spent): refused for a second."""
        counts = tuple(Count(r, r.limit, 0, 1) for r in self.rules[:1])
        return Decision(False, counts, 1, (self.rules[0].name,))

    def check(self, application: HasClientId) -> Decision:
        """Count one request of ``application`` (from a worker thread: may sleep until
        the next merge when the process's share is spent)."""
        for _ in range(MAX_WAITS):
            decision = self._try(application, time.time())
            if decision is not None:
                if decision.first:
                    self.report(application.client_id, decision)
                return decision
            time.sleep(self.interval)
        return self._overdue()

    async def acheck(self, application: HasClientId) -> Decision:
        """:meth:`check` on the event loop."""
        for _ in range(MAX_WAITS):
            decision = self._try(application, time.time())
            if decision is not None:
                if decision.first:
                    await asyncio.to_thread(self.report, application.client_id, decision)
                return decision
            await asyncio.sleep(self.interval)
        return self._overdue()


_LIMITERS: weakref.WeakKeyDictionary[Engine, dict[tuple[Policy, ...], ApiLimiter]] = (
    weakref.WeakKeyDictionary()
)
_LOCK = threading.Lock()


def limiter_for(settings: Settings, engine: Engine) -> ApiLimiter | None:
    """The API limiter of ``engine``'s database with ``settings``' limits; None when
    the limits are off (GBCONNECT_RATE_LIMITS)."""
    if not settings.rate_limits_on:
        return None
    rules = policies(settings)
    with _LOCK:
        by_rules = _LIMITERS.setdefault(engine, {})
        limiter = by_rules.get(rules)
        if limiter is None:
            limiter = by_rules[rules] = ApiLimiter(store_for(engine), rules, engine=engine)
        return limiter


def _record_exceeded(engine: Engine, client_id: str, details: dict[str, object]) -> None:
    try:
        with make_sessionmaker(engine)() as session:
            record(
                session,
                "rate_limit.exceeded",
                Actor(THIRD_PARTY, client_id),
                ("application", client_id),
                details,
            )
            session.commit()
    except Exception as exc:  # the refusal stands; only its record is missing
        _log.warning("a rate limit refusal could not be audited: %s", exc)


class _Named:
    def __init__(self, client_id: str, company_id: int | None = None) -> None:
        self.client_id = client_id
        self.company_id = company_id


def usage(
    source: Session | Store,
    client_id: str,
    settings: Settings | None = None,
    company_id: int | None = None,
) -> dict[str, object]:
    """A client id's current counts against each limit (for the third-party portal's
    "your API usage against the limits"): ``{"client_id", "limits": [{"name",
    "scope", "limit", "window", "used", "remaining", "reset"}, ...]}``. ``source`` is
    a session on the database (its process's store) or a store; ``settings`` the
    limits (the environment's when omitted). On SQLite the counts live in the serving
    process: ask from it (the portal's pages do); another process sees zeros."""
    store = source if not isinstance(source, Session) else store_for(_engine_of(source))
    rules = policies(settings or get_settings())
    now = time.time()
    named = _Named(client_id, company_id)
    rows = []
    for rule in rules:
        key = rule.key(vendor_key(named) if rule.scope == "vendor" else client_id)
        start = fixed_start(now, rule.window)
        used = store.counts(key, [start])[start]
        rows.append(
            {
                "name": rule.name,
                "scope": rule.scope,
                "limit": rule.limit,
                "window": rule.window,
                "used": used,
                "remaining": max(0, rule.limit - used),
                "reset": fixed_reset(now, rule.window),
            }
        )
    return {"client_id": client_id, "limits": rows}


def _engine_of(session: Session) -> Engine:
    bind = session.get_bind()
    engine = bind if isinstance(bind, Engine) else bind.engine
    return engine
