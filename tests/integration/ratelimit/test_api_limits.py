"""The API's rate limits through the application (gbconnect.ratelimit), on SQLite and
PostgreSQL: 429 with Retry-After and the RateLimit fields beyond a limit, per client
id and per vendor, another client unaffected, the token endpoint counted, off means
off (STANDARD.md section 7: PG&E's published limits)."""

from __future__ import annotations

import base64
import re
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import Engine, select

from gbconnect.app import create_app
from gbconnect.audit.models import AuditEvent
from gbconnect.audit.record import THIRD_PARTY
from gbconnect.config import load_settings
from gbconnect.ratelimit import usage
from tests.factories.app import SECRET_KEY
from tests.factories.parties import make_third_party
from tests.factories.world import World
from tests.integration.api.test_interval_block_entry import _blocks, _entry_path
from tests.integration.oauth.test_espi_access import bearer

HIGH = 1_000_000


def limits(**rates: Any) -> dict[str, Any]:
    values = {
        "rate_limits": True,
        "rate_vendor_per_second": HIGH,
        "rate_client_per_hour": HIGH,
        "rate_client_per_day": HIGH,
    }
    values.update(rates)
    return values


@contextmanager
def limited(world: World, engine: Engine, **rates: Any) -> Iterator[TestClient]:
    """The world's database served by an application with rate limits ``rates``."""
    settings = load_settings(
        database_url=world.settings.database_url, secret_key=SECRET_KEY, **limits(**rates)
    )
    with TestClient(create_app(settings, engine)) as client:
        yield client


def status_path(world: World) -> str:
    return world.url("/ReadServiceStatus")


def policy_items(header: str) -> dict[str, dict[str, int]]:
    """A RateLimit or RateLimit-Policy field as {name: {param: value}}."""
    items = {}
    for item in header.split(","):
        m = re.fullmatch(r'\s*"([a-z-]+)"((?:;[a-z]+=\d+)+)\s*', item)
        assert m, header
        params = dict(p.split("=") for p in m.group(2).strip(";").split(";"))
        items[m.group(1)] = {k: int(v) for k, v in params.items()}
    return items


def test_client_hour_limit_answers_429_with_retry_after_and_fields(
    world: World, engine: Engine
) -> None:
    token = bearer(world.client_token())
    with limited(world, engine, rate_client_per_hour=3) as client:
        remaining = []
        for _ in range(3):
            r = client.get(status_path(world), headers=token)
            assert r.status_code == 200, r.text
            policy = policy_items(r.headers["RateLimit-Policy"])
            assert policy["client-hour"] == {"q": 3, "w": 3600}
            assert policy["client-day"] == {"q": HIGH, "w": 86400}
            assert policy["vendor-second"] == {"q": HIGH, "w": 1}
            remaining.append(policy_items(r.headers["RateLimit"])["client-hour"]["r"])
        assert remaining == [2, 1, 0]
        refused = client.get(status_path(world), headers=token)
        assert refused.status_code == 429
        body = refused.json()
        assert body["error"] == "too_many_requests"
        assert "3 requests per hour per client id" in body["error_description"]
        retry = int(refused.headers["Retry-After"])
        state = policy_items(refused.headers["RateLimit"])["client-hour"]
        assert 1 <= retry <= 3600 and state == {"r": 0, "t": retry}
        assert "traceback" not in refused.text.lower()


def test_another_client_is_unaffected(world: World, engine: Engine) -> None:
    token = bearer(world.client_token())
    with world.factory() as session:
        other = make_third_party(session, world.settings, name="Other Co")
        session.commit()
        raw = f"{other.application.client_id}:{other.client_secret}".encode()
    r = world.client.post(
        "/oauth/token",
        data={"grant_type": "client_credentials"},
        headers={"Authorization": "Basic " + base64.b64encode(raw).decode()},
    )
    other_token = bearer(r.json()["access_token"])
    with limited(world, engine, rate_client_per_hour=1) as client:
        assert client.get(status_path(world), headers=token).status_code == 200
        assert client.get(status_path(world), headers=token).status_code == 429
        r = client.get(status_path(world), headers=other_token)
        assert r.status_code == 200
        assert policy_items(r.headers["RateLimit"])["client-hour"]["r"] == 0
        assert client.get(status_path(world), headers=other_token).status_code == 429


def test_vendor_per_second_limit(world: World, engine: Engine) -> None:
    """PG&E's 1 request/s per vendor: requests in a row pass one per whole second (at
    most one per second that the loop spans), and a refusal says to retry in a second."""
    token = bearer(world.client_token())
    with limited(world, engine, rate_vendor_per_second=1) as client:
        began = time.time()
        answers = [client.get(status_path(world), headers=token) for _ in range(6)]
        seconds = int(time.time()) - int(began) + 1
    codes = [r.status_code for r in answers]
    assert set(codes) <= {200, 429}
    assert 1 <= codes.count(200) <= seconds
    if 429 in codes:  # none only when every request fell in a second of its own
        refused = next(r for r in answers if r.status_code == 429)
        assert refused.headers["Retry-After"] == "1"
        assert "1 requests per second per vendor" in refused.json()["error_description"]
    else:
        assert seconds >= 6


