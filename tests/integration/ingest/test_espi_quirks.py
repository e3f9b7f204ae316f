"""ESPI XML quirks of real files (shared/espi/REAL-WORLD-QUIRKS.md) and partial updates."""

from __future__ import annotations

from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from gbconnect.ingest.errors import IngestError
from gbconnect.ingest.services import ingest_file
from gbconnect.usage import blocks
from gbconnect.usage import models as um

LA = ZoneInfo("America/Los_Angeles")

QUIRKY = """<?xml version="1.0" encoding="UTF-8"?>
<ns2:feed xmlns:ns2="http://www.w3.org/2005/Atom" xmlns:ns0="http://naesb.org/espi">
 <ns2:id>urn:uuid:1</ns2:id><ns2:updated>2024-06-21</ns2:updated>
 <ns2:entry>
  <ns2:link rel="self" href="https://utility.example/espi/User/7/UsagePoint/55"/>
  <ns2:link rel="related" href="https://utility.example/espi/LocalTimeParameters/1"/>
  <ns2:content><ns0:UsagePoint><ns0:ServiceCategory><ns0:kind>0</ns0:kind></ns0:ServiceCategory>
   <ns0:ServiceDeliveryPoint><ns0:name>E-TOU</ns0:name></ns0:ServiceDeliveryPoint>
  </ns0:UsagePoint></ns2:content>
  <ns2:updated>2024-06-21</ns2:updated>
 </ns2:entry>
 <ns2:entry>
  <ns2:link rel="self" href="https://utility.example/espi/LocalTimeParameters/1"/>
  <ns2:content><ns0:LocalTimeParameters><ns0:dstEndRule>B40E2000</ns0:dstEndRule>
   <ns0:dstOffset/><ns0:dstStartRule>360E2000</ns0:dstStartRule><ns0:tzOffset>-28800</ns0:tzOffset>
  </ns0:LocalTimeParameters></ns2:content>
 </ns2:entry>
 <ns2:entry>
  <ns2:link rel="self" href="https://utility.example/espi/User/7/UsagePoint/55/MeterReading/1"/>
  <ns2:link rel="up" href="https://utility.example/espi/User/7/UsagePoint/55/MeterReading"/>
  <ns2:content><ns0:MeterReading>
   <ns0:ReadingType><ns0:commodity>1</ns0:commodity><ns0:intervalLength>3600</ns0:intervalLength>
    <ns0:uom>72</ns0:uom><ns0:powerOfTenMultiplier>3</ns0:powerOfTenMultiplier>
    <ns0:timeAttribute>53</ns0:timeAttribute></ns0:ReadingType>
  </ns0:MeterReading></ns2:content>
 </ns2:entry>
 <ns2:entry>
  <ns2:link rel="self" href="https://utility.example/espi/User/7/UsagePoint/55/MeterReading/1/IntervalBlock/1"/>
  <ns2:link rel="up" href="https://utility.example/espi/User/7/UsagePoint/55/MeterReading/1/IntervalBlock"/>
  <ns2:content><ns0:IntervalBlock>
   <ns0:interval><ns0:start>1730617200.0</ns0:start><ns0:duration>10800</ns0:duration></ns0:interval>
   <ns0:IntervalReading><ns0:value>5</ns0:value></ns0:IntervalReading>
   <ns0:IntervalReading><ns0:value>6</ns0:value></ns0:IntervalReading>
   <ns0:IntervalReading><ns0:value>4294967296</ns0:value></ns0:IntervalReading>
  </ns0:IntervalBlock></ns2:content>
 </ns2:entry>
</ns2:feed>
"""

UPDATE = """<?xml version="1.0"?>
<entry xmlns="http://www.w3.org/2005/Atom">
 <link rel="self" href="https://utility.example/espi/User/7/UsagePoint/55/MeterReading/1/IntervalBlock/1"/>
 <link rel="up" href="https://utility.example/espi/User/7/UsagePoint/55/MeterReading/1/IntervalBlock"/>
 <content><IntervalBlock xmlns="http://naesb.org/espi">
  <interval><start>1730617200</start><duration>10800</duration></interval>
  <IntervalReading><timePeriod><start>1730617200</start><duration>3600</duration></timePeriod><value>5</value></IntervalReading>
  <IntervalReading><timePeriod><start>1730620800</start><duration>3600</duration></timePeriod><value>60</value></IntervalReading>
  <IntervalReading><timePeriod><start>1730624400</start><duration>3600</duration></timePeriod><value>7</value></IntervalReading>
 </IntervalBlock></content>
</entry>
"""


def test_quirky_feed_then_partial_update(tmp_path: Path, factory: sessionmaker[Session]) -> None:
    feed = tmp_path / "quirky.xml"
    feed.write_text(QUIRKY)
    summary = ingest_file(factory, feed, "q", LA)
    assert (summary.usage_points, summary.meter_readings, summary.readings) == (1, 1, 3)
    with factory() as session:
        up = session.scalars(select(um.UsagePoint)).one()
        assert up.service_delivery_point == {"name": "E-TOU"}
        assert up.updated == 1718928000  # a bare date
        assert up.local_time_parameters is not None
        assert up.local_time_parameters.dst_offset is None  # empty element
        mr = session.scalars(select(um.MeterReading)).one()
        assert mr.reading_type is not None  # nested in the MeterReading
        assert mr.reading_type.power_of_ten_multiplier == 3
        assert mr.reading_type.time_attribute == 53
        block = session.scalars(select(um.IntervalBlock)).one()
        r = blocks.decode(block.data)
        # No timePeriod: readings placed one after another across the block.
        assert r.starts == [1730617200, 1730620800, 1730624400]
        assert r.durations == [3600] * 3
        assert r.values == [5, 6, 4294967296]  # UInt32 overflow kept
        first_updated = block.updated

    update = tmp_path / "update.xml"
    update.write_text(UPDATE)
    again = ingest_file(factory, update, "q", LA)  # FB_19: IntervalBlock alone, single entry
    assert again.blocks.replaced == 1
    with factory() as session:
        block = session.scalars(select(um.IntervalBlock)).one()
        assert blocks.decode(block.data).values == [5, 60, 7]
        assert block.updated >= first_updated


def test_partial_update_for_another_customer_is_refused(
    tmp_path: Path, factory: sessionmaker[Session]
) -> None:
    feed = tmp_path / "quirky.xml"
    feed.write_text(QUIRKY)
    ingest_file(factory, feed, "q", LA)
    update = tmp_path / "update.xml"
    update.write_text(UPDATE)
    with pytest.raises(IngestError) as info:
        ingest_file(factory, update, "someone-else", LA)
    assert "neither in this file nor already stored" in str(info.value)


def test_readings_the_block_codec_cannot_pack_refuse_the_file(
    tmp_path: Path, factory: sessionmaker[Session]
) -> None:
    """More ReadingQuality codes on one reading than a block can hold is the file's
    fault: an IngestError naming the block, not an internal error."""
    qualities = "".join("<ReadingQuality><quality>8</quality></ReadingQuality>" for _ in range(256))
    feed = tmp_path / "many-qualities.xml"
    feed.write_text(
        UPDATE.replace(
            "<IntervalReading><timePeriod><start>1730617200",
            f"<IntervalReading>{qualities}<timePeriod><start>1730617200",
        )
    )
    first = tmp_path / "quirky.xml"
    first.write_text(QUIRKY)
    ingest_file(factory, first, "q", LA)
    with pytest.raises(IngestError) as info:
        ingest_file(factory, feed, "q", LA)
    assert "more than 255 ReadingQuality codes" in str(info.value)
    assert f"{feed}:5:" in str(info.value)
