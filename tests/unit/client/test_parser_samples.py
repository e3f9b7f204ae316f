"""Every public sample in ``../shared/samples/xml`` that carries IntervalReadings: the
SDK's count and sum of raw values equal an independent count (a plain
``etree.parse`` and an xpath on ``{espi}IntervalReading``), the readings it skips on
purpose (no timePeriod or no value) counted apart (issue 13, parser test a)."""

from __future__ import annotations

from pathlib import Path

import pytest
from lxml import etree

from gbconnect.client import FeedStats, MeterReading, Reading, UsagePoint, parse
from tests.shared import samples_dir

ESPI = "http://naesb.org/espi"
NS = {"e": ESPI}


def _with_readings() -> list[Path]:
    return [p for p in sorted(samples_dir().glob("*.xml")) if b"IntervalReading" in p.read_bytes()]


def independent(path: Path) -> tuple[int, int, int]:
    """(readable readings, sum of their values, skipped) by plain lxml."""
    tree = etree.parse(str(path), etree.XMLParser(resolve_entities=False, no_network=True))
    count = total = skipped = 0
    for el in tree.xpath("//e:IntervalReading", namespaces=NS):
        value = el.xpath("string(e:value)", namespaces=NS)
        if not el.xpath("e:timePeriod", namespaces=NS) or not el.xpath("e:value", namespaces=NS):
            skipped += 1
            continue
        count += 1
        total += int(value)
    return count, total, skipped


@pytest.mark.parametrize("path", _with_readings(), ids=lambda p: p.name)
def test_sample_readings_match_an_independent_count(path: Path) -> None:
    stats = FeedStats()
    items = list(parse(path, stats))
    got = [i for i in items if isinstance(i, Reading)]
    count, total, skipped = independent(path)
    assert (len(got), sum(r.raw_value for r in got)) == (count, total)
    assert (stats.readings, stats.skipped) == (count, skipped)
    points = {i.href for i in items if isinstance(i, UsagePoint)}
    owners = {i.usage_point for i in items if isinstance(i, MeterReading)}
    if points and owners <= points:
        # Where the file's own links agree (two samples misspell their hrefs), every
        # reading belongs to a usage point of the file.
        assert {r.usage_point for r in got} <= points


def test_samples_with_readings_exist() -> None:
    assert len(_with_readings()) >= 40
