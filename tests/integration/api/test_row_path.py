"""The routes answered on the row path (gbconnect.api.rowpath), on SQLite and
PostgreSQL: what each refuses, the session path taking over for the admin's token and
for a feed beyond a page, and a request counted once against the rate limits when it
is passed on."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import Engine

from gbconnect.api import rowpath
from tests.factories.parties import make_third_party
from tests.factories.world import World
from tests.integration.oauth.test_espi_access import bearer
from tests.integration.ratelimit.test_api_limits import limited, policy_items


def _sid(tokens: dict[str, object]) -> str:
    return str(tokens["resourceURI"]).rsplit("/", 1)[1]


def _first_id(world: World, path: str, kind: str, headers: dict[str, str]) -> str:
    r = world.client.get(world.url(path), headers=headers)
    assert r.status_code == 200, r.text
    found = re.search(rf'href="[^"]*/{kind}/(\d+)"', r.text)
    assert found is not None, r.text
    return found.group(1)


def _tree(world: World, tokens: dict[str, object]) -> dict[str, str]:
    """Paths of one of each resource of the token's Subscription."""
    token = bearer(tokens["access_token"])
    sub = f"/Subscription/{_sid(tokens)}"
    up = f"{sub}/UsagePoint/{world.alice_points[0]}"
    mr = f"{up}/MeterReading/{_first_id(world, f'{up}/MeterReading', 'MeterReading', token)}"
    return {
        "up": up,
        "mr": mr,
        "feed": f"{mr}/IntervalBlock",
        "rt": f"/ReadingType/{_first_id(world, mr, 'ReadingType', token)}",
        "us": f"{up}/UsageSummary/{_first_id(world, f'{up}/UsageSummary', 'UsageSummary', token)}",
    }


def test_another_subscriptions_resources_are_not_found(world: World) -> None:
    mine = world.code_tokens()
    paths = _tree(world, mine)
    other = world.code_tokens()
    token = bearer(other["access_token"])
    for name in ("up", "mr", "feed", "us"):
        r = world.client.get(world.url(paths[name]), headers=token)
        assert r.status_code == 404, (name, r.text)
        assert r.json()["error"] == "not_found"
    # The same ids under the other token's own Subscription: found.
    own = paths["up"].replace(f"/Subscription/{_sid(mine)}/", f"/Subscription/{_sid(other)}/")
    assert world.client.get(world.url(own), headers=token).status_code == 200


def test_unknown_ids_and_foreign_usage_points_are_not_found(world: World) -> None:
    tokens = world.code_tokens()
    paths = _tree(world, tokens)
    token = bearer(tokens["access_token"])
    sub = f"/Subscription/{_sid(tokens)}"
    for path in (
        f"{sub}/UsagePoint/{world.bob_points[0]}",
        paths["mr"].replace(
            f"/UsagePoint/{world.alice_points[0]}/", f"/UsagePoint/{world.alice_points[1]}/"
        ),
        paths["us"].rsplit("/", 1)[0] + "/1234567",
        paths["feed"].replace("/MeterReading/", "/MeterReading/9"),
        "/ReadingType/1234567",
    ):
        r = world.client.get(world.url(path), headers=token)
        assert r.status_code == 404, (path, r.text)


def test_scope_without_the_block_hides_the_resource(world: World) -> None:
    full = world.code_tokens()
    paths = _tree(world, full)
    # Electricity only, no bill: the UsageSummary and the gas point are hidden.
    narrow = world.code_tokens(group=["electric"])
    token = bearer(narrow["access_token"])
    sub_full, sub_narrow = f"/Subscription/{_sid(full)}/", f"/Subscription/{_sid(narrow)}/"
    summary = paths["us"].replace(sub_full, sub_narrow)
    assert world.client.get(world.url(summary), headers=token).status_code == 404
    gas = f"/Subscription/{_sid(narrow)}/UsagePoint/{world.alice_points[1]}"
    assert world.client.get(world.url(gas), headers=token).status_code == 404
    assert world.client.get(world.url(paths["rt"]), headers=token).status_code == 200


