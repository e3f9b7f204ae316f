"""The link rules the conformance tester adds to the validator (STANDARD.md section
1; OpenESPI-Common-java #325: the MeterReading without its IntervalBlock link)."""

from __future__ import annotations

from lxml import etree

from gbconnect.conformance.documents import link_problems, links

FEED = b"""<feed xmlns="http://www.w3.org/2005/Atom" xmlns:e="http://naesb.org/espi">
<entry><link rel="self" href="https://dc/r/MeterReading/1"/><link rel="up" href="https://dc/r/MeterReading"/>
<link rel="related" href="https://dc/r/ReadingType/2"/>%s
<content><e:MeterReading/></content></entry>
<entry><link rel="self" href="https://dc/r/UsagePoint/3"/>
<content><e:UsagePoint/></content></entry>
</feed>"""


def test_a_meter_reading_without_its_interval_block_link_is_found() -> None:
    problems = list(link_problems(etree.fromstring(FEED % b"")))
    assert any("MeterReading entry has no related link to its IntervalBlock" in p for p in problems)
    assert any("UsagePoint entry has no up link" in p for p in problems)
    assert any("UsagePoint entry has no related link to its MeterReading" in p for p in problems)


def test_a_complete_meter_reading_passes() -> None:
    block = b'<link rel="related" href="https://dc/r/MeterReading/1/IntervalBlock"/>'
    problems = list(link_problems(etree.fromstring(FEED % block)))
    assert not [p for p in problems if "a MeterReading entry" in p]


def test_links_are_listed_once_in_order() -> None:
    assert links(FEED % b"") == [
        "https://dc/r/MeterReading/1",
        "https://dc/r/MeterReading",
        "https://dc/r/ReadingType/2",
        "https://dc/r/UsagePoint/3",
    ]
    assert links(b"not xml") == []
