"""The API's limits over a memory store (gbconnect.ratelimit.limits): all-or-nothing
counting, the RateLimit fields (draft-ietf-httpapi-ratelimit-headers sections 3 and
4), vendors and throttles."""

from __future__ import annotations

from dataclasses import dataclass

from gbconnect.config import load_settings
from gbconnect.ratelimit import (
    ApiLimiter,
    MemoryStore,
    Policy,
    RateLimited,
    Throttle,
    policies,
    usage,
    vendor_key,
)


@dataclass
class App:
    client_id: str


def limiter(second: int = 100, hour: int = 100, day: int = 100) -> ApiLimiter:
    settings = load_settings(
        rate_vendor_per_second=second, rate_client_per_hour=hour, rate_client_per_day=day
    )
    return ApiLimiter(MemoryStore(), policies(settings))


def test_pge_defaults() -> None:
    rules = {p.name: p for p in policies(load_settings())}
    assert (rules["vendor-second"].limit, rules["vendor-second"].window) == (1, 1)
    assert (rules["client-hour"].limit, rules["client-hour"].window) == (2000, 3600)
    assert (rules["client-day"].limit, rules["client-day"].window) == (20000, 86400)


def test_the_vendor_is_the_client_id_until_companies_exist() -> None:
    assert vendor_key(App("abc")) == "abc"


def test_a_refused_hit_counts_against_no_limit() -> None:
    lim = limiter(hour=100, day=2)
    app = App("c1")
    assert lim.check(app).allowed and lim.check(app).allowed
    refused = lim.check(app)
    assert not refused.allowed and refused.violated == ("client-day",)
    hour = next(c for c in refused.counts if c.policy.name == "client-hour")
    assert hour.used == 2  # the refused hit was taken back from the hourly count


def test_fields_follow_the_draft_syntax() -> None:
    lim = limiter(second=5, hour=10, day=20)
    decision = lim.check(App("c1"))
    fields = decision.headers()
    assert fields["RateLimit-Policy"] == (
        '"vendor-second";q=5;w=1, "client-hour";q=10;w=3600, "client-day";q=20;w=86400'
    )
    assert fields["RateLimit"].startswith('"vendor-second";r=4;t=1, "client-hour";r=9;t=')
    assert "Retry-After" not in fields


def test_refusal_carries_retry_after_and_a_sentence() -> None:
    lim = limiter(hour=1)
    lim.check(App("c1"))
    decision = lim.check(App("c1"))
    error = RateLimited(decision)
    assert error.status == 429 and error.error == "too_many_requests"
    assert error.headers["Retry-After"] == str(decision.retry_after)
    assert "1 requests per hour per client id" in error.description
    assert lim.check(App("c2")).allowed  # another client id


def test_usage_of_a_store() -> None:
    store = MemoryStore()
    settings = load_settings(rate_client_per_hour=10, rate_vendor_per_second=100)
    lim = ApiLimiter(store, policies(settings))
    for _ in range(4):
        lim.check(App("c1"))
    rows = {r["name"]: r for r in usage(store, "c1", settings)["limits"]}  # type: ignore[attr-defined]
    assert rows["client-hour"]["used"] == 4 and rows["client-hour"]["remaining"] == 6
    assert usage(store, "c2", settings)["limits"][1]["used"] == 0  # type: ignore[index]


def test_throttle_hit_refuses_past_the_limit_and_says_when_to_return() -> None:
    throttle = Throttle(MemoryStore())
    decisions = [throttle.hit("otp:acct:6.6.6.6", 3, 900) for _ in range(4)]
    assert [d.allowed for d in decisions] == [True, True, True, False]
    assert 900 <= decisions[-1].retry_after <= 990
    assert throttle.hit("otp:acct:198.51.100.7", 3, 900).allowed
    throttle.clear("otp:acct:6.6.6.6")
    assert throttle.hit("otp:acct:6.6.6.6", 3, 900).allowed


def test_policy_field() -> None:
    assert Policy("client-hour", "client", 2000, 3600).field() == '"client-hour";q=2000;w=3600'


def test_a_vendor_is_the_company_that_owns_the_client_ids() -> None:
    from types import SimpleNamespace

    from gbconnect.ratelimit.limits import vendor_key

    mine = SimpleNamespace(client_id="a", company_id=7)
    also_mine = SimpleNamespace(client_id="b", company_id=7)
    alone = SimpleNamespace(client_id="c", company_id=None)
    assert vendor_key(mine) == vendor_key(also_mine) == "company 7"
    assert vendor_key(alone) == "c"
