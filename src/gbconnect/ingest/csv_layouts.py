"""CSV importers: the gbconnect interval CSV, and the PG&E/Opower, SCE and SDG&E
"Download My Data" layouts (shared/espi/CSV-LAYOUTS.md; docs/csv.md for ours).

Each reader turns a file into :class:`~gbconnect.ingest.series.Channel` objects:
readings in true UTC (local wall-clock times converted, DST hours included),
values as integers with a ReadingType that says their unit and scale.
"""

from __future__ import annotations

import csv
import io
import itertools
import re
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from zoneinfo import ZoneInfo

import numpy as np

from gbconnect.ingest.csvtext import (
    FieldError,
    parse_clock,
    parse_dates,
    parse_datetimes,
    parse_numbers,
    parse_utc,
)
from gbconnect.ingest.errors import IngestError
from gbconnect.ingest.localtime import LocalTimeError, local_to_utc
from gbconnect.ingest.series import Channel
from gbconnect.usage.blocks import ABSENT

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


def _columns_of(text: str, width: int, ctx: _Ctx) -> list[list[str]]:
    """The columns of CSV ``text`` (no header), transposed in C; a row of the wrong
    width is refused with its line."""
    rows = [r for r in csv.reader(io.StringIO(text)) if r]
    if not rows:
        return [[] for _ in range(width)]
    cols = [list(c) for c in itertools.zip_longest(*rows)]
    if len(cols) != width or any(None in c for c in cols):
        for i, row in enumerate(rows):
            if len(row) != width:
                raise ctx.fail(f"row has {len(row)} fields, {width} expected", i)
    return cols


def _columns(rows: list[list[str]], width: int, ctx: _Ctx) -> list[list[str]]:
    for i, row in enumerate(rows):
        if len(row) < width:
            raise ctx.fail(f"row has {len(row)} fields, {width} expected", i)
    return (
        [list(c) for c in zip(*rows, strict=False)][:width] if rows else [[] for _ in range(width)]
    )


def _guard(ctx: _Ctx, fn: Callable[[], np.ndarray], rows: list[int] | None = None) -> np.ndarray:
    """Run a column parser; a bad field becomes an IngestError naming its line.

    ``rows`` maps the parsed column's positions back to data rows when the column
    is a selection of the file's rows.
    """
    try:
        return fn()
    except (FieldError, LocalTimeError) as exc:
        row = rows[exc.index] if rows is not None else exc.index
        raise ctx.fail(str(exc), row) from None


def _optional_numbers(texts: list[str], scale: float, what: str) -> np.ndarray:
    """Numbers where given, ABSENT where the field is empty."""
    present = [i for i, t in enumerate(texts) if t]
    out = np.full(len(texts), ABSENT, dtype=np.int64)
    if present:
        try:
            out[np.array(present)] = parse_numbers([texts[i] for i in present], scale, what)
        except FieldError as exc:
            raise FieldError(str(exc), present[exc.index]) from None
    return out


def _finish(ctx: _Ctx, ch: Channel) -> Channel:
    """Sort by start and refuse a time given twice."""
    order = np.argsort(ch.starts, kind="stable")
    if not (order == np.arange(order.size)).all():
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
            ch.lines = [ch.lines[i] for i in order.tolist()]
    dup = np.flatnonzero(np.diff(ch.starts) == 0)
    if dup.size:
        i = int(dup[0]) + 1
        line = ch.lines[i] if ch.lines is not None else None
        raise IngestError(ctx.path, "the same interval appears twice for one meter", line)
    if (ch.durations <= 0).any():
        i = int(np.flatnonzero(ch.durations <= 0)[0])
        line = ch.lines[i] if ch.lines is not None else None
        raise IngestError(ctx.path, "an interval ends before it starts", line)
    return ch


# -- gbconnect interval CSV ---------------------------------------------------------------

GBCONNECT_REQUIRED = ("usage_point", "start", "duration", "value")
GBCONNECT_OPTIONAL = ("unit", "flow", "cost", "quality")