def test_reading_type_for_the_admin_takes_the_session_path(world: World) -> None:
    paths = _tree(world, world.code_tokens())
    admin = bearer(world.admin_token)
    r = world.client.get(world.url(paths["rt"]), headers=admin)
    assert r.status_code == 200 and b"<ReadingType" in r.content
    # A client token may not read it (403 from the token class, as on the session path).
    r = world.client.get(world.url(paths["rt"]), headers=bearer(world.client_token()))
    assert r.status_code == 403 and r.json()["error"] == "insufficient_scope"


def test_authorization_is_its_own_third_partys(world: World) -> None:
    tokens = world.code_tokens()
    path = world.url(str(tokens["authorizationURI"]).split(world.settings.resource_base, 1)[1])
    r = world.client.get(path, headers=bearer(world.client_token()))
    assert r.status_code == 200 and b"<Authorization" in r.content
    assert world.client.get(path, headers=bearer(world.admin_token)).status_code == 200
    with world.factory() as session:
        other = make_third_party(session, world.settings, name="Other Co")
        session.commit()
    r = world.client.post(
        "/oauth/token",
        data={"grant_type": "client_credentials"},
        headers=world.basic(other.application.client_id, other.client_secret),
    )
    other_token = bearer(r.json()["access_token"])
    r = world.client.get(path, headers=other_token)
    assert r.status_code == 404 and b"<Authorization" not in r.content
    r = world.client.get(path, headers=bearer(tokens["access_token"]))
    assert r.status_code == 403


def test_customer_account_needs_the_account_group(world: World) -> None:
    tokens = world.code_tokens()
    token = bearer(tokens["access_token"])
    sid = _sid(tokens)
    rid = _first_id(world, f"/Customer/{sid}/CustomerAccount", "CustomerAccount", token)
    path = world.url(f"/Customer/{sid}/CustomerAccount/{rid}")
    r = world.client.get(path, headers=token)
    assert r.status_code == 200 and b"4455" in r.content
    assert world.client.get(path, headers=bearer(world.admin_token)).status_code == 200
    narrow = world.code_tokens(group=["electric"])
    other = world.url(f"/Customer/{_sid(narrow)}/CustomerAccount/{rid}")
    r = world.client.get(other, headers=bearer(narrow["access_token"]))
    assert r.status_code == 404 and b"4455" not in r.content
    # Another subscription's token does not read it under this one.
    r = world.client.get(path, headers=bearer(narrow["access_token"]))
    assert r.status_code == 404


def test_a_feed_beyond_a_page_is_streamed_by_the_session_path(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    tokens = world.code_tokens()
    path = world.url(_tree(world, tokens)["feed"])
    token = bearer(tokens["access_token"])
    small = world.client.get(path, headers=token)
    monkeypatch.setattr(rowpath, "FEED_ROWS", 3)
    large = world.client.get(path, headers=token)
    assert small.status_code == large.status_code == 200
    assert small.content == large.content
    assert small.content.count(b"<IntervalBlock") > 3
    paged = world.client.get(path + "?start-index=2&max-results=2", headers=token)
    assert paged.content.count(b"<IntervalBlock") == 2


def test_a_request_passed_on_is_counted_once(
    world: World, engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    tokens = world.code_tokens()
    path = world.url(_tree(world, tokens)["feed"])
    token = bearer(tokens["access_token"])
    monkeypatch.setattr(rowpath, "FEED_ROWS", 3)
    with limited(world, engine, rate_client_per_hour=5) as client:
        remaining = []
        for _ in range(3):
            r = client.get(path, headers=token)
            assert r.status_code == 200
            remaining.append(policy_items(r.headers["RateLimit"])["client-hour"]["r"])
    assert remaining == [4, 3, 2]


def test_bad_query_parameters_are_refused(world: World) -> None:
    tokens = world.code_tokens()
    paths = _tree(world, tokens)
    token = bearer(tokens["access_token"])
    for name in ("feed", "us"):
        r = world.client.get(world.url(paths[name]) + "?published-min=yesterday", headers=token)
        assert r.status_code == 400 and r.json()["error"] == "invalid_request", r.text
