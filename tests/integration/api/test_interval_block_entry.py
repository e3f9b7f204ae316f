"""One IntervalBlock entry, the resource third parties poll most, answered on its own
session-less path (gbconnect.db.rowreader): the same document, scoping and errors as
every other resource; SQLite and PostgreSQL."""

from __future__ import annotations

import time

from lxml import etree
from sqlalchemy import select, update

from gbconnect.espi.times import iso
from gbconnect.oauth import models as om
from gbconnect.usage import models as um
from tests.factories.world import World
from tests.integration.api.test_usage_api import _readings, _subscription_path
from tests.integration.oauth.test_espi_access import NS, bearer, valid


def _blocks(world: World, up_id: int) -> tuple[int, list[tuple[int, int]]]:
    """(meter reading id, [(block id, block start)]) of a usage point."""
    with world.factory() as s:
        mr = s.scalars(
            select(um.MeterReading.id).where(um.MeterReading.usage_point_id == up_id)
        ).first()
        assert mr is not None
        rows = s.execute(
            select(um.IntervalBlock.id, um.IntervalBlock.start)
            .where(um.IntervalBlock.meter_reading_id == mr)
            .order_by(um.IntervalBlock.start)
        ).all()
        return mr, [(r.id, r.start) for r in rows]


def _entry_path(world: World, tokens: dict[str, object], up: int, mr: int, ib: int) -> str:
    sub = _subscription_path(world, tokens).replace("Batch/", "")
    return f"{sub}/UsagePoint/{up}/MeterReading/{mr}/IntervalBlock/{ib}"


def test_entry_is_the_feeds_entry_and_valid(world: World) -> None:
    tokens = world.code_tokens()
    token = bearer(tokens["access_token"])
    up = world.alice_points[0]
    mr, blocks = _blocks(world, up)
    ib, _ = blocks[-3]
    path = _entry_path(world, tokens, up, mr, ib)
    r = world.client.get(path, headers=token)
    assert r.status_code == 200 and r.headers["content-type"].startswith("application/atom+xml")
    entry = valid(r.content)
    assert entry.tag == "{http://www.w3.org/2005/Atom}entry"
    self_href = entry.find("a:link[@rel='self']", NS).get("href")  # type: ignore[union-attr]
    assert self_href.endswith(path)  # type: ignore[union-attr]
    assert len(_readings(entry)) == 96
    feed = valid(world.client.get(path.rsplit("/", 1)[0], headers=token).content)
    same = [
        e
        for e in feed.iterfind("a:entry", NS)
        if e.find("a:link[@rel='self']", NS).get("href") == self_href  # type: ignore[union-attr]
    ]
    assert len(same) == 1
    assert etree.tostring(same[0], method="c14n") == etree.tostring(entry, method="c14n")


def test_published_window_narrows_the_block(world: World) -> None:
    tokens = world.code_tokens()
    token = bearer(tokens["access_token"])
    up = world.alice_points[0]
    mr, blocks = _blocks(world, up)
    ib, start = blocks[-3]
    path = _entry_path(world, tokens, up, mr, ib)
    lo, hi = start + 3600, start + 7200
    doc = valid(
        world.client.get(
            f"{path}?published-min={iso(lo)}&published-max={iso(hi)}", headers=token
        ).content
    )
    assert [s for s, _ in _readings(doc)] == list(range(lo, hi, 900))
    outside = world.client.get(f"{path}?published-max={iso(start)}", headers=token)
    assert outside.status_code == 404
    bad = world.client.get(f"{path}?published-min=yesterday", headers=token)
    assert bad.status_code == 400 and bad.json()["error"] == "invalid_request"