def read_gbconnect(ctx: _Ctx, header: list[str], body: str) -> list[Channel]:
    """docs/csv.md: ``usage_point,start,duration,value[,unit][,flow][,cost][,quality]``."""
    names = [h.strip().lower() for h in header]
    index = {n: i for i, n in enumerate(names)}
    unknown = [n for n in names if n not in GBCONNECT_REQUIRED + GBCONNECT_OPTIONAL]
    if unknown:
        raise IngestError(ctx.path, f"unknown column(s) {', '.join(unknown)}", 1)
    cols = _columns_of(body, len(names), ctx)
    n = len(cols[0])
    starts = _guard(ctx, lambda: parse_utc(cols[index["start"]]))
    durations = _guard(ctx, lambda: parse_numbers(cols[index["duration"]], 1.0, "duration"))
    units = cols[index["unit"]] if "unit" in index else ["kWh"] * n
    flows = cols[index["flow"]] if "flow" in index else ["forward"] * n
    usage_points = cols[index["usage_point"]]
    groups: dict[tuple[str, str, str], list[int]] = {}
    if len(set(usage_points)) == 1 and len(set(units)) == 1 and len(set(flows)) == 1:
        groups[(usage_points[0], units[0], flows[0])] = list(range(n))
    else:
        for i, key in enumerate(zip(usage_points, units, flows, strict=True)):
            groups.setdefault(key, []).append(i)
    channels = []
    for (up, unit, flow), idx in groups.items():
        u = unit.strip().lower()
        if u not in UNITS:
            raise ctx.fail(f"unit {unit!r} is not one of {', '.join(sorted(UNITS))}", idx[0])
        f = flow.strip().lower()
        if f not in FLOW:
            raise ctx.fail(f"flow {flow!r} is not one of {', '.join(FLOW)}", idx[0])
        if not up.strip():
            raise ctx.fail("usage_point is empty", idx[0])
        sel = np.array(idx, dtype=np.int64) if len(idx) != n else slice(None)
        vals = _guard(
            ctx,
            partial(parse_numbers, _pick(cols[index["value"]], sel), UNITS[u][5], "value"),
            idx,
        )
        costs = None
        if "cost" in index:
            cost_texts = [c.strip().lstrip("$") for c in _pick(cols[index["cost"]], sel)]
            if any(cost_texts):
                costs = _guard(ctx, partial(_optional_numbers, cost_texts, 100000.0, "cost"), idx)
        qualities: list[tuple[int, ...]] | None = None
        if "quality" in index:
            qualities = []
            for j, q in zip(idx, _pick(cols[index["quality"]], sel), strict=True):
                q = q.strip()
                if q and not q.isdigit():
                    raise ctx.fail(f"quality {q!r} is not a QualityOfReading code", j)
                qualities.append((int(q),) if q else ())
        durs = durations[sel]
        step = int(np.bincount(durs.clip(0, 10**7)).argmax()) if durs.size else 0
        service, rt = reading_type(u, step, FLOW[f], costs is not None)
        channels.append(
            _finish(
                ctx,
                Channel(
                    usage_point_key=f"csv:{up.strip()}",
                    usage_point_title=up.strip(),
                    service_kind=service,
                    reading_type=rt,
                    starts=starts[sel],
                    durations=durs,
                    values=vals,
                    costs=costs,
                    qualities=qualities,
                    lines=[ctx.first_data_line + i for i in idx],
                ),
            )
        )
    return channels


def _pick(col: list[str], sel: object) -> list[str]:
    if isinstance(sel, slice):
        return col
    return [col[i] for i in sel.tolist()]  # type: ignore[attr-defined]


# -- PG&E and Opower-hosted utilities --------------------------------------------------------

_PGE_HEADER = re.compile(r"^\s*TYPE\s*,\s*DATE\s*,\s*START TIME\s*,\s*END TIME", re.I)


