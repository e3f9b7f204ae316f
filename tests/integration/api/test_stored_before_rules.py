"""Rows stored before the import rules of issue 15 (items 20 and 22) are written by
the rules all the same: an unknown zone is not written as UTC, and a block of
duration 0 is written with the span of its readings."""

from __future__ import annotations

from lxml import etree
from sqlalchemy import select, update

from gbconnect.api.export import export_xml
from gbconnect.usage import models as um
from tests.factories.world import World

ESPI = "{http://naesb.org/espi}"


def _export(world: World) -> etree._Element:
    with world.factory() as s:
        up = s.get(um.UsagePoint, world.alice_points[0])
        assert up is not None
        text = "".join(export_xml(s, world.settings, up.retail_customer_id, [up.id]))
    return etree.fromstring(text.encode())


def test_local_time_parameters_without_a_zone_are_not_written(world: World) -> None:
    with world.factory() as s:
        up = s.get(um.UsagePoint, world.alice_points[0])
        assert up is not None
        ltp = um.LocalTimeParameters(retail_customer_id=up.retail_customer_id)
        s.add(ltp)
        s.flush()
        up.local_time_parameters_id = ltp.id
        s.commit()
        unknown = ltp.id
    doc = _export(world)
    assert not doc.findall(f".//{ESPI}LocalTimeParameters")
    hrefs = [link.get("href") or "" for link in doc.iter("{http://www.w3.org/2005/Atom}link")]
    assert not [h for h in hrefs if h.endswith(f"/LocalTimeParameters/{unknown}")]


def test_block_stored_with_duration_zero_is_written_with_its_span(world: World) -> None:
    with world.factory() as s:
        block = s.scalars(
            select(um.IntervalBlock)
            .join(um.MeterReading)
            .where(um.MeterReading.usage_point_id == world.alice_points[0])
            .order_by(um.IntervalBlock.start)
        ).first()
        assert block is not None
        s.execute(
            update(um.IntervalBlock).where(um.IntervalBlock.id == block.id).values(duration=0)
        )
        s.commit()
    durations = [
        int(d.text or "0")
        for block in _export(world).iter(f"{ESPI}IntervalBlock")
        for d in block.findall(f"{ESPI}interval/{ESPI}duration")
    ]
    assert durations and 0 not in durations
