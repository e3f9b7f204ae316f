"""What every CSV layout shares: units to ReadingTypes, the file being read, and the
last step from typed columns to a :class:`~gbconnect.ingest.series.Channel`.

A channel holds readings in true UTC (local wall-clock times converted, DST hours
included), values as integers with a ReadingType that says their unit and scale,
sorted by start, each start once (REQ.21 FB_4: readings are unique by start).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar
from zoneinfo import ZoneInfo

import numpy as np
from numpy.typing import NDArray

from gbconnect.espi.atom import writable
from gbconnect.ingest.csv.columns import ArrowColumns, Columns, TextColumns, split_columns
from gbconnect.ingest.errors import FieldError, IngestError, LocalTimeError, Unparsable, WidthError
from gbconnect.ingest.series import Channel

I64 = NDArray[np.int64]
F64 = NDArray[np.float64]

ESTIMATED = 8  # QualityOfReading: estimated using reference day

# ReadingType per unit (REQ.21 FB_5 electricity, FB_10 gas, FB_11 water):
# (service kind, commodity, kind, uom, power of ten, scale from the CSV unit)
UNITS: dict[str, tuple[int, int, int, int, int, float]] = {
    "wh": (0, 1, 12, 72, 0, 1.0),
    "kwh": (0, 1, 12, 72, 0, 1000.0),
    "therm": (1, 7, 12, 169, -3, 1000.0),
    "therms": (1, 7, 12, 169, -3, 1000.0),
    "ccf": (1, 7, 58, 42, -2, 283.168),  # 100 cubic feet as m3 x 10^-2
    "m3": (1, 7, 58, 42, -3, 1000.0),
    "gal": (2, 9, 58, 128, -3, 1000.0),
}
#: Flow names -> FlowDirectionKind (REQ.21 FB_8).
FLOW = {
    "forward": 1,
    "delivered": 1,
    "import": 1,
    "reverse": 19,
    "received": 19,
    "export": 19,
    "net": 4,
}
#: Money in the file (dollars) -> Int48 cost in 1/100000 of the currency (REQ.21 FB_12).
COST_SCALE = 100000.0


def reading_type(
    unit: str, interval: int, flow: int, with_cost: bool
) -> tuple[int, dict[str, int]]:
    """(ServiceKind, ReadingType columns) for readings in ``unit`` (a key of UNITS)."""
    service, commodity, kind, uom, power, _ = UNITS[unit]
    rt = {
        "accumulation_behaviour": 4,
        "commodity": commodity,
        "flow_direction": flow,
        "interval_length": interval,
        "kind": kind,
        "uom": uom,
        "power_of_ten_multiplier": power,
        "time_attribute": 0,
        "phase": 769 if service == 0 else 0,
        "data_qualifier": 12,
        "default_quality": 0,
    }
    if with_cost:
        rt["currency"] = 840
    return service, rt


@dataclass
class CsvFile:
    """The file a layout reads: its name, its time zone and where its data rows start."""

    path: str
    zone: ZoneInfo
    first_data_line: int  # 1-based line of the first data row

    def fail(self, message: str, row: int | None = None) -> IngestError:
        line = self.first_data_line + row if row is not None else None
        return IngestError(self.path, message, line)


T = TypeVar("T")


def guard(src: CsvFile, fn: Callable[[], T], rows: I64 | None = None) -> T:
    """Run a column parser; a bad field becomes an IngestError naming its line.

    ``rows`` maps the parsed column's positions back to data rows when the column
    is a selection of the file's rows.
    """
    try:
        return fn()
    except (FieldError, LocalTimeError) as exc:
        row = int(rows[exc.index]) if rows is not None else exc.index
        raise src.fail(str(exc), row) from None


def read_columns(
    doc: CsvText,
    at: int,
    names: list[str],
    kinds: dict[str, str],
    channels: Callable[[CsvFile, Columns], list[Channel]],
    fast: bool = True,
) -> list[Channel]:
    """``channels`` over the typed columns of the rows after the header on line ``at``
    (``names``, typed by ``kinds``: see :meth:`ArrowColumns.read`): Arrow's columns,
    or the exact reader's when Arrow gives up (the exact reader names the line of the
    first bad field) or ``fast`` is false."""
    src = CsvFile(doc.path, doc.zone, at + 2)
    body = after_line(doc.text, at)
    if fast:
        try:
            return channels(src, ArrowColumns.read(body, names, kinds))
        except Unparsable:
            pass
    try:
        cols = split_columns(body, len(names))
    except WidthError as exc:
        raise src.fail(str(exc), exc.index) from None
    return channels(src, TextColumns(names, cols))


def _mode(durations: I64) -> int:
    """The most common interval length: the ReadingType's intervalLength."""
    return int(np.bincount(durations.clip(0, 10**7)).argmax()) if durations.size else 0


