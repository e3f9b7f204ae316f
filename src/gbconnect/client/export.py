"""Readings as rows, CSV (RFC 4180 through the csv module) or a pandas DataFrame.

Columns: ``usage_point``, ``meter_reading``, ``start`` (ISO 8601 UTC, ``Z``),
``duration`` (seconds), ``value`` (in ``unit``), ``unit``, ``cost`` (currency units),
``quality``, ``flow_direction``.
"""

from __future__ import annotations

import csv
import time
from collections.abc import Iterable, Iterator
from typing import TYPE_CHECKING, Any, TextIO

from gbconnect.client.parser.model import Reading

if TYPE_CHECKING:  # pragma: no cover
    import pandas

COLUMNS = (
    "usage_point",
    "meter_reading",
    "start",
    "duration",
    "value",
    "unit",
    "cost",
    "quality",
    "flow_direction",
)


def iso_utc(epoch: int) -> str:
    """Seconds since 1970 as ``YYYY-MM-DDTHH:MM:SSZ``."""
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(epoch))


def to_rows(items: Iterable[Reading]) -> Iterator[dict[str, Any]]:
    """One dict per reading (other items of :func:`parse` are passed over)."""
    for r in items:
        if not isinstance(r, Reading):
            continue
        yield {
            "usage_point": r.usage_point,
            "meter_reading": r.meter_reading,
            "start": iso_utc(r.start),
            "duration": r.duration,
            "value": r.value,
            "unit": r.unit,
            "cost": r.cost,
            "quality": r.quality,
            "flow_direction": r.flow_direction,
        }


def to_csv(items: Iterable[Reading], out: TextIO) -> int:
    """Write a header row and one row per reading to ``out`` (open it with
    ``newline=""``); return the number of readings written."""
    writer = csv.writer(out)
    writer.writerow(COLUMNS)
    n = 0
    for row in to_rows(items):
        writer.writerow(["" if row[c] is None else row[c] for c in COLUMNS])
        n += 1
    return n


def to_dataframe(items: Iterable[Reading]) -> pandas.DataFrame:
    """A DataFrame of the readings, ``start`` as UTC timestamps. Needs pandas:
    ``pip install 'gbconnect[pandas]'``."""
    try:
        import pandas
    except ImportError:
        raise ImportError("to_dataframe needs pandas: pip install 'gbconnect[pandas]'") from None
    frame = pandas.DataFrame.from_records(list(to_rows(items)), columns=list(COLUMNS))
    frame["start"] = pandas.to_datetime(frame["start"], utc=True)
    return frame
