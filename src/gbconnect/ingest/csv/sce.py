"""SCE "Green Button Download My Data" CSV (CSV-LAYOUTS.md): sections per location
(``For location:``) and flow, each a run of ``"start to end",usage[,quality]`` rows in
local wall-clock time.

Net-metering and solar-plan files have a delivered and a received section. Real
downloads name the direction only in each section's column header
(``Energy\u00a0Received time period,Usage\u00a0Received(...)``, with a non-breaking
space); older files put a line ``Energy Delivered`` or ``Energy Received`` of its own
before the section. Both are read. A file whose sections repeat an interval without
naming their direction cannot be split into delivered and received and is refused."""

from __future__ import annotations

import csv
import re

import numpy as np

from gbconnect.ingest.csv.channels import ESTIMATED, CsvFile, CsvText, Layout, channel
from gbconnect.ingest.csv.text import parse_datetimes, parse_numbers
from gbconnect.ingest.errors import FieldError, IngestError, LocalTimeError
from gbconnect.ingest.localtime import local_to_utc
from gbconnect.ingest.series import Channel

_RANGE = re.compile(
    r"^\s*(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d)\s+to\s+(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d)\s*$"
)
_MARKERS = ("energy consumption time period", "data for period starting")
# "Energy Delivered" / "Energy Received", alone or as the first cell of a column header.
_DIRECTION = re.compile(r"^energy\s+(delivered|received)\b")
_FLOW = {"delivered": "forward", "received": "reverse"}
_UNTOLD = (
    "the interval {start} to {end} appears in two sections and neither names its "
    "direction: delivered and received sections cannot be told apart (expected "
    "'Energy Delivered'/'Energy Received' in a line of its own or in the column header)"
)


def _plain(text: str) -> str:
    """Lower case, non-breaking and repeated spaces as one space."""
    return " ".join(text.replace("\u00a0", " ").split()).lower()


def find(path: str, lines: list[str]) -> int | None:
    """SCE files show themselves by a marker line within the first 60, not a header."""
    return 0 if any(m in ln.lower() for ln in lines[:60] for m in _MARKERS) else None


def read(doc: CsvText, at: int, fast: bool = True) -> list[Channel]:
    """Daily blocks of ``"start to end",usage[,quality]`` rows, per section."""
    path, zone = doc.path, doc.zone
    location = "location"
    flow = "forward"
    named = False  # the current flow was named by the file
    section = 0
    data: dict[str, tuple[list[str], list[str], list[str], list[str], list[int]]] = {}
    first_section: dict[str, dict[str, int]] = {}
    for number, line in enumerate(doc.text.splitlines(), start=1):
        text = line.strip().lstrip("\ufeff")
        if not text:
            continue
        low = _plain(text)
        if low.startswith("for location:"):
            location = text.split(":", 1)[1].strip().strip('"') or location
            continue
        row = next(csv.reader([text]))
        direction = _DIRECTION.match(_plain(row[0])) if row else None
        if direction:
            flow, named = _FLOW[direction.group(1)], True
            section += 1
            continue
        m = _RANGE.match(row[0]) if row else None
        if not m:
            section += 1  # "Data for period starting", a column header or preamble
            continue
        if len(row) < 2:
            raise IngestError(path, "reading row has no usage value", number)
        if not named:
            # The autumn repeated hour recurs within a section, a second flow's
            # section repeats the whole day.
            seen = first_section.setdefault(flow, {})
            if seen.setdefault(m.group(1), section) != section:
                raise IngestError(path, _UNTOLD.format(start=m.group(1), end=m.group(2)), number)
        bucket = data.setdefault(flow, ([], [], [], [], []))
        bucket[0].append(m.group(1))
        bucket[1].append(m.group(2))
        bucket[2].append(row[1].strip())
        bucket[3].append(row[2].strip() if len(row) > 2 else "")
        bucket[4].append(number)
    if not data:
        raise IngestError(path, 'no SCE reading rows ("start to end",usage) found', None)
    channels = []
    src = CsvFile(path, zone, 0)
    for flow_name, (s_col, e_col, v_col, q_col, numbers) in data.items():
        try:
            s_local = parse_datetimes(s_col)
            e_local = parse_datetimes(e_col)
            starts = local_to_utc(s_local, zone)
            vals = parse_numbers(v_col, 1000.0, "usage")
        except (FieldError, LocalTimeError) as exc:
            raise IngestError(path, str(exc), numbers[exc.index]) from None
        durations = e_local - s_local
        # The autumn repeated hour: wall-clock durations are right, ends may not be.
        qualities: list[tuple[int, ...]] | None = None
        if any("estimat" in q.lower() for q in q_col):
            qualities = [(ESTIMATED,) if "estimat" in q.lower() else () for q in q_col]
        lines = np.array(numbers, dtype=np.int64)
        channels.append(
            channel(
                src,
                f"sce:{location}",
                location,
                "kwh",
                flow_name,
                starts,
                durations,
                vals,
                lines,
                qualities=qualities,
            )
        )
    return channels


LAYOUT = Layout("SCE CSV", 2, find, read)
