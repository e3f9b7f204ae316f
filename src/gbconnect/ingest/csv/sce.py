"""SCE "Green Button Download My Data" CSV (CSV-LAYOUTS.md): sections per location
(``For location:``) and flow (``Energy Delivered``/``Energy Received``), each a run of
``"start to end",usage[,quality]`` rows in local wall-clock time."""

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


def find(path: str, lines: list[str]) -> int | None:
    """SCE files show themselves by a marker line within the first 60, not a header."""
    return 0 if any(m in ln.lower() for ln in lines[:60] for m in _MARKERS) else None


def read(doc: CsvText, at: int, fast: bool = True) -> list[Channel]:
    """Daily blocks of ``"start to end",usage[,quality]`` rows, per section."""
    path, zone = doc.path, doc.zone
    location = "location"
    flow = "forward"
    data: dict[str, tuple[list[str], list[str], list[str], list[str], list[int]]] = {}
    for number, line in enumerate(doc.text.splitlines(), start=1):
        text = line.strip().lstrip("\ufeff")
        if not text:
            continue
        low = text.lower()
        if low.startswith("for location:"):
            location = text.split(":", 1)[1].strip().strip('"') or location
            continue
        if "energy received" in low and "," not in text.replace('"', ""):
            flow = "reverse"
            continue
        if "energy delivered" in low and "," not in text.replace('"', ""):
            flow = "forward"
            continue
        row = next(csv.reader([text]))
        m = _RANGE.match(row[0]) if row else None
        if not m:
            continue  # preamble, "Data for period starting" and header lines
        if len(row) < 2:
            raise IngestError(path, "reading row has no usage value", number)
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
