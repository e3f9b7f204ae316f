"""PG&E "Download My Data" CSV, also written by Opower-hosted utilities
(CSV-LAYOUTS.md): a preamble of ``Name,value`` lines, then
``TYPE,DATE,START TIME,END TIME,USAGE (kWh),COST,NOTES`` and its variants
(``IMPORT (kWh)``/``EXPORT (kWh)`` for net metering, ``USAGE`` with ``UNITS``).
Times are local wall-clock times."""

from __future__ import annotations

import csv
import re
from functools import partial

import numpy as np

from gbconnect.ingest.csv.channels import (
    COST_SCALE,
    ESTIMATED,
    F64,
    UNITS,
    CsvFile,
    CsvText,
    Layout,
    channel,
    guard,
    read_columns,
)
from gbconnect.ingest.csv.columns import Columns
from gbconnect.ingest.csv.text import scale_numbers
from gbconnect.ingest.errors import IngestError
from gbconnect.ingest.localtime import local_to_utc
from gbconnect.ingest.series import Channel

_HEADER = re.compile(r"^\s*TYPE\s*,\s*DATE\s*,\s*START TIME\s*,\s*END TIME", re.I)


def find(path: str, lines: list[str]) -> int | None:
    """The header line, within the first 40."""
    for i, line in enumerate(lines[:40]):
        if _HEADER.match(line):
            return i
    return None


def read(doc: CsvText, at: int, fast: bool = True) -> list[Channel]:
    """``TYPE,DATE,START TIME,END TIME,USAGE (kWh),COST,NOTES`` and its variants."""
    preamble = {}
    for pre in doc.lines[:at]:
        cells = next(csv.reader([pre])) if pre.strip() else []
        if len(cells) >= 2:
            preamble[cells[0].strip().lower()] = cells[1].strip()
    header = next(csv.reader([doc.lines[at]]))
    names = [h.strip().upper() for h in header]
    kinds = {names[0]: "label", names[1]: "date", names[2]: "clock", names[3]: "clock"}
    kinds.update((n, "float") for n in names if n.startswith(("USAGE (", "IMPORT", "EXPORT")))
    return read_columns(doc, at, names, kinds, partial(_channels, preamble, names), fast)


def _distinct(cols: Columns, name: str) -> list[str]:
    codes, labels = cols.texts(name)
    return [labels[c] for c in np.unique(codes).tolist()]


def _channels(
    preamble: dict[str, str], names: list[str], src: CsvFile, cols: Columns
) -> list[Channel]:
    n_rows = len(cols)
    day = guard(src, lambda: cols.dates(names[1]))
    start_clock = guard(src, lambda: cols.clocks(names[2]))
    end_clock = guard(src, lambda: cols.clocks(names[3]))
    naive = day + start_clock
    durations = np.mod(end_clock - start_clock + 60, 86400)
    durations = np.where(durations == 0, 86400, durations)
    starts = guard(src, lambda: local_to_utc(naive, src.zone))
    account = preamble.get("account number", "").strip() or "account"
    service = preamble.get("service", "").strip()

    def usage(name: str) -> F64:
        return guard(src, lambda: cols.floats(name, "usage", blank=0.0))

    series: list[tuple[str, str, F64]] = []  # (flow, unit, values)
    if cols.has("IMPORT (KWH)"):
        series.append(("forward", "kwh", usage("IMPORT (KWH)")))
        if cols.has("EXPORT (KWH)"):
            series.append(("reverse", "kwh", usage("EXPORT (KWH)")))
    else:
        for name in names:
            m = re.fullmatch(r"USAGE \((.+)\)", name)
            if m:
                series.append(("forward", m.group(1).strip().lower(), usage(name)))
                break
        else:
            if cols.has("USAGE") and cols.has("UNITS"):
                units = {u.strip().lower() for u in _distinct(cols, "UNITS")}
                if len(units) > 1:
                    raise src.fail("UNITS changes within the file")
                if units:
                    series.append(("forward", units.pop(), usage("USAGE")))
    if not series:
        raise IngestError(src.path, "no USAGE column in the PG&E header", src.first_data_line - 1)
    cost_floats = (
        guard(src, lambda: cols.floats("COST", "cost", blank=0.0)) if cols.has("COST") else None
    )
    estimated = cols.contains("NOTES", "estimat") if cols.has("NOTES") else None
    type_codes, type_labels = cols.texts(names[0])
    type_set = {type_labels[c].strip().lower() for c in np.unique(type_codes).tolist()}
    if len(type_set) > 1:
        raise src.fail(f"the file mixes {', '.join(sorted(type_set))}; one TYPE per file")
    first_type = type_labels[int(type_codes[0])] if n_rows else None
    lines = src.first_data_line + np.arange(n_rows, dtype=np.int64)
    channels = []
    for flow, unit, floats in series:
        if unit not in UNITS:
            raise src.fail(f"unit {unit!r} is not one of {', '.join(sorted(UNITS))}")
        vals = guard(src, partial(scale_numbers, floats, UNITS[unit][5], "usage"))
        costs = None
        if cost_floats is not None and flow == "forward":
            costs = guard(src, partial(scale_numbers, cost_floats, COST_SCALE, "cost"))
        qualities: list[tuple[int, ...]] | None = None
        if estimated is not None and estimated.any():
            qualities = [(ESTIMATED,) if e else () for e in estimated.tolist()]
        kind = service or ("gas" if UNITS[unit][0] == 1 else "electric")
        title = (service or first_type) if n_rows else None
        channels.append(
            channel(
                src,
                f"pge:{account}:{kind}",
                title,
                unit,
                flow,
                starts.copy(),
                durations.copy(),
                vals,
                lines.copy(),
                costs,
                qualities,
            )
        )
    return channels


LAYOUT = Layout("PG&E CSV", 1, find, read)
