"""The usage-data resources: FND005, RBK, QRY001/QRY002, scoping, Atom rules; every
document validated against the ESPI 4.0 and Atom schemas; SQLite and PostgreSQL."""

from __future__ import annotations

import uuid

from lxml import etree
from sqlalchemy import func, select

from gbconnect.oauth import models as om
from gbconnect.usage import blocks
from gbconnect.usage import models as um
from tests.factories.usage import ELECTRIC
from tests.factories.world import DAYS, TODAY, World
from tests.integration.oauth.test_espi_access import NS, bearer, valid


def _subscription_path(world: World, tokens: dict[str, object]) -> str:
    uri = str(tokens["resourceURI"])
    return uri[uri.index(world.settings.resource_base) :]


def _readings(doc: etree._Element) -> list[tuple[int, int]]:
    return [
        (
            int(r.findtext("e:timePeriod/e:start", namespaces=NS)),  # type: ignore[arg-type]
            int(r.findtext("e:value", namespaces=NS)),
        )  # type: ignore[arg-type]
        for r in doc.iterfind(".//e:IntervalReading", NS)
    ]


def _stored(world: World, up_id: int) -> list[tuple[int, int]]:
    out = []
    with world.factory() as s:
        rows = s.scalars(
            select(um.IntervalBlock.data)
            .join(um.MeterReading, um.MeterReading.id == um.IntervalBlock.meter_reading_id)
            .where(um.MeterReading.usage_point_id == up_id)
            .order_by(um.IntervalBlock.start)
        )
        for data in rows:
            r = blocks.decode(data)
            out += [(s_, v) for s_, v in zip(r.starts, r.values, strict=True) if v is not None]
    return out


def test_fnd005_batch_subscription_has_the_whole_tree(world: World) -> None:
    tokens = world.code_tokens()
    r = world.client.get(_subscription_path(world, tokens), headers=bearer(tokens["access_token"]))
    assert r.status_code == 200 and r.headers["content-type"].startswith("application/atom+xml")
    doc = valid(r.content)
    kinds = [etree.QName(e[0]).localname for e in doc.iterfind("a:entry/a:content", NS)]
    for kind in (
        "UsagePoint",
        "LocalTimeParameters",
        "MeterReading",
        "ReadingType",
        "IntervalBlock",
        "UsageSummary",
        "ElectricPowerQualitySummary",
    ):
        assert kind in kinds, kind
    # Every reading stored for both usage points, and nothing else.
    electric, gas = world.alice_points
    got = sorted(_readings(doc))
    assert got == sorted(_stored(world, electric) + _stored(world, gas))
    assert len(got) == DAYS * 96 + DAYS


def test_atom_rules_ids_links_and_time_periods(world: World) -> None:
    tokens = world.code_tokens()
    doc = valid(
        world.client.get(
            _subscription_path(world, tokens), headers=bearer(tokens["access_token"])
        ).content
    )
    for e in doc.iterfind("a:entry", NS):
        self_href = e.find("a:link[@rel='self']", NS).get("href")  # type: ignore[union-attr]
        assert (
            e.findtext("a:id", namespaces=NS)
            == f"urn:uuid:{uuid.uuid5(uuid.NAMESPACE_DNS, self_href)}"
        )
        assert e.find("a:link[@rel='up']", NS) is not None
        if e.find("a:content/e:MeterReading", NS) is not None:
            related = [x.get("href") for x in e.iterfind("a:link[@rel='related']", NS)]
            assert any(h.endswith("/IntervalBlock") for h in related)  # OpenESPI #325
            assert any("/ReadingType/" in h for h in related)
    assert all(
        r.find("e:timePeriod", NS) is not None for r in doc.iterfind(".//e:IntervalReading", NS)
    )


def test_the_links_lead_somewhere(world: World) -> None:
    """Follow every self and related link of a Batch/Subscription with the same token."""
    tokens = world.code_tokens()
    token = bearer(tokens["access_token"])
    doc = valid(world.client.get(_subscription_path(world, tokens), headers=token).content)
    hrefs = {x.get("href") for x in doc.iterfind("a:entry/a:link", NS) if x.get("rel") != "up"}
    base = world.settings.base_url
    for href in sorted(hrefs)[:60]:
        r = world.client.get(href.replace(base, ""), headers=token)  # type: ignore[union-attr]
        assert r.status_code == 200, href
        valid(r.content)


