"""CSV importers: the gbconnect interval CSV, and the PG&E/Opower, SCE and SDG&E
"Download My Data" layouts (shared/espi/CSV-LAYOUTS.md; docs/csv.md for ours).

Each reader turns a file into :class:`~gbconnect.ingest.series.Channel` objects:
readings in true UTC (local wall-clock times converted, DST hours included),
values as integers with a ReadingType that says their unit and scale.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from typing import TypeVar
from zoneinfo import ZoneInfo

import numpy as np

from gbconnect.ingest.csv.columns import (
    F64,
    I64,
    ArrowColumns,
    Columns,
    TextColumns,
    Unparsable,
    WidthError,
    split_columns,
)
from gbconnect.ingest.csv.text import (
    FieldError,
    parse_clock,
    parse_dates,
    parse_datetimes,
    parse_numbers,
    scale_numbers,
)
from gbconnect.ingest.errors import IngestError
from gbconnect.ingest.localtime import LocalTimeError, local_to_utc
from gbconnect.ingest.series import Channel

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
FLOW = {
    "forward": 1,
    "delivered": 1,
    "import": 1,
    "reverse": 19,
    "received": 19,
    "export": 19,
    "net": 4,
}


def reading_type(
    unit: str, interval: int, flow: int, with_cost: bool
) -> tuple[int, dict[str, int]]:
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
class _Ctx:
    path: str
    zone: ZoneInfo
    first_data_line: int  # 1-based line of the first data row

    def fail(self, message: str, row: int | None = None) -> IngestError:
        line = self.first_data_line + row if row is not None else None
        return IngestError(self.path, message, line)


def _columns(rows: list[list[str]], width: int, ctx: _Ctx) -> list[list[str]]:
    for i, row in enumerate(rows):
        if len(row) < width:
            raise ctx.fail(f"row has {len(row)} fields, {width} expected", i)
    return (
        [list(c) for c in zip(*rows, strict=False)][:width] if rows else [[] for _ in range(width)]
    )


T = TypeVar("T")


def _guard(ctx: _Ctx, fn: Callable[[], T], rows: I64 | None = None) -> T:
    """Run a column parser; a bad field becomes an IngestError naming its line.

    ``rows`` maps the parsed column's positions back to data rows when the column
    is a selection of the file's rows.
    """
    try:
        return fn()
    except (FieldError, LocalTimeError) as exc:
        row = int(rows[exc.index]) if rows is not None else exc.index
        raise ctx.fail(str(exc), row) from None


def _read_columns(
    ctx: _Ctx,
    names: list[str],
    body: str,
    kinds: dict[str, str],
    channels: Callable[[Columns], list[Channel]],
    fast: bool = True,
) -> list[Channel]:
    """``channels`` over Arrow's columns, or over the exact reader when Arrow gives up
    (the exact reader names the line of the first bad field) or ``fast`` is false."""
    if fast:
        try:
            return channels(ArrowColumns.read(body, names, kinds))
        except Unparsable:
            pass
    try:
        cols = split_columns(body, len(names))
    except WidthError as exc:
        raise ctx.fail(str(exc), exc.index) from None
    return channels(TextColumns(names, cols))


def _mode(durations: I64) -> int:
    """The most common interval length: the ReadingType's intervalLength."""
    return int(np.bincount(durations.clip(0, 10**7)).argmax()) if durations.size else 0


def _finish(ctx: _Ctx, ch: Channel) -> Channel:
    """Sort by start and refuse a time given twice."""
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
        raise IngestError(ctx.path, message, line(int(dup[0]) + 1))
    if (ch.durations <= 0).any():
        i = int(np.flatnonzero(ch.durations <= 0)[0])
        raise IngestError(ctx.path, "an interval ends before it starts", line(i))
    return ch


# -- gbconnect interval CSV ---------------------------------------------------------------

GBCONNECT_REQUIRED = ("usage_point", "start", "duration", "value")
GBCONNECT_OPTIONAL = ("unit", "flow", "cost", "quality")
_GBCONNECT_KINDS = {
    "start": "instant",
    "duration": "float",
    "value": "float",
    "usage_point": "label",
    "unit": "label",
    "flow": "label",
}
_DEFAULTS = {"unit": "kWh", "flow": "forward"}


def read_gbconnect(ctx: _Ctx, header: list[str], body: str, fast: bool = True) -> list[Channel]:
    """docs/csv.md: ``usage_point,start,duration,value[,unit][,flow][,cost][,quality]``."""
    names = [h.strip().lower() for h in header]
    unknown = [n for n in names if n not in GBCONNECT_REQUIRED + GBCONNECT_OPTIONAL]
    if unknown:
        raise IngestError(ctx.path, f"unknown column(s) {', '.join(unknown)}", 1)
    if len(set(names)) != len(names):
        message = "a column is named twice in the header"
        raise IngestError(ctx.path, message, ctx.first_data_line - 1)
    channels = partial(_gbconnect_channels, ctx)
    return _read_columns(ctx, names, body, _GBCONNECT_KINDS, channels, fast)


