"""Every public sample of shared/samples/xml is imported, or refused with a clear reason.

For each imported file the readings stored, and the sum of their values, equal an
independent count made here with plain lxml XPath over the file.
"""

from __future__ import annotations

from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from lxml import etree
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from gbconnect.customer.models import RetailCustomer
from gbconnect.ingest.errors import IngestError
from gbconnect.ingest.services import ingest_file
from gbconnect.usage import blocks
from gbconnect.usage.models import IntervalBlock, MeterReading, UsagePoint
from tests.shared import sample_names

ZONE = ZoneInfo("America/Los_Angeles")

#: Files refused, and why (a fragment of the message).
REFUSED = {
    "ApplicationInformation.xml": "holds ApplicationInformation",
    "ApplicationInformationSample.xml": "holds ApplicationInformation",
    "ESPIApplicationInformation.xml": "holds ApplicationInformation",
    "Authorization.xml": "holds Authorization",
    "AuthorizationSample.xml": "holds Authorization",
    "ESPIAuthorization.xml": "holds Authorization",
    "entryOnly.xml": "holds Authorization",
    # Fragments whose parent resource is not in the file (FB_19 partial updates need it
    # stored first).
    "ESPIElectricPowerUsageSummary.xml": "neither in this file nor already stored",
    "ESPIIntervalBlock.xml": "neither in this file nor already stored",
    "ESPIUsagePointMeterReading.xml": "neither in this file nor already stored",
    "ESPIUsagePointMeterReadings.xml": "neither in this file nor already stored",
    "ESPIUsageSummaries.xml": "neither in this file nor already stored",
    "ESPIUsageSummary.xml": "neither in this file nor already stored",
    "interval_block_1.xml": "neither in this file nor already stored",
    # Its summary names UsagePoint/3; the file has only UsagePoint/1.
    "oneusagepointsonecustomerthreemeasurements.xml": "UsagePoint/3",
    # Two readings share one start at the spring DST change.
    "Coastal_Single_Family_Jan_1_2011_to_Jan_1_2012.xml": "repeats the start",
    "Mountain_Single_family_Jan_1_2011_to_Jan_1_2012.xml": "repeats the start",
    "Retail Customer Statement Example.xml": "not an ESPI element",
    "ServiceCategory.xml": "not an Atom <feed> or <entry>",
    # Empty ServiceCategory kind and an empty ReadingType: nothing tells the commodity.
    "gas_containerized.xml": "no ServiceCategory kind",
}

ALL = sample_names()
NS = {"espi": "http://naesb.org/espi"}


def test_samples_are_all_there(samples: Path) -> None:
    assert len(ALL) == 65
    assert set(REFUSED) <= set(ALL)


def independent_count(path: Path) -> tuple[int, int]:
    """Readings and their value sum, by plain XPath over the IntervalBlocks."""
    tree = etree.parse(str(path), etree.XMLParser(resolve_entities=False, no_network=True))
    readings = tree.xpath("//espi:IntervalBlock/espi:IntervalReading", namespaces=NS)
    total = sum(
        int(v)
        for v in tree.xpath(
            "//espi:IntervalBlock/espi:IntervalReading/espi:value/text()", namespaces=NS
        )
    )
    return len(readings), total


def stored_count(factory: sessionmaker[Session], username: str) -> tuple[int, int]:
    with factory() as session:
        rows = (
            session.execute(
                select(IntervalBlock.data)
                .join(MeterReading)
                .join(UsagePoint)
                .join(RetailCustomer)
                .where(RetailCustomer.username == username)
            )
            .scalars()
            .all()
        )
    n = total = 0
    for data in rows:
        r = blocks.decode(data)
        n += len(r)
        total += sum(v for v in r.values if v is not None)
    return n, total


@pytest.mark.parametrize("name", ALL)
def test_sample(name: str, factory: sessionmaker[Session], samples: Path) -> None:
    path = samples / name
    if name in REFUSED:
        with pytest.raises(IngestError) as info:
            ingest_file(factory, path, "sample", ZONE)
        assert REFUSED[name] in str(info.value)
        assert str(info.value).startswith(str(path))
        with factory() as session:  # nothing of a refused file is stored
            assert session.scalars(select(UsagePoint)).first() is None
        return
    summary = ingest_file(factory, path, "sample", ZONE)
    expected = independent_count(path)
    assert stored_count(factory, "sample") == expected
    assert summary.readings == expected[0]
    # Importing the same file again changes nothing.
    again = ingest_file(factory, path, "sample", ZONE)
    assert again.blocks.inserted == again.blocks.replaced == again.blocks.trimmed == 0
    assert stored_count(factory, "sample") == expected
