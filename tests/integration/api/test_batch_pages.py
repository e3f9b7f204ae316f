"""A Batch feed reads its usage points' records a page of points at a time
(gbconnect.api.feeds.trees): the feed is the same whatever the page size, on SQLite
and PostgreSQL, for one customer's Batch/Subscription and for a third party's
Batch/Bulk of several grants."""

from __future__ import annotations

import pytest

from gbconnect.api import feeds
from gbconnect.registration.models import ApplicationInformation
from tests.factories.world import World
from tests.integration.oauth.test_espi_access import bearer


def _same_whatever_the_page(
    world: World, monkeypatch: pytest.MonkeyPatch, path: str, token: dict[str, str]
) -> bytes:
    whole = world.client.get(path, headers=token)
    monkeypatch.setattr(feeds, "POINTS_PER_FETCH", 1)
    paged = world.client.get(path, headers=token)
    monkeypatch.undo()
    assert whole.status_code == paged.status_code == 200, whole.text
    assert whole.content == paged.content
    return whole.content


@pytest.mark.parametrize("query", ["", "?start-index=3&max-results=4"])
def test_a_subscription_batch(world: World, monkeypatch: pytest.MonkeyPatch, query: str) -> None:
    tokens = world.code_tokens()
    sid = str(tokens["resourceURI"]).rsplit("/", 1)[1]
    path = world.url(f"/Batch/Subscription/{sid}{query}")
    body = _same_whatever_the_page(world, monkeypatch, path, bearer(tokens["access_token"]))
    if query:
        assert body.count(b"<entry>") == 4  # max-results=4
    else:
        assert body.count(b"<UsagePoint") == 2


def test_a_bulk_of_several_grants(world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    world.code_tokens()
    world.login("bob")
    world.consent(service=[str(i) for i in world.bob_points])
    with world.factory() as session:
        app = session.get(ApplicationInformation, world.app_id)
        assert app is not None
        path = world.url(f"/Batch/Bulk/{app.bulk_id}")
    body = _same_whatever_the_page(world, monkeypatch, path, bearer(world.client_token()))
    assert body.count(b"<UsagePoint") == 3  # alice's two and bob's one