def channel(
    src: CsvFile,
    key: str,
    title: str | None,
    unit: str,
    flow: str,
    starts: I64,
    durations: I64,
    values: I64,
    lines: I64,
    costs: I64 | None = None,
    qualities: list[tuple[int, ...]] | None = None,
) -> Channel:
    """One UsagePoint's readings of one unit and flow, sorted by start; a time given
    twice or an interval that ends before it starts refuses the file."""
    for label in (key, title):
        if label is not None and not writable(label):
            first = int(lines[0]) if lines.size else None
            message = f"{label[:40]!r} holds a character XML 1.0 forbids (ESPI cannot carry it)"
            raise IngestError(src.path, message, first)
    service, rt = reading_type(unit, _mode(durations), FLOW[flow], costs is not None)
    ch = Channel(key, title, service, rt, starts, durations, values, costs, qualities, lines=lines)
    if not (np.diff(ch.starts) > 0).all():
        order = np.argsort(ch.starts, kind="stable")
        ch.starts, ch.durations, ch.values = (
            ch.starts[order],
            ch.durations[order],
            ch.values[order],
        )
        if ch.costs is not None:
            ch.costs = ch.costs[order]
        if ch.qualities is not None:
            ch.qualities = [ch.qualities[i] for i in order.tolist()]
        if ch.lines is not None:
            ch.lines = ch.lines[order]

    def line(i: int) -> int | None:
        return int(ch.lines[i]) if ch.lines is not None else None

    dup = np.flatnonzero(np.diff(ch.starts) == 0)
    if dup.size:
        message = "the same interval appears twice for one meter"
        raise IngestError(src.path, message, line(int(dup[0]) + 1))
    if (ch.durations <= 0).any():
        i = int(np.flatnonzero(ch.durations <= 0)[0])
        raise IngestError(src.path, "an interval ends before it starts", line(i))
    return ch


def after_line(text: str, index: int) -> str:
    """The text after line ``index`` (0-based)."""
    parts = text.split("\n", index + 1)
    return parts[index + 1] if len(parts) > index + 1 else ""


def first_content_line(lines: list[str]) -> int:
    """The index of the first line that is neither blank nor a ``#`` comment."""
    at = 0
    while at < len(lines) and (lines[at].startswith("#") or not lines[at].strip()):
        at += 1
    return at


@dataclass(frozen=True, slots=True)
class CsvText:
    """A whole CSV file as text, and its first lines (where layouts show themselves)."""

    path: str
    text: str
    zone: ZoneInfo
    lines: list[str]


@dataclass(frozen=True, slots=True)
class Layout:
    """One CSV layout: how to recognise it and how to read it."""

    name: str
    #: Place in the sniffing chain: a lower tier is tried first; within a tier the
    #: layout whose header stands on the earliest line wins.
    tier: int
    #: (path, first lines) -> the line index of its header, None if not this layout.
    find: Callable[[str, list[str]], int | None]
    #: (file, header line index, fast) -> channels.
    read: Callable[[CsvText, int, bool], list[Channel]]
