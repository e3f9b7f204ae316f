"""Readings as rows, CSV and a pandas DataFrame (issue 13, export)."""

from __future__ import annotations

import csv
import io
import sys

import pytest

from gbconnect.client import Reading, readings, to_csv, to_dataframe, to_rows
from gbconnect.client.export import COLUMNS
from tests.unit.client.feeds import block, feed, meter_reading, reading, reading_type, usage_point

T = 1704067200
DOC = feed(
    usage_point(),
    meter_reading(),
    reading_type(power=-1),
    block(reading(T, 900, 15, "<cost>12345</cost>") + reading(T + 900, 900, 20)),
)


def test_rows_have_the_documented_columns() -> None:
    rows = list(to_rows(readings(DOC)))
    assert [list(r) for r in rows] == [list(COLUMNS)] * 2
    assert rows[0]["start"] == "2024-01-01T00:00:00Z" and rows[0]["value"] == 1.5
    assert rows[0]["cost"] == 0.12345 and rows[1]["cost"] is None and rows[0]["unit"] == "Wh"


def test_csv_has_a_header_and_one_row_per_reading() -> None:
    out = io.StringIO(newline="")
    assert to_csv(readings(DOC), out) == 2
    table = list(csv.reader(io.StringIO(out.getvalue())))
    assert table[0] == list(COLUMNS) and len(table) == 3
    assert table[2][COLUMNS.index("cost")] == "" and table[1][COLUMNS.index("duration")] == "900"


def test_non_readings_are_passed_over() -> None:
    from gbconnect.client import parse

    assert len(list(to_rows(parse(DOC)))) == 2  # type: ignore[arg-type]


def test_dataframe() -> None:
    frame = to_dataframe(readings(DOC))
    assert list(frame.columns) == list(COLUMNS) and len(frame) == 2
    assert str(frame["start"].dt.tz) == "UTC" and frame["value"].sum() == 3.5


def test_dataframe_without_pandas_says_how_to_install(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "pandas", None)
    with pytest.raises(ImportError, match=r"pip install 'gbconnect\[pandas\]'"):
        to_dataframe(iter([Reading("u", "m", T, 900, 1.0, "Wh", 1, None, None, 1)]))