def _groups(src: Columns, names: tuple[str, ...]) -> list[tuple[tuple[str, ...], I64]]:
    """Rows grouped by the text of ``names`` (in order of first appearance)."""
    n = len(src)
    code = np.zeros(n, dtype=np.int64)
    labels: list[list[str]] = []
    for name in names:
        if src.has(name):
            codes, values = src.texts(name)
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


def _gbconnect_channels(ctx: _Ctx, src: Columns) -> list[Channel]:
    starts = _guard(ctx, lambda: src.instants("start"))
    durations = _guard(
        ctx, lambda: scale_numbers(src.floats("duration", "duration"), 1.0, "duration")
    )
    values = _guard(ctx, lambda: src.floats("value", "value"))
    costs_all = (
        _guard(ctx, lambda: src.floats("cost", "cost", blank=np.nan)) if src.has("cost") else None
    )
    quality_all = (
        _guard(ctx, lambda: src.small_ints("quality", "quality")) if src.has("quality") else None
    )
    channels = []
    for (up, unit, flow), idx in _groups(src, ("usage_point", "unit", "flow")):
        u = unit.strip().lower()
        if u not in UNITS:
            raise ctx.fail(f"unit {unit!r} is not one of {', '.join(sorted(UNITS))}", idx[0])
        f = flow.strip().lower()
        if f not in FLOW:
            raise ctx.fail(f"flow {flow!r} is not one of {', '.join(FLOW)}", idx[0])
        if not up.strip():
            raise ctx.fail("usage_point is empty", idx[0])
        vals = _guard(ctx, partial(scale_numbers, values[idx], UNITS[u][5], "value"), idx)
        costs = None
        if costs_all is not None and not np.isnan(costs_all[idx]).all():
            costs = _guard(ctx, partial(scale_numbers, costs_all[idx], 100000.0, "cost"), idx)
        qualities: list[tuple[int, ...]] | None = None
        if quality_all is not None:
            picked = [quality_all[i] for i in idx.tolist()]
            if any(q is not None for q in picked):
                qualities = [() if q is None else (q,) for q in picked]
        durs = durations[idx]
        service, rt = reading_type(u, _mode(durs), FLOW[f], costs is not None)
        channels.append(
            _finish(
                ctx,
                Channel(
                    usage_point_key=f"csv:{up.strip()}",
                    usage_point_title=up.strip(),
                    service_kind=service,
                    reading_type=rt,
                    starts=starts[idx],
                    durations=durs,
                    values=vals,
                    costs=costs,
                    qualities=qualities,
                    lines=ctx.first_data_line + idx,
                ),
            )
        )
    return channels


# -- PG&E and Opower-hosted utilities --------------------------------------------------------

_PGE_HEADER = re.compile(r"^\s*TYPE\s*,\s*DATE\s*,\s*START TIME\s*,\s*END TIME", re.I)


def read_pge(
    ctx: _Ctx, preamble: dict[str, str], header: list[str], body: str, fast: bool = True
) -> list[Channel]:
    """``TYPE,DATE,START TIME,END TIME,USAGE (kWh),COST,NOTES`` and its variants."""
    names = [h.strip().upper() for h in header]
    kinds = {names[0]: "label", names[1]: "date", names[2]: "clock", names[3]: "clock"}
    kinds.update((n, "float") for n in names if n.startswith(("USAGE (", "IMPORT", "EXPORT")))
    channels = partial(_pge_channels, ctx, preamble, names)
    return _read_columns(ctx, names, body, kinds, channels, fast)


def _distinct(src: Columns, name: str) -> list[str]:
    codes, labels = src.texts(name)
    return [labels[c] for c in np.unique(codes).tolist()]