def test_ids_that_do_not_belong_together_are_not_found(world: World) -> None:
    tokens = world.code_tokens()
    token = bearer(tokens["access_token"])
    up = world.alice_points[0]
    mr, blocks = _blocks(world, up)
    ib = blocks[-1][0]
    gas_mr, gas_blocks = _blocks(world, world.alice_points[1])
    sub = _subscription_path(world, tokens).replace("Batch/", "")
    for path in (
        _entry_path(world, tokens, world.bob_points[0], mr, ib),  # bob's usage point
        _entry_path(world, tokens, up, gas_mr, gas_blocks[-1][0]),  # another point's reading
        _entry_path(world, tokens, up, mr, gas_blocks[-1][0]),  # another reading's block
        _entry_path(world, tokens, up, mr, ib + 10**15),  # no such block
        f"{sub}/UsagePoint/{up}/MeterReading/{mr}/IntervalBlock/x{ib}",  # not an id
        f"{sub}/UsagePoint/{up}/MeterReading/{mr}/IntervalBlock/-{ib}",
    ):
        r = world.client.get(path, headers=token)
        assert r.status_code == 404, path
        assert b"Traceback" not in r.content
    with world.factory() as s:
        other_sid = int(s.scalars(select(om.Subscription.id)).all()[-1]) + 1
    other = f"{world.settings.resource_base}/Subscription/{other_sid}"
    r = world.client.get(
        f"{other}/UsagePoint/{up}/MeterReading/{mr}/IntervalBlock/{ib}", headers=token
    )
    assert r.status_code == 404


def test_scope_without_gas_hides_gas_blocks(world: World) -> None:
    tokens = world.code_tokens(group=["electric"])
    token = bearer(tokens["access_token"])
    gas = world.alice_points[1]
    gas_mr, gas_blocks = _blocks(world, gas)
    r = world.client.get(_entry_path(world, tokens, gas, gas_mr, gas_blocks[-1][0]), headers=token)
    assert r.status_code == 404
    up = world.alice_points[0]
    mr, blocks = _blocks(world, up)
    doc = valid(
        world.client.get(_entry_path(world, tokens, up, mr, blocks[-1][0]), headers=token).content
    )
    assert doc.find(".//e:IntervalReading/e:cost", NS) is None  # FB_12 not granted


def test_token_errors(world: World) -> None:
    tokens = world.code_tokens()
    up = world.alice_points[0]
    mr, blocks = _blocks(world, up)
    path = _entry_path(world, tokens, up, mr, blocks[-1][0])
    assert world.client.get(path).status_code == 401
    forged = world.client.get(path, headers=bearer("forged-token"))
    assert forged.status_code == 401 and "invalid_token" in forged.headers["www-authenticate"]
    malformed = world.client.get(path, headers={"Authorization": "Bearer a b c"})
    assert malformed.status_code == 401
    # A client token may not read a Subscription resource (REQ.21 token classes).
    client = world.client.get(path, headers=bearer(world.client_token()))
    assert client.status_code == 403 and client.json()["error"] == "insufficient_scope"
    assert world.client.get(path, headers=bearer(world.admin_token)).status_code == 403
    # An expired token, then a revoked grant.
    token = bearer(tokens["access_token"])
    assert world.client.get(path, headers=token).status_code == 200
    with world.factory() as s, s.begin():
        s.execute(update(om.Token).values(expires_at=int(time.time()) - 1))
    assert world.client.get(path, headers=token).status_code == 401
    fresh = world.code_tokens()
    fresh_path = _entry_path(world, fresh, up, mr, blocks[-1][0])
    assert world.client.get(fresh_path, headers=bearer(fresh["access_token"])).status_code == 200
    with world.factory() as s, s.begin():
        s.execute(update(om.Authorization).values(status=om.REVOKED))
    r = world.client.get(fresh_path, headers=bearer(fresh["access_token"]))
    assert r.status_code == 401


def test_etag_and_304(world: World) -> None:
    tokens = world.code_tokens()
    token = bearer(tokens["access_token"])
    up = world.alice_points[0]
    mr, blocks = _blocks(world, up)
    path = _entry_path(world, tokens, up, mr, blocks[-1][0])
    first = world.client.get(path, headers=token)
    etag, modified = first.headers["etag"], first.headers["last-modified"]
    assert world.client.get(path, headers={**token, "If-None-Match": etag}).status_code == 304
    since = world.client.get(path, headers={**token, "If-Modified-Since": modified})
    assert since.status_code == 304
    windowed = world.client.get(path + "?depth=1", headers={**token, "If-None-Match": etag})
    assert windowed.status_code == 200