def read_pge(ctx: _Ctx, preamble: dict[str, str], header: list[str], body: str) -> list[Channel]:
    """``TYPE,DATE,START TIME,END TIME,USAGE (kWh),COST,NOTES`` and its variants."""
    names = [h.strip().upper() for h in header]
    cols = _columns_of(body, len(names), ctx)
    n_rows = len(cols[0])
    types = cols[0]
    day = _guard(ctx, lambda: parse_dates(cols[1]))
    start_clock = _guard(ctx, lambda: parse_clock(cols[2]))
    end_clock = _guard(ctx, lambda: parse_clock(cols[3]))
    naive = day + start_clock
    durations = np.mod(end_clock - start_clock + 60, 86400)
    durations = np.where(durations == 0, 86400, durations)
    starts = _guard(ctx, lambda: local_to_utc(naive, ctx.zone))
    account = preamble.get("account number", "").strip() or "account"
    service = preamble.get("service", "").strip()

    def col(name: str) -> list[str] | None:
        return cols[names.index(name)] if name in names else None

    series: list[tuple[str, str, list[str]]] = []  # (flow, unit, values)
    if col("IMPORT (KWH)") is not None:
        series.append(("forward", "kwh", col("IMPORT (KWH)") or []))
        series.append(("reverse", "kwh", col("EXPORT (KWH)") or []))
    else:
        for name in names:
            m = re.fullmatch(r"USAGE \((.+)\)", name)
            if m:
                series.append(("forward", m.group(1).strip().lower(), cols[names.index(name)]))
                break
        else:
            if "USAGE" in names and "UNITS" in names:
                units = {u.strip().lower() for u in cols[names.index("UNITS")]}
                if len(units) != 1:
                    raise ctx.fail("UNITS changes within the file")
                series.append(("forward", units.pop(), cols[names.index("USAGE")]))
    if not series:
        raise IngestError(ctx.path, "no USAGE column in the PG&E header", ctx.first_data_line - 1)
    cost_col = col("COST")
    notes = col("NOTES")
    type_set = {t.strip().lower() for t in types}
    if len(type_set) > 1:
        raise ctx.fail(f"the file mixes {', '.join(sorted(type_set))}; one TYPE per file")
    channels = []
    for flow, unit, values_col in series:
        if unit not in UNITS:
            raise ctx.fail(f"unit {unit!r} is not one of {', '.join(sorted(UNITS))}")
        vals = _guard(
            ctx,
            partial(parse_numbers, [x.strip() or "0" for x in values_col], UNITS[unit][5], "usage"),
        )
        costs = None
        if cost_col is not None and flow == "forward":
            costs = _guard(
                ctx,
                lambda: parse_numbers(
                    [c.strip().replace("$", "").replace(",", "") or "0" for c in cost_col],
                    100000.0,
                    "cost",
                ),
            )
        qualities: list[tuple[int, ...]] | None = None
        if notes is not None and any("estimat" in n.lower() for n in notes):
            qualities = [(ESTIMATED,) if "estimat" in n.lower() else () for n in notes]
        step = int(np.bincount(durations.clip(0, 10**6)).argmax()) if durations.size else 0
        service_kind, rt = reading_type(unit, step, FLOW[flow], costs is not None)
        key = f"pge:{account}:{service or ('gas' if service_kind == 1 else 'electric')}"
        channels.append(
            _finish(
                ctx,
                Channel(
                    usage_point_key=key,
                    usage_point_title=service or types[0] if types else None,
                    service_kind=service_kind,
                    reading_type=rt,
                    starts=starts.copy(),
                    durations=durations.copy(),
                    values=vals,
                    costs=costs,
                    qualities=qualities,
                    lines=[ctx.first_data_line + i for i in range(n_rows)],
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
        step = int(np.bincount(durations.clip(0, 10**6)).argmax()) if durations.size else 0
        service, rt = reading_type("kwh", step, FLOW[flow_name], False)
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
                    lines=numbers,
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
            step = int(np.bincount(durs.clip(0, 10**6)).argmax()) if durs.size else 0
            service, rt = reading_type("kwh", step, FLOW[flow], False)
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
                        lines=[ctx.first_data_line + i for i in idx],
                    ),
                )
            )
    return channels


# -- dispatch ------------------------------------------------------------------------------------


def read_csv(path: str, text: str, zone: ZoneInfo) -> tuple[str, list[Channel]]:
    """Recognise the layout of ``text`` and read it; returns (layout name, channels)."""
    text = text.lstrip("\ufeff")
    lines = text.splitlines()
    if not lines:
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
            body = text.split("\n", body_at + 1)[-1] if body_at + 1 < len(lines) else ""
            ctx = _Ctx(path, zone, body_at + 2)
            return "gbconnect CSV", read_gbconnect(ctx, lines[body_at].split(","), body)
    for i, line in enumerate(lines[:40]):
        if _PGE_HEADER.match(line):
            preamble = {}
            for pre in lines[:i]:
                cells = next(csv.reader([pre])) if pre.strip() else []
                if len(cells) >= 2:
                    preamble[cells[0].strip().lower()] = cells[1].strip()
            header = next(csv.reader([line]))
            body = text.split("\n", i + 1)[-1] if i + 1 < len(lines) else ""
            return "PG&E CSV", read_pge(_Ctx(path, zone, i + 2), preamble, header, body)
        cells = [c.strip().lower() for c in line.split(",")]
        if cells[:7] == SDGE_HEADER:
            rows = [r for r in csv.reader(io.StringIO("\n".join(lines[i + 1 :]))) if r]
            return "SDG&E CSV", read_sdge(_Ctx(path, zone, i + 2), rows)
    if any(
        "energy consumption time period" in ln.lower() or "data for period starting" in ln.lower()
        for ln in lines[:60]
    ):
        return "SCE CSV", read_sce(path, lines, zone)
    raise IngestError(
        path,
        "unrecognised CSV header: expected the gbconnect layout (usage_point,start,"
        "duration,value; docs/csv.md) or a PG&E, SCE or SDG&E download",
        body_at + 1,
    )
