"""Arrow's fast CSV columns and the exact text reader give the same channels.

The fast path (``gbconnect.ingest.csv.columns.ArrowColumns``) reads large files; the
exact one names the line of a bad field. Any file both can read must come out the
same, so every layout variant here is read both ways and compared reading by reading.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import numpy as np
import pytest

from gbconnect.ingest.csv import read_csv
from gbconnect.ingest.errors import IngestError
from gbconnect.ingest.series import Channel

LA = ZoneInfo("America/Los_Angeles")


def _interleaved_meters(rows: int) -> str:
    """Two meters and two flows interleaved over more than one Arrow block (1 MiB)."""
    out = ["usage_point,start,duration,value,unit,flow,cost,quality"]
    t0 = 1704067200
    for i in range(rows):
        meter = "SP-A" if i % 3 else "SP-B"
        flow = "reverse" if i % 7 == 0 else "forward"
        start = datetime.fromtimestamp(t0 + (i // 6) * 900, ZoneInfo("UTC"))
        cost = f"{i % 50 / 100:.2f}" if i % 5 else ""
        quality = "8" if i % 11 == 0 else ""
        stamp = start.strftime("%Y-%m-%dT%H:%M:%SZ")
        out.append(f"{meter}-{i % 6},{stamp},900,{i % 977 / 1000:.3f},kWh,{flow},{cost},{quality}")
    return "\n".join(out) + "\n"


def _pge(rows: int, cost: str = "$0.05", note: str = "") -> str:
    head = (
        'Name,Pat\nAddress,"1 Main St, Oakland"\nAccount Number,42\nService,E1\n\n'
        "TYPE,DATE,START TIME,END TIME,USAGE (kWh),COST,NOTES\n"
    )
    lines = []
    start = datetime(2024, 11, 2, 0, 0, tzinfo=LA)  # crosses the autumn DST change
    for i in range(rows):
        s = (start.astimezone(ZoneInfo("UTC")) + timedelta(minutes=15 * i)).astimezone(LA)
        e = s + timedelta(minutes=14)
        n = note if i % 9 == 0 else ""
        lines.append(f"Electric usage,{s:%Y-%m-%d},{s:%H:%M},{e:%H:%M},{i / 100:.2f},{cost},{n}")
    return head + "\n".join(lines) + "\n"


CASES = {
    "gbconnect minimal": "usage_point,start,duration,value\nA,2024-01-01T00:00:00Z,900,1.5\n",
    "gbconnect offsets and blank lines": (
        "# comment\nusage_point,start,duration,value\n"
        "A,2024-01-01T00:00:00+01:00,900,1\n\nA,2024-01-01T00:15:00+01:00,900,2\n"
    ),
    "gbconnect unsorted": (
        "usage_point,start,duration,value\n"
        "A,2024-01-01T00:15:00Z,900,2\nA,2024-01-01T00:00:00Z,900,1\n"
    ),
    "gbconnect money cost": (
        "usage_point,start,duration,value,cost\nA,2024-01-01T00:00:00Z,900,1,$1.25\n"
        "A,2024-01-01T00:15:00Z,900,1,\n"
    ),
    "gbconnect interleaved, several Arrow blocks": _interleaved_meters(40_000),
    "PG&E over the autumn DST change": _pge(400, note="Estimated"),
    "PG&E thousands in cost": _pge(10, cost='"$1,234.50"'),
    "PG&E IMPORT/EXPORT": (
        "Name,Pat\n\nTYPE,DATE,START TIME,END TIME,IMPORT (kWh),EXPORT (kWh),COST,NOTES\n"
        "Electric usage,2024-06-01,12:00,12:14,0.0,0.75,$0.00,\n"
        "Electric usage,2024-06-01,12:15,12:29,,0.5,$0.00,\n"
    ),
}


def _same(a: list[Channel], b: list[Channel]) -> None:
    assert len(a) == len(b)
    for x, y in zip(a, b, strict=True):
        assert (x.usage_point_key, x.service_kind, x.reading_type) == (
            y.usage_point_key,
            y.service_kind,
            y.reading_type,
        )
        for name in ("starts", "durations", "values", "lines"):
            assert np.array_equal(getattr(x, name), getattr(y, name)), name
        assert (x.costs is None) == (y.costs is None)
        if x.costs is not None:
            assert np.array_equal(x.costs, y.costs)
        assert x.qualities == y.qualities


@pytest.mark.parametrize("name", list(CASES))
def test_fast_and_exact_readers_agree(name: str) -> None:
    text = CASES[name]
    fast_layout, fast = read_csv("f.csv", text, LA)
    exact_layout, exact = read_csv("f.csv", text, LA, fast=False)
    assert fast_layout == exact_layout
    assert sum(ch.starts.size for ch in fast) > 0
    _same(fast, exact)


def test_interleaved_meters_are_grouped() -> None:
    _, channels = read_csv("f.csv", _interleaved_meters(40_000), LA)
    assert len(channels) == 12  # 6 meter ids x 2 flows, in order of first appearance
    assert channels[0].usage_point_key == "csv:SP-B-0"
    assert sum(ch.starts.size for ch in channels) == 40_000
    assert all(ch.qualities is not None for ch in channels if ch.usage_point_key.endswith("-0"))


@pytest.mark.parametrize(
    ("body", "line", "message"),
    [
        ("A,2024-01-01T00:00:00Z,900,1\nA,2024-01-01T00:15:00Z,900,x\n", 3, "is not a number"),
        ("A,2024-01-01T00:00:00Z,900,1\nA,2024-01-01T00:15:00Z,900\n", 3, "3 fields, 4 expected"),
        ("A,2024-01-01T00:00:00Z,900,1\nA,2024-01-01T25:00:00Z,900,1\n", 3, "date-time"),
        ("A,2024-01-01T00:00:00Z,900,1\nA,,900,1\n", 3, "not an RFC 3339 date-time"),
        ("A,2024-01-01T00:00:00Z,900,1e400\n", 2, "finite"),
    ],
)
def test_a_bad_field_falls_back_to_the_exact_reader(body: str, line: int, message: str) -> None:
    with pytest.raises(IngestError) as info:
        read_csv("bad.csv", "usage_point,start,duration,value\n" + body, LA)
    assert f"bad.csv:{line}:" in str(info.value)
    assert message in str(info.value)


@pytest.mark.parametrize("fast", [True, False])
def test_a_label_xml_cannot_carry_is_refused(fast: bool) -> None:
    """A UsagePoint name becomes an Atom title: a control character would make every
    feed of that customer unwritable, so the file is refused at the door."""
    body = "A,2024-01-01T00:00:00Z,900,1\nB\x01,2024-01-01T00:00:00Z,900,1\n"
    with pytest.raises(IngestError) as info:
        read_csv("bad.csv", "usage_point,start,duration,value\n" + body, LA, fast=fast)
    assert "bad.csv:3:" in str(info.value)
    assert "XML 1.0 forbids" in str(info.value)
