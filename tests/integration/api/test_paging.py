"""``start-index`` and ``max-results`` (REQ.21 FB_37) count the entries of every feed,
Batch feeds included (issue 15 item 7)."""

from __future__ import annotations

from lxml import etree

from gbconnect.registration import models as rm
from tests.factories.world import World

ATOM = "{http://www.w3.org/2005/Atom}"


def _ids(world: World, path: str, token: str, query: str = "") -> list[str]:
    r = world.client.get(path + query, headers={"Authorization": f"Bearer {token}"})
    assert r.status_code == 200, r.text
    doc = etree.fromstring(r.content)
    return [str(e.findtext(f"{ATOM}id")) for e in doc.iter(f"{ATOM}entry")]


def _pages_entries(world: World, path: str, token: str) -> None:
    every = _ids(world, path, token)
    assert len(every) > 5
    assert _ids(world, path, token, "?max-results=5") == every[:5]
    assert _ids(world, path, token, "?start-index=3&max-results=2") == every[2:4]
    assert _ids(world, path, token, f"?start-index={len(every)}") == every[-1:]
    assert _ids(world, path, token, "?max-results=0") == []


def test_max_results_pages_the_entries_of_batch_subscription(world: World) -> None:
    tokens = world.code_tokens()
    resource = str(tokens["resourceURI"])
    sid = resource.rstrip("/").rsplit("/", 1)[-1]
    _pages_entries(world, world.url(f"/Batch/Subscription/{sid}"), str(tokens["access_token"]))
    point = world.alice_points[0]
    path = world.url(f"/Batch/Subscription/{sid}/UsagePoint/{point}")
    _pages_entries(world, path, str(tokens["access_token"]))


def test_max_results_pages_the_entries_of_batch_bulk(world: World) -> None:
    world.code_tokens()
    with world.factory() as session:
        app = session.get(rm.ApplicationInformation, world.app_id)
        assert app is not None
        bulk = app.bulk_id
    _pages_entries(world, world.url(f"/Batch/Bulk/{bulk}"), world.client_token())


def test_max_results_pages_the_entries_of_batch_retail_customer(world: World) -> None:
    with world.factory() as session:
        from gbconnect.usage.models import UsagePoint

        point = session.get(UsagePoint, world.alice_points[0])
        assert point is not None
        rcid = point.retail_customer_id
    path = world.url(f"/Batch/RetailCustomer/{rcid}/UsagePoint")
    _pages_entries(world, path, world.admin_token)


def test_max_results_pages_the_authorization_and_application_feeds(world: World) -> None:
    for _ in range(5):
        world.code_tokens()  # an Authorization each
    path = world.url("/Authorization")
    every = _ids(world, path, world.admin_token)
    assert len(every) >= 5
    assert _ids(world, path, world.admin_token, "?max-results=2") == every[:2]
    assert _ids(world, path, world.admin_token, "?start-index=2&max-results=1") == every[1:2]
    apps = world.url("/ApplicationInformation")
    assert len(_ids(world, apps, world.admin_token, "?max-results=0")) == 0
