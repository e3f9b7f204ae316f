"""The plain-block reader (issue: performance): which IntervalBlocks it reads column by
column, and which it leaves to the general reader (``None``).

That both readers store the same bytes is tests/integration/ingest/test_block_bytes.py.
"""

from __future__ import annotations

from typing import Any

import pytest
from lxml import etree

from gbconnect.espi.xmlreader import hardened_parser
from gbconnect.ingest.espi.plain_blocks import plain_readings

ESPI = "http://naesb.org/espi"
S = 1704096000


def block(*readings: str, interval: str | None = None, prefix: str = "") -> Any:
    """An IntervalBlock, one child a line; ``interval`` before the readings by default."""
    head = (
        f"<interval><duration>{900 * len(readings)}</duration><start>{S}</start></interval>"
        if interval is None
        else interval
    )
    body = "\n".join([head, *readings])
    return etree.fromstring(
        f'<IntervalBlock xmlns="{ESPI}">\n{body}\n</IntervalBlock>'.encode(), hardened_parser()
    )


def ir(start: object = S, value: object = 5, duration: object = 900, extra: str = "") -> str:
    return (
        f"<IntervalReading><timePeriod><duration>{duration}</duration><start>{start}</start>"
        f"</timePeriod><value>{value}</value>{extra}</IntervalReading>"
    )


def test_plain_readings_by_column_with_their_lines() -> None:
    got = plain_readings(block(ir(S, 5), ir(S + 900, -7), ir(S + 1800, " 12 ")))
    assert got is not None
    assert got.starts == [S, S + 900, S + 1800]
    assert got.durations == [900, 900, 900]
    assert got.values == [5, -7, 12]
    assert got.lines == [3, 4, 5]


def test_element_order_and_prefix_do_not_matter() -> None:
    reading = (
        f"<e:IntervalReading xmlns:e='{ESPI}'><e:value>3</e:value><e:timePeriod>"
        f"<e:start>{S}</e:start><e:duration>60</e:duration></e:timePeriod></e:IntervalReading>"
    )
    got = plain_readings(block(reading, interval=""))
    assert got is not None
    assert (got.starts, got.durations, got.values) == ([S], [60], [3])


def test_unsorted_and_duplicate_starts_are_read_as_written() -> None:
    """Ordering and the FB_4 refusal of a repeated start are the caller's."""
    got = plain_readings(block(ir(S + 900), ir(S), ir(S)))
    assert got is not None
    assert got.starts == [S + 900, S, S]


@pytest.mark.parametrize(
    "readings",
    [
        pytest.param([], id="no-readings"),
        pytest.param([ir(), "<IntervalReading><value>1</value></IntervalReading>"], id="no-tp"),
        pytest.param([ir(value="")], id="empty-value"),
        pytest.param([ir(value="  ")], id="blank-value"),
        pytest.param([ir(value="1.5")], id="float-value"),
        pytest.param([ir(value=2**63)], id="value-beyond-int64"),
        pytest.param([ir(start=f"{S}.0")], id="float-start"),
        pytest.param([ir(start=S * 1000)], id="millisecond-start"),
        pytest.param([ir(start=-(10**11))], id="start-below-threshold"),
        pytest.param([ir(start="")], id="empty-start"),
        pytest.param([ir(duration=-1)], id="negative-duration"),
        pytest.param([ir(duration=2**32)], id="duration-beyond-uint32"),
        pytest.param([ir(extra="<cost>1</cost>")], id="cost"),
        pytest.param([ir(extra="<note/>")], id="unknown-child"),
        pytest.param([ir(extra="<value>6</value>")], id="two-values"),
        pytest.param([ir().replace("</timePeriod>", "<end>1</end></timePeriod>")], id="tp-extra"),
        pytest.param(
            [
                ir(),
                "<IntervalReading><timePeriod><duration>900</duration></timePeriod>"
                "<value>1</value><start>0</start></IntervalReading>",
            ],
            id="start-outside-tp",
        ),
    ],
)
def test_anything_else_goes_to_the_general_reader(readings: list[str]) -> None:
    assert plain_readings(block(*readings)) is None


def test_a_value_elsewhere_in_the_block_is_not_plain() -> None:
    assert plain_readings(block(ir(), interval="<other><value>1</value></other>")) is None


def test_an_interval_after_the_readings_is_left_to_the_general_reader() -> None:
    interval = f"<interval><duration>900</duration><start>{S}</start></interval>"
    p = block(ir(), interval="")
    p.append(etree.fromstring(f'<x xmlns="{ESPI}">{interval}</x>')[0])
    assert plain_readings(p) is None