def _pge_channels(
    ctx: _Ctx, preamble: dict[str, str], names: list[str], src: Columns
) -> list[Channel]:
    n_rows = len(src)
    day = _guard(ctx, lambda: src.dates(names[1]))
    start_clock = _guard(ctx, lambda: src.clocks(names[2]))
    end_clock = _guard(ctx, lambda: src.clocks(names[3]))
    naive = day + start_clock
    durations = np.mod(end_clock - start_clock + 60, 86400)
    durations = np.where(durations == 0, 86400, durations)
    starts = _guard(ctx, lambda: local_to_utc(naive, ctx.zone))
    account = preamble.get("account number", "").strip() or "account"
    service = preamble.get("service", "").strip()

    def usage(name: str) -> F64:
        return _guard(ctx, lambda: src.floats(name, "usage", blank=0.0))

    series: list[tuple[str, str, F64]] = []  # (flow, unit, values)
    if src.has("IMPORT (KWH)"):
        series.append(("forward", "kwh", usage("IMPORT (KWH)")))
        if src.has("EXPORT (KWH)"):
            series.append(("reverse", "kwh", usage("EXPORT (KWH)")))
    else:
        for name in names:
            m = re.fullmatch(r"USAGE \((.+)\)", name)
            if m:
                series.append(("forward", m.group(1).strip().lower(), usage(name)))
                break
        else:
            if src.has("USAGE") and src.has("UNITS"):
                units = {u.strip().lower() for u in _distinct(src, "UNITS")}
                if len(units) > 1:
                    raise ctx.fail("UNITS changes within the file")
                if units:
                    series.append(("forward", units.pop(), usage("USAGE")))
    if not series:
        raise IngestError(ctx.path, "no USAGE column in the PG&E header", ctx.first_data_line - 1)
    cost_floats = (
        _guard(ctx, lambda: src.floats("COST", "cost", blank=0.0)) if src.has("COST") else None
    )
    estimated = src.contains("NOTES", "estimat") if src.has("NOTES") else None
    type_codes, type_labels = src.texts(names[0])
    type_set = {type_labels[c].strip().lower() for c in np.unique(type_codes).tolist()}
    if len(type_set) > 1:
        raise ctx.fail(f"the file mixes {', '.join(sorted(type_set))}; one TYPE per file")
    first_type = type_labels[int(type_codes[0])] if n_rows else None
    channels = []
    for flow, unit, floats in series:
        if unit not in UNITS:
            raise ctx.fail(f"unit {unit!r} is not one of {', '.join(sorted(UNITS))}")
        vals = _guard(ctx, partial(scale_numbers, floats, UNITS[unit][5], "usage"))
        costs = None
        if cost_floats is not None and flow == "forward":
            costs = _guard(ctx, partial(scale_numbers, cost_floats, 100000.0, "cost"))
        qualities: list[tuple[int, ...]] | None = None
        if estimated is not None and estimated.any():
            qualities = [(ESTIMATED,) if e else () for e in estimated.tolist()]
        service_kind, rt = reading_type(unit, _mode(durations), FLOW[flow], costs is not None)
        key = f"pge:{account}:{service or ('gas' if service_kind == 1 else 'electric')}"
        channels.append(
            _finish(
                ctx,
                Channel(
                    usage_point_key=key,
                    usage_point_title=(service or first_type) if n_rows else None,
                    service_kind=service_kind,
                    reading_type=rt,
                    starts=starts.copy(),
                    durations=durations.copy(),
                    values=vals,
                    costs=costs,
                    qualities=qualities,
                    lines=ctx.first_data_line + np.arange(n_rows, dtype=np.int64),
                ),
            )
        )
    return channels


# -- SCE ---------------------------------------------------------------------------------------

_SCE_RANGE = re.compile(
    r"^\s*(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d)\s+to\s+(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d)\s*$"
)


def read_sce(path: str, lines: list[str], zone: ZoneInfo) -> list[Channel]:
    """SCE: daily blocks of ``"start to end",usage[,quality]`` rows, per section."""
    location = "location"
    flow = "forward"
    data: dict[str, tuple[list[str], list[str], list[str], list[str], list[int]]] = {}
    for number, line in enumerate(lines, start=1):
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
        m = _SCE_RANGE.match(row[0]) if row else None
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
    for flow_name, (s_col, e_col, v_col, q_col, numbers) in data.items():

        def fail(exc: FieldError | LocalTimeError, numbers: list[int] = numbers) -> IngestError:
            return IngestError(path, str(exc), numbers[exc.index])

        try:
            s_local = parse_datetimes(s_col)
            e_local = parse_datetimes(e_col)
            starts = local_to_utc(s_local, zone)
            vals = parse_numbers(v_col, 1000.0, "usage")
        except (FieldError, LocalTimeError) as exc:
            raise fail(exc) from None
        durations = e_local - s_local
        # The autumn repeated hour: wall-clock durations are right, ends may not be.
        qualities: list[tuple[int, ...]] | None = None
        if any("estimat" in q.lower() for q in q_col):
            qualities = [(ESTIMATED,) if "estimat" in q.lower() else () for q in q_col]
        service, rt = reading_type("kwh", _mode(durations), FLOW[flow_name], False)
        channels.append(
            _finish(
                _Ctx(path, zone, 0),
                Channel(
                    usage_point_key=f"sce:{location}",
                    usage_point_title=location,
                    service_kind=service,
                    reading_type=rt,
                    starts=starts,
                    durations=durations,
                    values=vals,
                    qualities=qualities,
                    lines=np.array(numbers, dtype=np.int64),
                ),
            )
        )
    return channels


