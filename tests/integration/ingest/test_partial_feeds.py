"""Feeds of one resource kind without their parent (issue 15 item 19): attached through
their link hierarchy to what an earlier import of the same source stored; refused,
naming the href they need, only when no such parent exists."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from gbconnect.ingest.errors import IngestError
from gbconnect.ingest.services import ingest_file
from gbconnect.usage import models as um
from tests.factories.world import ZONE

SUMMARY_FEED = """<feed xmlns="http://www.w3.org/2005/Atom"><id>urn:uuid:3</id>
<entry>
<link rel="self" href="http://localhost:8080/DataCustodian/espi/1_1/resource/RetailCustomer/1/UsagePoint/1/UsageSummary/9"/>
<link rel="up" href="http://localhost:8080/DataCustodian/espi/1_1/resource/RetailCustomer/1/UsagePoint/1/UsageSummary"/>
<content><UsageSummary xmlns="http://naesb.org/espi"><billingPeriod><duration>2592000</duration>
<start>1330560000</start></billingPeriod><statusTimeStamp>1333238400</statusTimeStamp>
</UsageSummary></content></entry>
</feed>
"""


def _count(factory: sessionmaker[Session], model: type[object]) -> int:
    with factory() as s:
        return int(s.scalar(select(func.count()).select_from(model)) or 0)


def test_interval_block_feed_attaches_to_the_stored_meter_reading(
    factory: sessionmaker[Session], samples: Path
) -> None:
    ingest_file(factory, samples / "resource.xml", "alice", ZONE)
    blocks_before = _count(factory, um.IntervalBlock)
    # The same MeterReading, named through RetailCustomer/1 rather than Subscription/5.
    summary = ingest_file(factory, samples / "interval_block_1.xml", "alice", ZONE)
    assert summary.meter_readings == 1 and summary.readings == 96
    assert _count(factory, um.MeterReading) == 1
    assert _count(factory, um.IntervalBlock) == blocks_before


def test_usage_summary_feed_attaches_to_the_stored_usage_point(
    factory: sessionmaker[Session], samples: Path, tmp_path: Path
) -> None:
    ingest_file(factory, samples / "resource.xml", "alice", ZONE)
    before = _count(factory, um.UsageSummary)
    path = tmp_path / "summary.xml"
    path.write_text(SUMMARY_FEED)
    summary = ingest_file(factory, path, "alice", ZONE)
    assert summary.summaries == 1
    assert _count(factory, um.UsageSummary) == before + 1
    assert _count(factory, um.UsagePoint) == 1


def test_feed_without_its_parent_is_refused_naming_the_href(
    factory: sessionmaker[Session], samples: Path
) -> None:
    ingest_file(factory, samples / "resource.xml", "alice", ZONE)  # another customer's
    with pytest.raises(IngestError) as info:
        ingest_file(factory, samples / "interval_block_1.xml", "bob", ZONE)
    needed = "http://localhost:8080/DataCustodian/espi/1_1/resource/RetailCustomer/1/UsagePoint/1/MeterReading/1"
    assert f"import the file holding {needed} first" in str(info.value)