def test_scope_without_gas_shows_no_gas_and_no_cost_without_fb12(world: World) -> None:
    tokens = world.code_tokens(group=["electric", "billing"])
    r = world.client.get(_subscription_path(world, tokens), headers=bearer(tokens["access_token"]))
    doc = valid(r.content)
    kinds = {e.text for e in doc.iterfind(".//e:ServiceCategory/e:kind", NS)}
    assert kinds == {"0"}
    assert doc.find(".//e:IntervalReading/e:cost", NS) is None  # FB_12 not granted
    assert doc.find(".//e:ReadingType/e:currency", NS) is None
    assert doc.find(".//e:UsageSummary/e:billLastPeriod", NS) is None  # FB_16 not granted
    gas_path = (
        _subscription_path(world, tokens).replace("Batch/", "")
        + f"/UsagePoint/{world.alice_points[1]}"
    )
    assert world.client.get(gas_path, headers=bearer(tokens["access_token"])).status_code == 404
    # The admin token sees cost.
    with world.factory() as s:
        sid = s.scalars(select(om.Subscription.id)).first()
    admin = valid(
        world.client.get(
            world.url(f"/Batch/Subscription/{sid}"), headers=bearer(world.admin_token)
        ).content
    )
    assert admin.find(".//e:IntervalReading/e:cost", NS) is None  # still the grant's scope
    dmd = valid(
        world.client.get(
            world.url(f"/Batch/RetailCustomer/{_alice(world)}/UsagePoint"),
            headers=bearer(world.upload_token),
        ).content
    )
    assert dmd.find(".//e:IntervalReading/e:cost", NS) is not None  # Download My Data: all of it


def _alice(world: World) -> int:
    with world.factory() as s:
        up = s.get(um.UsagePoint, world.alice_points[0])
        assert up is not None
        return up.retail_customer_id


def test_history_length_of_one_month_sees_one_month(world: World) -> None:
    tokens = world.code_tokens(history="1")
    doc = valid(
        world.client.get(
            _subscription_path(world, tokens), headers=bearer(tokens["access_token"])
        ).content
    )
    starts = [s for s, _ in _readings(doc)]
    month = 2_629_746
    assert min(starts) >= TODAY - month - 86400 and min(starts) > TODAY - DAYS * 86400
    electric = [s for s, _ in _stored(world, world.alice_points[0])]
    assert len([s for s in starts]) < len(electric)


def test_revoked_grant_sees_nothing(world: World) -> None:
    tokens = world.code_tokens()
    client = world.client_token()
    uri = str(tokens["authorizationURI"])
    world.client.delete(uri[uri.index(world.settings.resource_base) :], headers=bearer(client))
    r = world.client.get(_subscription_path(world, tokens), headers=bearer(tokens["access_token"]))
    assert r.status_code == 401 and b"IntervalReading" not in r.content
    bulk = world.client.get(_bulk(world), headers=bearer(client))
    assert valid(bulk.content).find("a:entry", NS) is None


def _bulk(world: World) -> str:
    from gbconnect.registration.models import ApplicationInformation

    with world.factory() as s:
        app = s.get(ApplicationInformation, world.app_id)
        assert app is not None
        return world.url(f"/Batch/Bulk/{app.bulk_id}")


def test_rbk001_to_rbk004_bulk_with_client_token_only(world: World) -> None:
    tokens = world.code_tokens()
    client = world.client_token()
    r = world.client.get(_bulk(world), headers=bearer(client))
    doc = valid(r.content)
    assert len(_readings(doc)) == DAYS * 96 + DAYS
    assert world.client.get(_bulk(world), headers=bearer(tokens["access_token"])).status_code == 403
    assert (
        world.client.get(_bulk(world), headers=bearer(world.registration_token)).status_code == 403
    )
    assert world.client.get(_bulk(world)).status_code == 401
    other = world.url("/Batch/Bulk/123456789")
    assert world.client.get(other, headers=bearer(client)).status_code == 404


def test_qry001_published_window_selects_readings_by_their_time(world: World) -> None:
    tokens = world.code_tokens()
    sub = _subscription_path(world, tokens).replace("Batch/", "")
    up = world.alice_points[0]
    with world.factory() as s:
        mr = s.scalars(select(um.MeterReading.id).where(um.MeterReading.usage_point_id == up)).one()
    lo = TODAY - 2 * 86400 + 3600
    hi = TODAY - 86400
    from gbconnect.espi.times import iso

    blocks_url = f"{sub}/UsagePoint/{up}/MeterReading/{mr}/IntervalBlock"
    url = f"{blocks_url}?published-min={iso(lo)}&published-max={iso(hi)}"
    doc = valid(world.client.get(url, headers=bearer(tokens["access_token"])).content)
    starts = [s for s, _ in _readings(doc)]
    assert starts and min(starts) == lo and max(starts) == hi - 900
    assert len(starts) == (hi - lo) // 900
    paged = valid(
        world.client.get(
            f"{sub}/UsagePoint/{up}/MeterReading/{mr}/IntervalBlock?max-results=2&start-index=3",
            headers=bearer(tokens["access_token"]),
        ).content
    )
    assert len(paged.findall("a:entry", NS)) == 2


