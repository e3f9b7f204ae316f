"""SDG&E "Green Button Download My Data" CSV (CSV-LAYOUTS.md):
``Meter Number,Date,Start Time,Duration,Consumption,Generation,Net`` with 12-hour
local times and durations in minutes; Generation is the reverse flow."""

from __future__ import annotations

import csv
import io
from functools import partial

import numpy as np

from gbconnect.ingest.csv.channels import CsvFile, CsvText, Layout, after_line, channel, guard
from gbconnect.ingest.csv.text import parse_clock, parse_dates, parse_numbers
from gbconnect.ingest.localtime import local_to_utc
from gbconnect.ingest.series import Channel

HEADER = ["meter number", "date", "start time", "duration", "consumption", "generation", "net"]


def find(path: str, lines: list[str]) -> int | None:
    """The header line, within the first 40."""
    for i, line in enumerate(lines[:40]):
        if [c.strip().lower() for c in line.split(",")][:7] == HEADER:
            return i
    return None


def read(doc: CsvText, at: int, fast: bool = True) -> list[Channel]:
    """``Meter Number,Date,Start Time,Duration,Consumption,Generation,Net``."""
    src = CsvFile(doc.path, doc.zone, at + 2)
    rows = [r for r in csv.reader(io.StringIO(after_line(doc.text, at))) if r]
    for i, row in enumerate(rows):
        if len(row) < 7:
            raise src.fail(f"row has {len(row)} fields, 7 expected", i)
    cols = [list(c) for c in zip(*rows, strict=False)][:7] if rows else [[] for _ in range(7)]
    naive = guard(src, lambda: parse_dates(cols[1]) + parse_clock(cols[2]))
    minutes = guard(src, lambda: parse_numbers(cols[3], 1.0, "duration"))
    starts = guard(src, lambda: local_to_utc(naive, src.zone))
    channels = []
    by_meter: dict[str, list[int]] = {}
    for i, meter in enumerate(cols[0]):
        by_meter.setdefault(meter.strip(), []).append(i)
    for meter, idx in by_meter.items():
        sel = np.array(idx, dtype=np.int64)
        for flow, col in (("forward", cols[4]), ("reverse", cols[5])):
            picked = [col[i].strip() or "0" for i in idx]
            vals = guard(src, partial(parse_numbers, picked, 1000.0, "usage"))
            if flow == "reverse" and not vals.any():
                continue
            channels.append(
                channel(
                    src,
                    f"sdge:{meter}",
                    f"Meter {meter}",
                    "kwh",
                    flow,
                    starts[sel],
                    minutes[sel] * 60,
                    vals,
                    src.first_data_line + sel,
                )
            )
    return channels


LAYOUT = Layout("SDG&E CSV", 1, find, read)
