"""Management REST (FB_33) with the data custodian's admin token."""

from __future__ import annotations

from sqlalchemy import func, select

from gbconnect.usage import models as um
from tests.factories.world import DAYS, World
from tests.integration.oauth.test_espi_access import NS, bearer, valid


def test_root_collections_page_and_delete(world: World) -> None:
    admin = bearer(world.admin_token)
    blocks = valid(
        world.client.get(
            world.url("/IntervalBlock?max-results=5&start-index=2"), headers=admin
        ).content
    )
    entries = blocks.findall("a:entry", NS)
    assert len(entries) == 5
    first = entries[0].find("a:link[@rel='self']", NS).get("href")  # type: ignore[union-attr]
    path = first.replace(world.settings.base_url, "")  # type: ignore[union-attr]
    assert world.client.get(path, headers=admin).status_code == 200
    with world.factory() as s:
        before = s.scalar(select(func.count()).select_from(um.IntervalBlock))
    assert world.client.delete(path, headers=admin).status_code == 204
    assert world.client.get(path, headers=admin).status_code == 404
    assert world.client.delete(path, headers=admin).status_code == 404
    with world.factory() as s:
        assert s.scalar(select(func.count()).select_from(um.IntervalBlock)) == before - 1
    # Deleting a usage point takes its tree with it.
    gas = world.alice_points[1]
    assert world.client.delete(world.url(f"/UsagePoint/{gas}"), headers=admin).status_code == 204
    with world.factory() as s:
        left = s.scalar(
            select(func.count())
            .select_from(um.MeterReading)
            .where(um.MeterReading.usage_point_id == gas)
        )
    assert left == 0
    points = valid(world.client.get(world.url("/UsagePoint"), headers=admin).content)
    assert len(points.findall("a:entry", NS)) == 2  # alice's electric and bob's
    assert DAYS > 0


def test_management_is_for_the_admin_token_only(world: World) -> None:
    for token in (world.client_token(), world.registration_token, world.upload_token):
        r = world.client.get(world.url("/UsagePoint"), headers=bearer(token))
        assert r.status_code == 403
        r = world.client.delete(
            world.url(f"/UsagePoint/{world.alice_points[0]}"), headers=bearer(token)
        )
        assert r.status_code == 403
    assert world.client.get(world.url("/UsagePoint")).status_code == 401
