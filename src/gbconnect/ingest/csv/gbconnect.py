"""The gbconnect interval CSV (docs/csv.md):
``usage_point,start,duration,value[,unit][,flow][,cost][,quality]`` after optional
``#`` comment lines; one file may hold many UsagePoints, units and flows."""

from __future__ import annotations

from functools import partial

import numpy as np

from gbconnect.ingest.csv.channels import (
    COST_SCALE,
    FLOW,
    I64,
    UNITS,
    CsvFile,
    CsvText,
    Layout,
    channel,
    first_content_line,
    guard,
    read_columns,
)
from gbconnect.ingest.csv.columns import Columns
from gbconnect.ingest.csv.text import scale_numbers
from gbconnect.ingest.errors import IngestError
from gbconnect.ingest.series import Channel

REQUIRED = ("usage_point", "start", "duration", "value")
OPTIONAL = ("unit", "flow", "cost", "quality")
_KINDS = {
    "start": "instant",
    "duration": "float",
    "value": "float",
    "usage_point": "label",
    "unit": "label",
    "flow": "label",
}
_DEFAULTS = {"unit": "kWh", "flow": "forward"}


def find(path: str, lines: list[str]) -> int | None:
    """The header is the first line after the comments, and names our columns."""
    at = first_content_line(lines)
    if at >= len(lines):
        return None
    first = [h.strip().lower() for h in lines[at].split(",")]
    if first[:1] != ["usage_point"] and not set(REQUIRED) <= set(first):
        return None
    missing = [c for c in REQUIRED if c not in first]
    if missing:
        raise IngestError(
            path, f"header lacks column(s) {', '.join(missing)}; see docs/csv.md", at + 1
        )
    return at


def read(doc: CsvText, at: int, fast: bool = True) -> list[Channel]:
    names = [h.strip().lower() for h in doc.lines[at].split(",")]
    unknown = [n for n in names if n not in REQUIRED + OPTIONAL]
    if unknown:
        raise IngestError(doc.path, f"unknown column(s) {', '.join(unknown)}", 1)
    if len(set(names)) != len(names):
        raise IngestError(doc.path, "a column is named twice in the header", at + 1)
    return read_columns(doc, at, names, _KINDS, _channels, fast)


def _groups(cols: Columns, names: tuple[str, ...]) -> list[tuple[tuple[str, ...], I64]]:
    """Rows grouped by the text of ``names`` (in order of first appearance)."""
    n = len(cols)
    code = np.zeros(n, dtype=np.int64)
    labels: list[list[str]] = []
    for name in names:
        if cols.has(name):
            codes, values = cols.texts(name)
        else:
            codes, values = np.zeros(n, dtype=np.int64), [_DEFAULTS[name]]
        code = code * len(values) + codes
        labels.append(values)
    if n == 0:
        return []
    if all(len(values) == 1 for values in labels):
        return [(tuple(values[0] for values in labels), np.arange(n, dtype=np.int64))]
    _, first, inverse = np.unique(code, return_index=True, return_inverse=True)
    by_group = np.argsort(inverse, kind="stable")
    parts = np.split(by_group, np.cumsum(np.bincount(inverse))[:-1])
    out = []
    for g in np.argsort(first).tolist():
        rows = parts[g]
        key = int(code[rows[0]])
        texts: list[str] = []
        for values in reversed(labels):
            key, k = divmod(key, len(values))
            texts.append(values[k])
        out.append((tuple(reversed(texts)), rows))
    return out


def _channels(src: CsvFile, cols: Columns) -> list[Channel]:
    starts = guard(src, lambda: cols.instants("start"))
    durations = guard(
        src, lambda: scale_numbers(cols.floats("duration", "duration"), 1.0, "duration")
    )
    values = guard(src, lambda: cols.floats("value", "value"))
    costs_all = (
        guard(src, lambda: cols.floats("cost", "cost", blank=np.nan)) if cols.has("cost") else None
    )
    quality_all = (
        guard(src, lambda: cols.small_ints("quality", "quality")) if cols.has("quality") else None
    )
    channels = []
    for (up, unit, flow), idx in _groups(cols, ("usage_point", "unit", "flow")):
        u = unit.strip().lower()
        if u not in UNITS:
            raise src.fail(f"unit {unit!r} is not one of {', '.join(sorted(UNITS))}", idx[0])
        f = flow.strip().lower()
        if f not in FLOW:
            raise src.fail(f"flow {flow!r} is not one of {', '.join(FLOW)}", idx[0])
        if not up.strip():
            raise src.fail("usage_point is empty", idx[0])
        vals = guard(src, partial(scale_numbers, values[idx], UNITS[u][5], "value"), idx)
        costs = None
        if costs_all is not None and not np.isnan(costs_all[idx]).all():
            costs = guard(src, partial(scale_numbers, costs_all[idx], COST_SCALE, "cost"), idx)
        qualities: list[tuple[int, ...]] | None = None
        if quality_all is not None:
            picked = [quality_all[i] for i in idx.tolist()]
            if any(q is not None for q in picked):
                qualities = [() if q is None else (q,) for q in picked]
        name = up.strip()
        lines = src.first_data_line + idx
        channels.append(
            channel(
                src,
                f"csv:{name}",
                name,
                u,
                f,
                starts[idx],
                durations[idx],
                vals,
                lines,
                costs,
                qualities,
            )
        )
    return channels


LAYOUT = Layout("gbconnect CSV", 0, find, read)