def test_qry002_malformed_parameters_are_refused(world: World) -> None:
    tokens = world.code_tokens()
    path = _subscription_path(world, tokens)
    for query in (
        "published-min=yesterday",
        "published-max=2024-13-45T00:00:00Z",
        "updated-min=2024-01-01T00:00:00",
        "max-results=-1",
        "max-results=ten",
        "start-index=0",
        "depth=x",
        "published-min=2024-02-01T00:00:00Z&published-max=2024-01-01T00:00:00Z",
        "published-min=1&published-min=2",
    ):
        r = world.client.get(f"{path}?{query}", headers=bearer(tokens["access_token"]))
        assert r.status_code == 400, query
        assert r.json()["error"] == "invalid_request" and b"Traceback" not in r.content
    ok = world.client.get(
        f"{path}?published-min=1700000000&depth=2", headers=bearer(tokens["access_token"])
    )
    assert ok.status_code == 200


def test_another_customers_resources_are_not_found(world: World) -> None:
    tokens = world.code_tokens()
    sub = _subscription_path(world, tokens).replace("Batch/", "")
    token = bearer(tokens["access_token"])
    assert (
        world.client.get(f"{sub}/UsagePoint/{world.bob_points[0]}", headers=token).status_code
        == 404
    )
    with world.factory() as s:
        other_sid = int(s.scalars(select(func.max(om.Subscription.id))).one()) + 1
    r = world.client.get(world.url(f"/Batch/Subscription/{other_sid}"), headers=token)
    assert r.status_code == 404
    r = world.client.get(
        world.url(f"/Batch/RetailCustomer/{_alice(world)}/UsagePoint"), headers=token
    )
    assert r.status_code == 403


def test_etag_last_modified_and_304(world: World) -> None:
    tokens = world.code_tokens()
    path = _subscription_path(world, tokens)
    token = bearer(tokens["access_token"])
    first = world.client.get(path, headers=token)
    etag, modified = first.headers["etag"], first.headers["last-modified"]
    assert etag.startswith('W/"') and modified.endswith("GMT")
    again = world.client.get(path, headers={**token, "If-None-Match": etag})
    assert again.status_code == 304 and again.content == b""
    since = world.client.get(path, headers={**token, "If-Modified-Since": modified})
    assert since.status_code == 304
    other_query = world.client.get(path + "?depth=1", headers={**token, "If-None-Match": etag})
    assert other_query.status_code == 200  # another representation
    bad_date = world.client.get(path, headers={**token, "If-Modified-Since": "yesterday"})
    assert bad_date.status_code == 200
    # New data moves the validators.
    import numpy as np

    from gbconnect.ingest.series import Channel, store_channel
    from gbconnect.ingest.summary import FileSummary
    from tests.factories.world import ZONE

    with world.factory() as s:
        up = s.get(um.UsagePoint, world.alice_points[0])
        assert up is not None
        owner = up.retail_customer_id
        from gbconnect.customer.models import RetailCustomer

        rc = s.get(RetailCustomer, owner)
        ch = Channel(
            usage_point_key="alice-electric",
            usage_point_title="Home electric",
            service_kind=0,
            reading_type=dict(ELECTRIC),
            starts=np.array([TODAY], dtype=np.int64),
            durations=np.array([900], dtype=np.int64),
            values=np.array([7], dtype=np.int64),
            costs=np.array([1], dtype=np.int64),
        )
        store_channel(s, rc, ch, ZONE, FileSummary("x", "t"), TODAY + 10**6)  # type: ignore[arg-type]
        s.commit()
    changed = world.client.get(path, headers={**token, "If-None-Match": etag})
    assert changed.status_code == 200 and changed.headers["etag"] != etag


def test_feeds_are_gzipped_when_asked(world: World) -> None:
    tokens = world.code_tokens()
    path = _subscription_path(world, tokens)
    import httpx

    r = world.client.get(
        path, headers={**bearer(tokens["access_token"]), "Accept-Encoding": "gzip"}
    )
    assert r.headers["content-encoding"] == "gzip"
    valid(r.content)  # decoded by the client
    plain = world.client.get(
        path, headers={**bearer(tokens["access_token"]), "Accept-Encoding": "identity"}
    )
    assert "content-encoding" not in plain.headers
    assert isinstance(r, httpx.Response)
