"""What the sample app keeps of a feed (gbconnect.sample_thirdparty.custodian.load):
readings of delta channels under the subscription their UsagePoint names, the
UsagePoint's LocalTimeParameters; register reads (accumulationBehaviour 1, REQ.21
FB_9) are not summed as energy; a document that cannot be read is a sentence."""

from __future__ import annotations

from pathlib import Path

import pytest

from gbconnect.sample_thirdparty.config import SampleConfig
from gbconnect.sample_thirdparty.custodian import Custodian, UtilityError, subscription_key
from gbconnect.sample_thirdparty.store import Store

BASE = "https://dc.example/DataCustodian/espi/1_1/resource"
POINT = f"{BASE}/Subscription/77/UsagePoint/5"
START = 1714546800  # 2024-05-01T07:00:00Z
ESPI = 'xmlns="http://naesb.org/espi"'


def _entry(href: str, content: str, related: tuple[str, ...] = (), up: str | None = None) -> str:
    links = f'<link rel="self" href="{href}"/>'
    links += f'<link rel="up" href="{up}"/>' if up else ""
    links += "".join(f'<link rel="related" href="{r}"/>' for r in related)
    return (
        f"<entry><id>urn:uuid:00000000-0000-0000-0000-{abs(hash(href)) % 10**12:012d}</id>"
        "<title>x</title><published>2024-05-01T00:00:00Z</published>"
        f"<updated>2024-05-01T00:00:00Z</updated>{links}"
        f'<content type="application/xml">{content}</content></entry>'
    )


def _channel(n: str, accumulation: int, values: list[int], duration: int) -> list[str]:
    href, rt = f"{POINT}/MeterReading/{n}", f"{BASE}/ReadingType/{n}"
    readings = "".join(
        f"<IntervalReading><timePeriod><duration>{duration}</duration>"
        f"<start>{START + i * duration}</start></timePeriod><value>{v}</value></IntervalReading>"
        for i, v in enumerate(values)
    )
    return [
        _entry(
            href, f"<MeterReading {ESPI}/>", (f"{href}/IntervalBlock", rt), f"{POINT}/MeterReading"
        ),
        _entry(
            rt,
            f"<ReadingType {ESPI}><accumulationBehaviour>{accumulation}</accumulationBehaviour>"
            "<commodity>1</commodity><flowDirection>1</flowDirection>"
            f"<intervalLength>{duration}</intervalLength><kind>12</kind>"
            "<powerOfTenMultiplier>0</powerOfTenMultiplier><uom>72</uom></ReadingType>",
        ),
        _entry(
            f"{href}/IntervalBlock/1",
            f"<IntervalBlock {ESPI}><interval><duration>{duration * len(values)}</duration>"
            f"<start>{START}</start></interval>{readings}</IntervalBlock>",
            up=f"{href}/IntervalBlock",
        ),
    ]


def feed() -> bytes:
    """A UsagePoint with its LocalTimeParameters, a 15-minute delta channel and a
    daily register channel."""
    entries = [
        _entry(
            POINT,
            f"<UsagePoint {ESPI}><ServiceCategory><kind>0</kind></ServiceCategory></UsagePoint>",
            (f"{POINT}/MeterReading", f"{BASE}/LocalTimeParameters/1"),
        ),
        _entry(
            f"{BASE}/LocalTimeParameters/1",
            f"<LocalTimeParameters {ESPI}><dstEndRule>B40E2000</dstEndRule>"
            "<dstOffset>3600</dstOffset><dstStartRule>360E2000</dstStartRule>"
            "<tzOffset>-28800</tzOffset></LocalTimeParameters>",
        ),
        *_channel("1", 4, [100, 200, 300, 400], 900),
        *_channel("2", 1, [50000], 86400),
    ]
    return (
        '<feed xmlns="http://www.w3.org/2005/Atom"><id>urn:uuid:00000000-0000-0000-0000-000000000001'
        "</id><title>t</title><updated>2024-05-01T00:00:00Z</updated>"
        + "".join(entries)
        + "</feed>"
    ).encode()


@pytest.fixture
def custodian(tmp_path: Path) -> Custodian:
    config = SampleConfig("https://dc.example", "id", "secret", "http://127.0.0.1:8001", tmp_path)
    return Custodian(config, Store(tmp_path / "s.sqlite3"))


def test_delta_readings_kept_register_reads_left_out(custodian: Custodian) -> None:
    loaded = custodian.load(feed(), "fallback")
    assert (loaded.usage_points, loaded.readings) == (1, 4)
    (point,) = custodian.store.usage_points("77")
    assert point.href == POINT and point.service_kind == 0
    assert point.local_time is not None and point.local_time["tz_offset"] == -28800
    got = custodian.store.readings("77", POINT)
    assert [r.value for r in got] == [100, 200, 300, 400]
    assert {r.meter_reading for r in got} == {f"{POINT}/MeterReading/1"}


def test_loading_twice_stores_each_reading_once(custodian: Custodian) -> None:
    custodian.load(feed(), "fallback")
    custodian.load(feed(), "fallback")
    assert custodian.store.reading_count("77") == 4


@pytest.mark.parametrize(
    "body", [b"", b"<feed", b"<!DOCTYPE x [<!ENTITY a 'b'>]><feed>&a;</feed>", b"\xff\xfe"]
)
def test_a_document_that_cannot_be_read_is_a_sentence(custodian: Custodian, body: bytes) -> None:
    with pytest.raises(UtilityError, match="cannot be read"):
        custodian.load(body, "fallback")
    assert custodian.store.reading_count("fallback") == 0


@pytest.mark.parametrize(
    ("url", "key"),
    [
        (f"{BASE}/Batch/Subscription/42", "42"),
        (f"{BASE}/Subscription/42/UsagePoint/7", "42"),
        ("Subscription/9/UsagePoint/1", "9"),
        (f"{BASE}/Batch/Bulk/3", f"{BASE}/Batch/Bulk/3"),
    ],
)
def test_subscription_key(url: str, key: str) -> None:
    assert subscription_key(url) == key


def test_the_page_window_keeps_the_last_days(custodian: Custodian) -> None:
    custodian.load(feed(), "fallback")
    assert len(custodian.store.readings("77", POINT, last_days=1)) == 4
    # The last reading starts 2700 s after the first: a window of 0 days keeps none
    # before the latest start, and "the last days" counts back from the data, not now.
    assert custodian.store.readings("77", POINT, last_days=0) == []