# -- SDG&E ----------------------------------------------------------------------------------------

SDGE_HEADER = ["meter number", "date", "start time", "duration", "consumption", "generation", "net"]


def read_sdge(ctx: _Ctx, rows: list[list[str]]) -> list[Channel]:
    """``Meter Number,Date,Start Time,Duration,Consumption,Generation,Net`` (12-hour times)."""
    cols = _columns(rows, 7, ctx)
    naive = _guard(ctx, lambda: parse_dates(cols[1]) + parse_clock(cols[2]))
    minutes = _guard(ctx, lambda: parse_numbers(cols[3], 1.0, "duration"))
    starts = _guard(ctx, lambda: local_to_utc(naive, ctx.zone))
    channels = []
    meters = cols[0]
    by_meter: dict[str, list[int]] = {}
    for i, meter in enumerate(meters):
        by_meter.setdefault(meter.strip(), []).append(i)
    for meter, idx in by_meter.items():
        sel = np.array(idx, dtype=np.int64)
        for flow, col in (("forward", cols[4]), ("reverse", cols[5])):
            picked = [col[i].strip() or "0" for i in idx]
            vals = _guard(ctx, partial(parse_numbers, picked, 1000.0, "usage"))
            if flow == "reverse" and not vals.any():
                continue
            durs = minutes[sel] * 60
            service, rt = reading_type("kwh", _mode(durs), FLOW[flow], False)
            channels.append(
                _finish(
                    ctx,
                    Channel(
                        usage_point_key=f"sdge:{meter}",
                        usage_point_title=f"Meter {meter}",
                        service_kind=service,
                        reading_type=rt,
                        starts=starts[sel],
                        durations=durs,
                        values=vals,
                        lines=ctx.first_data_line + sel,
                    ),
                )
            )
    return channels


# -- dispatch ------------------------------------------------------------------------------------


def _after_line(text: str, index: int) -> str:
    """The text after line ``index`` (0-based)."""
    parts = text.split("\n", index + 1)
    return parts[index + 1] if len(parts) > index + 1 else ""


def read_csv(path: str, text: str, zone: ZoneInfo, fast: bool = True) -> tuple[str, list[Channel]]:
    """Recognise the layout of ``text`` and read it; returns (layout name, channels).

    ``fast=False`` reads every field with the exact reader (tests compare the two).
    """
    text = text.lstrip("\ufeff")
    # The layouts show themselves in the first lines; the body is cut at a "\n".
    lines = [ln.rstrip("\r") for ln in text[:65536].split("\n")[:60]]
    if not text.strip():
        raise IngestError(path, "the file is empty", 1)
    # gbconnect: '#' comments, then a header naming our columns.
    body_at = 0
    while body_at < len(lines) and (lines[body_at].startswith("#") or not lines[body_at].strip()):
        body_at += 1
    if body_at < len(lines):
        first = [h.strip().lower() for h in lines[body_at].split(",")]
        if first[:1] == ["usage_point"] or set(GBCONNECT_REQUIRED) <= set(first):
            missing = [c for c in GBCONNECT_REQUIRED if c not in first]
            if missing:
                raise IngestError(
                    path,
                    f"header lacks column(s) {', '.join(missing)}; see docs/csv.md",
                    body_at + 1,
                )
            body = _after_line(text, body_at)
            ctx = _Ctx(path, zone, body_at + 2)
            return "gbconnect CSV", read_gbconnect(ctx, lines[body_at].split(","), body, fast)
    for i, line in enumerate(lines[:40]):
        if _PGE_HEADER.match(line):
            preamble = {}
            for pre in lines[:i]:
                cells = next(csv.reader([pre])) if pre.strip() else []
                if len(cells) >= 2:
                    preamble[cells[0].strip().lower()] = cells[1].strip()
            header = next(csv.reader([line]))
            body = _after_line(text, i)
            return "PG&E CSV", read_pge(_Ctx(path, zone, i + 2), preamble, header, body, fast)
        cells = [c.strip().lower() for c in line.split(",")]
        if cells[:7] == SDGE_HEADER:
            rows = [r for r in csv.reader(io.StringIO(_after_line(text, i))) if r]
            return "SDG&E CSV", read_sdge(_Ctx(path, zone, i + 2), rows)
    if any(
        "energy consumption time period" in ln.lower() or "data for period starting" in ln.lower()
        for ln in lines[:60]
    ):
        return "SCE CSV", read_sce(path, text.splitlines(), zone)
    raise IngestError(
        path,
        "unrecognised CSV header: expected the gbconnect layout (usage_point,start,"
        "duration,value; docs/csv.md) or a PG&E, SCE or SDG&E download",
        body_at + 1,
    )