def test_the_hot_path_is_limited_too(world: World, engine: Engine) -> None:
    """The IntervalBlock entry, checked without a session (serve_row), counts alike."""
    tokens = world.code_tokens()
    up = world.alice_points[0]
    mr, blocks = _blocks(world, up)
    path = _entry_path(world, tokens, up, mr, blocks[-3][0])
    token = bearer(str(tokens["access_token"]))
    with limited(world, engine, rate_client_per_hour=2) as client:
        first = client.get(path, headers=token)
        assert first.status_code == 200
        assert policy_items(first.headers["RateLimit"])["client-hour"]["r"] == 1
        assert client.get(path, headers=token).status_code == 200
        refused = client.get(path, headers=token)
        assert refused.status_code == 429 and b"IntervalReading" not in refused.content
        assert refused.json()["error"] == "too_many_requests"


def test_token_endpoint_counts_authenticated_calls_only(world: World, engine: Engine) -> None:
    with limited(world, engine, rate_client_per_hour=2) as client:
        for _ in range(4):  # a wrong secret spends nobody's quota
            r = client.post(
                "/oauth/token",
                data={"grant_type": "client_credentials"},
                headers=world.basic(secret="wrong"),
            )
            assert r.status_code == 401
        for _ in range(2):
            r = client.post(
                "/oauth/token", data={"grant_type": "client_credentials"}, headers=world.basic()
            )
            assert r.status_code == 200, r.text
        refused = client.post(
            "/oauth/token", data={"grant_type": "client_credentials"}, headers=world.basic()
        )
        assert refused.status_code == 429
        assert refused.json()["error"] == "too_many_requests"
        assert int(refused.headers["Retry-After"]) >= 1
        assert "client-hour" in refused.headers["RateLimit-Policy"]
        # Refused before the grant ran: no token was issued.
        assert "access_token" not in refused.text


def test_utility_tokens_are_not_limited(world: World, engine: Engine) -> None:
    admin = bearer(world.admin_token)
    with limited(world, engine, rate_client_per_hour=1, rate_vendor_per_second=1) as client:
        for _ in range(3):
            r = client.get(status_path(world), headers=admin)
            assert r.status_code == 200 and "RateLimit" not in r.headers


def test_off_means_off(world: World, engine: Engine) -> None:
    token = bearer(world.client_token())
    with limited(world, engine, rate_limits=False, rate_client_per_hour=1) as client:
        for _ in range(4):
            r = client.get(status_path(world), headers=token)
            assert r.status_code == 200
            assert "RateLimit" not in r.headers and "RateLimit-Policy" not in r.headers
    # The tests' own settings (development) leave the limits off.
    assert not world.settings.rate_limits_on
    for _ in range(3):
        assert world.client.get(status_path(world), headers=token).status_code == 200


def test_production_turns_the_limits_on_by_default() -> None:
    base = {"secret_key": SECRET_KEY, "base_url": "https://data.example.com"}
    assert load_settings(env="production", **base).rate_limits_on
    assert not load_settings(env="production", rate_limits="off", **base).rate_limits_on
    assert not load_settings().rate_limits_on
    assert load_settings(rate_limits="on").rate_limits_on


def test_usage_reports_counts_against_each_limit(world: World, engine: Engine) -> None:
    token = bearer(world.client_token())
    with limited(world, engine, rate_client_per_hour=10) as client:
        for _ in range(3):
            assert client.get(status_path(world), headers=token).status_code == 200
        settings = client.app.state.settings  # type: ignore[attr-defined]
        with world.factory() as session:
            report = usage(session, world.client_id, settings)
    assert report["client_id"] == world.client_id
    rows = {row["name"]: row for row in report["limits"]}  # type: ignore[attr-defined]
    assert rows["client-hour"]["used"] == 3 and rows["client-hour"]["remaining"] == 7
    assert rows["client-day"]["used"] == 3 and rows["client-hour"]["limit"] == 10
    assert rows["vendor-second"]["scope"] == "vendor"


def _exceeded_events(world: World) -> list[AuditEvent]:
    """The rate_limit.exceeded events, once the thread that records them has (a
    refusal is audited off the request path)."""
    for _ in range(200):
        with world.factory() as session:
            found = list(
                session.scalars(
                    select(AuditEvent).where(AuditEvent.action == "rate_limit.exceeded")
                )
            )
        if found:
            return found
        time.sleep(0.05)
    return []


def test_the_first_refusal_of_a_window_is_audited_once(world: World, engine: Engine) -> None:
    token = bearer(world.client_token())
    with limited(world, engine, rate_client_per_hour=1) as client:
        assert client.get(status_path(world), headers=token).status_code == 200
        for _ in range(3):
            assert client.get(status_path(world), headers=token).status_code == 429
        events = _exceeded_events(world)
    assert len(events) == 1
    event = events[0]
    assert (event.actor_kind, event.actor) == (THIRD_PARTY, world.client_id)
    assert (event.target_kind, event.target_id) == ("application", world.client_id)
    assert event.details is not None and event.details["limit"] == "client-hour"
