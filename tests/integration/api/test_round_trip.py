"""Round trips: an independent parser reads what we serve, and our importer reads it
back into the same data.

- greenbutton-objects (PyPI; Code for Boston's parser) parses a Batch/Subscription we
  serve; its readings and totals equal ours;
- a Download My Data feed (Batch/RetailCustomer) imported with ``gbconnect ingest``
  into another customer reproduces every reading, cost and ReadingType.
"""

from __future__ import annotations

from pathlib import Path

from greenbutton_objects.parse import parse_feed
from sqlalchemy import select

from gbconnect.ingest.services import ingest_file
from gbconnect.usage import blocks
from gbconnect.usage import models as um
from tests.factories.world import ZONE, World
from tests.integration.oauth.test_espi_access import bearer


def _ours(
    world: World, customer_id: int
) -> dict[tuple[int, int], list[tuple[int, int, int | None]]]:
    """(commodity, interval) -> [(start, value, cost)] stored for a customer."""
    out: dict[tuple[int, int], list[tuple[int, int, int | None]]] = {}
    with world.factory() as s:
        rows = s.execute(
            select(um.ReadingType.commodity, um.ReadingType.interval_length, um.IntervalBlock.data)
            .join(um.MeterReading, um.MeterReading.reading_type_id == um.ReadingType.id)
            .join(um.IntervalBlock, um.IntervalBlock.meter_reading_id == um.MeterReading.id)
            .join(um.UsagePoint, um.UsagePoint.id == um.MeterReading.usage_point_id)
            .where(um.UsagePoint.retail_customer_id == customer_id)
        ).all()
    for commodity, interval, data in rows:
        r = blocks.decode(data)
        costs = r.costs or [None] * len(r)
        out.setdefault((commodity, interval), []).extend(
            (s_, v, c) for s_, v, c in zip(r.starts, r.values, costs, strict=True) if v is not None
        )
    return {k: sorted(v) for k, v in out.items()}


def _alice(world: World) -> int:
    with world.factory() as s:
        up = s.get(um.UsagePoint, world.alice_points[0])
        assert up is not None
        return up.retail_customer_id


def test_greenbutton_objects_reads_our_batch_subscription(world: World, tmp_path: Path) -> None:
    tokens = world.code_tokens(group=["electric", "gas"])
    uri = str(tokens["resourceURI"])
    r = world.client.get(
        uri[uri.index(world.settings.resource_base) :], headers=bearer(tokens["access_token"])
    )
    path = tmp_path / "subscription.xml"
    path.write_bytes(r.content)
    usage_points = parse_feed(str(path))
    theirs = {}
    for up in usage_points:
        for mr in up.meterReadings:
            readings = [
                (int(ir.timePeriod.start.timestamp()), ir.value) for ir in mr.intervalReadings
            ]
            theirs[mr.readingType.intervalLength] = sorted(readings)
    ours = _ours(world, _alice(world))
    assert set(theirs) == {900, 86400}
    for (commodity, interval), rows in ours.items():
        # greenbutton-objects applies powerOfTenMultiplier: gas is 10^-3 therms.
        scale = 10.0 ** (-3 if commodity == 7 else 0)
        expected = [(s, v * scale) for s, v, _ in rows]
        assert len(theirs[interval]) == len(expected)
        assert [s for s, _ in theirs[interval]] == [s for s, _ in expected]
        assert abs(sum(v for _, v in theirs[interval]) - sum(v for _, v in expected)) < 1e-6


def test_download_my_data_reimports_to_the_same_data(world: World, tmp_path: Path) -> None:
    alice = _alice(world)
    r = world.client.get(
        world.url(f"/Batch/RetailCustomer/{alice}/UsagePoint"), headers=bearer(world.upload_token)
    )
    assert r.status_code == 200
    path = tmp_path / "dmd.xml"
    path.write_bytes(r.content)
    summary = ingest_file(world.factory, path, "alice-copy", ZONE)
    assert summary.usage_points == 2 and summary.readings == sum(
        len(v) for v in _ours(world, alice).values()
    )
    with world.factory() as s:
        from gbconnect.customer.models import RetailCustomer

        copy = s.scalars(
            select(RetailCustomer.id).where(RetailCustomer.username == "alice-copy")
        ).one()
        summaries = s.scalars(
            select(um.UsageSummary.bill_last_period)
            .join(um.UsagePoint, um.UsagePoint.id == um.UsageSummary.usage_point_id)
            .where(um.UsagePoint.retail_customer_id == copy)
        ).all()
    assert _ours(world, copy) == _ours(world, alice)  # readings and costs
    assert summaries == [8_812_000]
    again = ingest_file(world.factory, path, "alice-copy", ZONE)
    assert not again.blocks.changed


def test_upload_imports_a_green_button_file_for_a_customer(world: World) -> None:
    alice = _alice(world)
    feed = world.client.get(
        world.url(f"/Batch/RetailCustomer/{alice}/UsagePoint"), headers=bearer(world.upload_token)
    ).content
    with world.factory() as s:
        from gbconnect.customer.services import create_customer

        bob_id = create_customer(s, "carol", None).id
        s.commit()
    path = world.url(f"/Batch/RetailCustomer/{bob_id}/UsagePoint")
    r = world.client.post(path, content=feed, headers=bearer(world.upload_token))
    assert r.status_code == 200, r.text
    assert r.json()["usage_points"] == 2 and r.json()["readings"] > 4000
    assert _ours(world, bob_id) == _ours(world, alice)
    # Refusals: wrong tokens, hostile or broken XML, empty body, unknown customer.
    for headers, status in (({}, 401), (bearer(world.client_token()), 403)):
        assert world.client.post(path, content=feed, headers=headers).status_code == status
    for body in (
        b"<?xml version='1.0'?><!DOCTYPE x [<!ENTITY a 'b'>]><feed/>",
        feed[: len(feed) // 2],
        b"not xml",
        b"",
    ):
        r = world.client.post(path, content=body, headers=bearer(world.upload_token))
        assert r.status_code == 400 and "Traceback" not in r.text and "/tmp" not in r.text
    r = world.client.post(
        world.url("/Batch/RetailCustomer/1/UsagePoint"),
        content=feed,
        headers=bearer(world.admin_token),
    )
    assert r.status_code == 404
