"""Import of the espi.xsd resources: UsagePoint, LocalTimeParameters, ReadingType,
MeterReading, IntervalBlock, UsageSummary (and ElectricPowerUsageSummary) and
ElectricPowerQualitySummary (REQ.21 FB_1, 4, 15, 17).

Each resource's children are read through its table in :mod:`gbconnect.espi.schema`,
the one the writers use; nested structures are stored whole. IntervalBlocks are the
hot path: a plain one (each reading a timePeriod and a value) is read column by column
(:mod:`gbconnect.ingest.espi.plain_blocks`, issue: performance: CPU time 0.58 -> 0.80 of a bare
lxml iterparse), any other element by element; both give packed blocks
(:class:`~gbconnect.usage.services.PackedBlock`), stored in bulk every
:data:`FLUSH_BLOCKS` blocks.
"""

from __future__ import annotations

import itertools
import operator
import re
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select

from gbconnect.espi import schema
from gbconnect.espi.namespaces import ESPI
from gbconnect.espi.times import parse_timestamp
from gbconnect.espi.xmlreader import Entry, element_to_data
from gbconnect.ingest.espi.feed import (
    PARENT_PATH_PARTS,
    ImportContext,
    Parents,
    content_key,
    href_key,
    local_name,
    self_key,
)
from gbconnect.ingest.espi.plain_blocks import plain_readings
from gbconnect.usage import blocks as codec
from gbconnect.usage import models as um
from gbconnect.usage.services import PackedBlock, store_blocks

E = f"{{{ESPI}}}"
#: IntervalBlock and IntervalReading children, as lxml names them.
_IR, _INTERVAL, _TP, _START, _DURATION, _VALUE, _COST, _RQ, _QUALITY, _TOU, _CPP, _TIER = (
    E + name
    for name in (
        "IntervalReading",
        "interval",
        "timePeriod",
        "start",
        "duration",
        "value",
        "cost",
        "ReadingQuality",
        "quality",
        "tou",
        "cpp",
        "consumptionTier",
    )
)

FLUSH_BLOCKS = 2000

#: Commodity (ReadingType) -> ServiceKind (UsagePoint), for files that omit the kind.
_COMMODITY_SERVICE = {1: 0, 2: 0, 4: 0, 7: 1, 8: 1, 9: 2, 10: 2, 11: 2, 12: 4}

_MODELS: dict[str, type[Any]] = {
    "UsagePoint": um.UsagePoint,
    "MeterReading": um.MeterReading,
    "ReadingType": um.ReadingType,
    "LocalTimeParameters": um.LocalTimeParameters,
}

_USAGE_POINT = schema.by_element(schema.USAGE_POINT)
for _alias, _name in schema.USAGE_POINT_ALIASES.items():
    _USAGE_POINT[_alias] = _USAGE_POINT[_name]
_READING_TYPE = schema.by_element(schema.READING_TYPE)
_LOCAL_TIME_PARAMETERS = schema.by_element(schema.LOCAL_TIME_PARAMETERS)
_USAGE_SUMMARY = schema.by_element(schema.USAGE_SUMMARY)
_QUALITY_SUMMARY = schema.by_element(schema.QUALITY_SUMMARY)
#: espi.xsd DstRuleType: HexBinary32, an xs:hexBinary of at most 4 octets.
_HEX32 = re.compile(r"(?:[0-9A-Fa-f]{2}){1,4}")


def _reordered(r: codec.Readings, order: list[int]) -> codec.Readings:
    """The readings ``r`` in ``order`` (positions), every column alike."""

    def pick(col: list[Any] | None) -> list[Any] | None:
        return None if col is None else [col[i] for i in order]

    return codec.Readings(
        [r.starts[i] for i in order],
        [r.durations[i] for i in order],
        [r.values[i] for i in order],
        pick(r.costs),
        pick(r.qualities),
        pick(r.tou),
        pick(r.cpp),
        pick(r.tiers),
    )


def _blank(fields: dict[str, schema.Field]) -> dict[str, Any]:
    """The columns of a table, empty (a resource sent again without an element loses it)."""
    values: dict[str, Any] = {}
    for f in fields.values():
        if f.kind == schema.RATIO:
            values[f"{f.column}_numerator"] = values[f"{f.column}_denominator"] = None
        elif f.kind == schema.INTERVAL:
            values[f"{f.column}_start"] = values[f"{f.column}_duration"] = None
        elif f.kind == schema.KEYED:
            values[f.column] = {}
        elif f.kind == schema.STRUCTS:
            values[f.column] = []
        else:
            values[f.column] = None
    return values


@dataclass
class UsageResources:
    """The espi.xsd resources of one file (see :mod:`gbconnect.ingest.espi.importer`)."""

    ctx: ImportContext
    parents: Parents = field(init=False)
    _mr_reading_type: dict[int, str] = field(default_factory=dict)
    _up_ltp: dict[int, str] = field(default_factory=dict)
    _up_missing_kind: dict[int, int] = field(default_factory=dict)
    _blocks: dict[int, list[PackedBlock]] = field(default_factory=lambda: defaultdict(list))
    _buffered: int = 0
    _touched_up: set[int] = field(default_factory=set)
    _touched_mr: set[int] = field(default_factory=set)

    def __post_init__(self) -> None:
        self.parents = Parents(self.ctx, self.stored_id)

    def feed(self, entry: Entry, name: str) -> bool:
        """Import ``entry`` if it is a usage resource named ``name``; False if it is not."""
        if name == "UsagePoint":
            self._usage_point(entry)
        elif name == "LocalTimeParameters":
            self._local_time_parameters(entry)
        elif name == "ReadingType":
            self._reading_type(entry, entry.payload, self_key(entry) or content_key(entry))
        elif name == "MeterReading":
            self.parents.place(entry, self._meter_reading, "UsagePoint")
        elif name == "IntervalBlock":
            self.parents.place(entry, self._interval_block, "MeterReading")
        elif name in ("UsageSummary", "ElectricPowerUsageSummary"):
            self.parents.place(entry, self._usage_summary, "UsagePoint")
        elif name == "ElectricPowerQualitySummary":
            self.parents.place(entry, self._quality_summary, "UsagePoint")
        else:
            return False
        return True

    # -- reading a resource through its table ---------------------------------------

    def _read(self, fields: dict[str, schema.Field], p: Any, prefix: str = "") -> dict[str, Any]:
        """The column values of payload ``p``; children the table does not name go to
        ``details`` when the resource keeps one, and are ignored otherwise."""
        ctx = self.ctx
        values = _blank(fields)
        details = values.get("details")
        for child in p:
            if not isinstance(child.tag, str):
                continue
            name = local_name(child)
            f = fields.get(name)
            if f is None:
                if details is not None:
                    details[name] = element_to_data(child)
                continue
            kind, col = f.kind, f.column
            if kind == schema.KEYED:
                values[col][name] = element_to_data(child)
            elif kind == schema.CATEGORY:
                values[col] = ctx.integer(child.find(E + "kind"), f"{name} kind", f.lo, f.hi)
            elif kind == schema.TEXT:
                text = (child.text or "").strip()
                values[col] = (text[: f.width] if f.width else text) or None
            elif kind == schema.TIME:
                values[col] = parse_timestamp(child.text, name)
            elif kind == schema.HEX8:
                text = (child.text or "").strip()
                if text and not _HEX32.fullmatch(text):
                    raise ctx.fail(
                        f"{name} {text!r} is not hexBinary of at most 4 octets (espi.xsd "
                        "HexBinary32)",
                        child.sourceline,
                    )
                values[col] = text.upper() or None
            elif kind == schema.RATIO:
                for part in ("numerator", "denominator"):
                    values[f"{col}_{part}"] = ctx.integer(child.find(E + part), f"{name} {part}")
            elif kind == schema.INTERVAL:
                values[f"{col}_start"] = parse_timestamp(
                    child.findtext(E + "start"), f"{name} start"
                )
                values[f"{col}_duration"] = ctx.duration(
                    child.findtext(E + "duration"), f"{name} duration"
                )
            elif kind == schema.STRUCT:
                values[col] = element_to_data(child) or None
            elif kind == schema.STRUCTS:
                values[col].append(element_to_data(child))
            else:
                values[col] = ctx.integer(child, prefix + name, f.lo, f.hi)
        for f in fields.values():
            if f.kind in (schema.KEYED, schema.STRUCTS) and not values[f.column]:
                values[f.column] = None
        return values

    # -- resources --------------------------------------------------------------------

    def _usage_point(self, entry: Entry) -> None:
        values = self._read(_USAGE_POINT, entry.payload)
        missing_kind = values["service_kind"] is None
        if missing_kind:
            values["service_kind"] = 0
        key = self_key(entry)
        owner = {"retail_customer_id": self.ctx.owner.id}
        up = self.ctx.upsert(um.UsagePoint, owner, key, entry, values)
        if missing_kind:
            self._up_missing_kind[up.id] = entry.line
        if key is not None:
            self.ctx.table("UsagePoint")[key] = up.id
        for href in entry.related():
            if "LocalTimeParameters" in href:
                self._up_ltp[up.id] = href_key(href)
        self._touched_up.add(up.id)

    def _local_time_parameters(self, entry: Entry) -> None:
        values = self._read(_LOCAL_TIME_PARAMETERS, entry.payload)
        if values["tz_offset"] is None:
            # Unknown is not UTC: without its tzOffset the entry says nothing of the
            # zone, so it is not stored and no UsagePoint is tied to it.
            self.ctx.summary.notes.append(
                f"LocalTimeParameters at line {entry.line} has no tzOffset: not stored, "
                "the time zone of its usage points stays unknown"
            )
            return
        key = self_key(entry) or content_key(entry)
        owner = {"retail_customer_id": self.ctx.owner.id}
        ltp = self.ctx.upsert(um.LocalTimeParameters, owner, key, entry, values)
        if key is not None:
            self.ctx.table("LocalTimeParameters")[key] = ltp.id

    def _reading_type(self, entry: Entry, p: Any, key: str | None) -> int:
        values = self._read(_READING_TYPE, p, prefix="ReadingType ")
        owner = {"retail_customer_id": self.ctx.owner.id}
        rt = self.ctx.upsert(um.ReadingType, owner, key, entry, values)
        if key is not None:
            self.ctx.table("ReadingType")[key] = rt.id
        return int(rt.id)

    def _meter_reading(self, entry: Entry, usage_point_id: int) -> None:
        key = self_key(entry)
        mr = self.ctx.upsert(um.MeterReading, {"usage_point_id": usage_point_id}, key, entry, {})
        if key is not None:
            self.ctx.table("MeterReading")[key] = mr.id
        nested = entry.payload.find(E + "ReadingType")
        if nested is not None:  # the GBA's 2025 sample nests it (REAL-WORLD-QUIRKS.md)
            rt_key = f"{key}#ReadingType" if key else None
            mr.reading_type_id = self._reading_type(entry, nested, rt_key)
        else:
            for href in entry.related():
                if "ReadingType" in href:
                    self._mr_reading_type[mr.id] = href_key(href)
        self._touched_mr.add(mr.id)
        self._touched_up.add(usage_point_id)

    def _usage_summary(self, entry: Entry, usage_point_id: int) -> None:
        values = self._read(_USAGE_SUMMARY, entry.payload)
        key = self_key(entry)
        if key is None and values["billing_period_start"] is not None:
            key = f"billingPeriod:{values['billing_period_start']}"
        scope = {"usage_point_id": usage_point_id}
        self.ctx.upsert(um.UsageSummary, scope, key, entry, values)
        self.ctx.summary.summaries += 1
        self._touched_up.add(usage_point_id)

    def _quality_summary(self, entry: Entry, usage_point_id: int) -> None:
        values = self._read(_QUALITY_SUMMARY, entry.payload)
        scope = {"usage_point_id": usage_point_id}
        self.ctx.upsert(um.ElectricPowerQualitySummary, scope, self_key(entry), entry, values)
        self.ctx.summary.summaries += 1
        self._touched_up.add(usage_point_id)

    # -- interval blocks ------------------------------------------------------------------

    def _interval_block(self, entry: Entry, meter_reading_id: int) -> None:
        parsed: list[PackedBlock] = []
        for payload in entry.payloads:  # all read before any is kept: an entry is whole
            if local_name(payload) != "IntervalBlock":
                raise self.ctx.fail(
                    "an entry mixes IntervalBlock with other resources", payload.sourceline
                )
            parsed.append(self._parse_block(payload))
        self._blocks[meter_reading_id].extend(parsed)
        self._buffered += len(parsed)
        self._touched_mr.add(meter_reading_id)
        if self._buffered >= FLUSH_BLOCKS:
            self._flush_blocks()

    def _parse_block(self, p: Any) -> PackedBlock:
        """IntervalBlock -> PackedBlock (the hot path of ESPI import): a plain block
        column by column (:mod:`gbconnect.ingest.espi.plain_blocks`), any other
        element by element."""
        plain = plain_readings(p)
        if plain is None:
            return self._pack(p, *self._walk_block(p))
        block_start: int | None = None
        block_duration: int | None = None
        for interval in p.iterchildren(_INTERVAL):  # the last one counts, as below
            block_start, block_duration = self._span(
                interval, "interval start", "interval duration"
            )
        values: list[int | None] = [*plain.values]
        readings = codec.Readings(plain.starts, plain.durations, values)
        return self._pack(p, readings, plain.lines, block_start, block_duration)

    def _walk_block(self, p: Any) -> tuple[codec.Readings, list[int], int | None, int | None]:
        """The readings of any IntervalBlock, element by element: (readings in document
        order with their times filled in, their lines, interval start and duration)."""
        to_int = self.ctx.integer
        span = self._span
        block_start: int | None = None
        block_duration: int | None = None
        #: One row per IntervalReading: start, duration, value, cost, qualities, tou,
        #: cpp, consumptionTier, source line (transposed to columns below).
        rows: list[tuple[Any, ...]] = []
        any_cost = any_quality = any_tou = any_cpp = any_tier = False
        for child in p:
            tag = child.tag
            if tag == _IR:
                start = duration = value = cost = t = c = tier = None
                quality: tuple[int, ...] = ()
                for el in child:
                    etag = el.tag
                    if etag == _VALUE:
                        value = to_int(el, "value")
                    elif etag == _TP:
                        start, duration = span(el, "timePeriod start", "timePeriod duration")
                    elif etag == _COST:
                        cost = to_int(el, "cost")
                        any_cost = True
                    elif etag == _RQ:
                        q = to_int(el.find(_QUALITY), "ReadingQuality", 0, 65535)
                        if q is not None:
                            quality = (*quality, q)
                            any_quality = True
                    elif etag == _TOU:
                        t = to_int(el, "tou")
                        any_tou = True
                    elif etag == _CPP:
                        c = to_int(el, "cpp")
                        any_cpp = True
                    elif etag == _TIER:
                        tier = to_int(el, "consumptionTier")
                        any_tier = True
                rows.append((start, duration, value, cost, quality, t, c, tier, child.sourceline))
            elif tag == _INTERVAL:
                block_start, block_duration = span(child, "interval start", "interval duration")
        columns: list[list[Any]] = [list(col) for col in zip(*rows, strict=True)] or [[]] * 9
        starts, durations = self._fill_times(p, columns[0], columns[1], block_start, block_duration)
        _s, _d, values, costs, qualities, tou, cpp, tiers, lines = columns
        readings = codec.Readings(
            starts=starts,
            durations=durations,
            values=values,
            costs=costs if any_cost else None,
            qualities=qualities if any_quality else None,
            tou=tou if any_tou else None,
            cpp=cpp if any_cpp else None,
            tiers=tiers if any_tier else None,
        )
        return readings, lines, block_start, block_duration

    def _pack(
        self,
        p: Any,
        readings: codec.Readings,
        lines: list[int],
        block_start: int | None,
        block_duration: int | None,
    ) -> PackedBlock:
        """Order the readings of block ``p`` by start, refuse a repeated start, pack."""
        starts = readings.starts
        if not all(map(operator.lt, starts, itertools.islice(starts, 1, None))):
            order = sorted(range(len(starts)), key=starts.__getitem__)
            if order != list(range(len(order))):
                readings = _reordered(readings, order)
                lines = [lines[i] for i in order]
                starts = readings.starts
            for i in range(1, len(starts)):
                if starts[i] == starts[i - 1]:
                    a, b = sorted((lines[i - 1], lines[i]))
                    raise self.ctx.fail(
                        f"IntervalReading repeats the start {starts[i]} of the reading at "
                        f"line {a} (readings are unique by start, REQ.21 FB_4)",
                        b,
                    )
        try:
            packed = PackedBlock.pack(readings, block_start, block_duration, lines, p.sourceline)
        except codec.BlockCodecError as exc:
            raise self.ctx.fail(str(exc), p.sourceline) from None
        if packed.duration == 0 and readings.starts:
            raise self.ctx.fail(
                f"IntervalBlock has an interval of duration 0 but holds {len(readings)} "
                "reading(s) (a block spans its readings, REQ.21 FB_4)",
                p.sourceline,
            )
        durations = readings.durations
        if 0 in durations:
            self.ctx.zero_duration(
                [line for d, line in zip(durations, lines, strict=True) if d == 0]
            )
        if readings.starts:
            self.ctx.summary.span(readings.starts[0], packed.readings_end)
        return packed

    def _span(self, el: Any, start_what: str, duration_what: str) -> tuple[Any, Any]:
        """(start, duration) of a DateTimeInterval, None for an element it lacks."""
        start = duration = None
        for sub in el:
            if sub.tag == _START:
                start = parse_timestamp(sub.text, start_what)
            elif sub.tag == _DURATION:
                duration = self.ctx.duration(sub.text, duration_what)
        return start, duration

    def _fill_times(
        self,
        p: Any,
        starts: list[int | None],
        durations: list[int | None],
        block_start: int | None,
        block_duration: int | None,
    ) -> tuple[list[int], list[int]]:
        """Readings without timePeriod start where the previous one ended (schema minOccurs 0)."""
        if all(s is not None for s in starts) and all(d is not None for d in durations):
            return starts, durations  # type: ignore[return-value]
        n = len(starts)
        even = (
            block_duration // n
            if block_duration is not None and n and block_duration % n == 0
            else None
        )
        out_s: list[int] = []
        out_d: list[int] = []
        for i, (s, d) in enumerate(zip(starts, durations, strict=True)):
            if s is None:
                if i == 0:
                    if block_start is None:
                        raise self.ctx.fail(
                            "IntervalReading has no timePeriod and its block no "
                            "interval to place it in",
                            p.sourceline,
                        )
                    s = block_start
                else:
                    s = out_s[-1] + out_d[-1]
            if d is None:
                d = even if even is not None else (out_d[-1] if out_d else None)
                if d is None:
                    raise self.ctx.fail(
                        "IntervalReading has no duration and none can be inferred", p.sourceline
                    )
            out_s.append(s)
            out_d.append(d)
        return out_s, out_d

    def _flush_blocks(self) -> None:
        conn = self.ctx.session.connection()
        summary = self.ctx.summary
        for mr_id, pending in self._blocks.items():
            summary.blocks.add(store_blocks(conn, mr_id, pending, self.ctx.now))
        summary.readings = summary.blocks.readings
        self._blocks.clear()
        self._buffered = 0

    # -- end of file ----------------------------------------------------------------------

    def stored_id(self, kind: str, key: str) -> int | None:
        """The id of a ``kind`` stored for this customer by an earlier file, by self key."""
        model = _MODELS[kind]
        stmt = select(model.id).where(model.source_key == key)
        if model is um.MeterReading:
            stmt = stmt.join(um.UsagePoint).where(
                um.UsagePoint.retail_customer_id == self.ctx.owner.id
            )
        else:
            stmt = stmt.where(model.retail_customer_id == self.ctx.owner.id)
        found = self.ctx.session.execute(stmt).scalars().first()
        if found is None and kind in PARENT_PATH_PARTS:
            found = self._stored_by_suffix(model, kind, key)
        return int(found) if found is not None else None

    def _stored_by_suffix(self, model: Any, kind: str, key: str) -> int | None:
        """A parent stored by an earlier import under another path to the same
        resource (REQ.21: ``Subscription/5/UsagePoint/1`` and
        ``RetailCustomer/1/UsagePoint/1`` name one UsagePoint): found by its own
        trailing ``UsagePoint/{id}[/MeterReading/{id}]`` when one stored resource of
        this customer ends so."""
        parts = key.split("/")
        n = PARENT_PATH_PARTS[kind]
        if len(parts) < n or parts[-2] != kind:
            return None
        suffix = "/".join(parts[-n:])
        pattern = "%/" + suffix.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        stmt = select(model.id).where(
            (model.source_key == suffix) | model.source_key.like(pattern, escape="\\")
        )
        if model is um.MeterReading:
            stmt = stmt.join(um.UsagePoint).where(
                um.UsagePoint.retail_customer_id == self.ctx.owner.id
            )
        else:
            stmt = stmt.where(model.retail_customer_id == self.ctx.owner.id)
        found = self.ctx.session.execute(stmt.limit(2)).scalars().all()
        return int(found[0]) if len(found) == 1 else None

    def usage_point_id(self, key: str) -> int | None:
        """A UsagePoint of this file or of the store, by self key."""
        return self.ctx.table("UsagePoint").get(key) or self.stored_id("UsagePoint", key)

    def finish(self) -> None:
        """Place what waited for a parent, store the remaining blocks, link ReadingTypes
        and LocalTimeParameters named by ``related`` links, infer missing kinds."""
        self.parents.settle()
        self._flush_blocks()
        session = self.ctx.session
        for mr_id, rt_key in self._mr_reading_type.items():
            rt_id = self.ctx.table("ReadingType").get(rt_key) or self.stored_id(
                "ReadingType", rt_key
            )
            mr = session.get(um.MeterReading, mr_id)
            if mr is not None and rt_id is not None and mr.reading_type_id != rt_id:
                mr.reading_type_id = rt_id
        for up_id, ltp_key in self._up_ltp.items():
            ltp_id = self.ctx.table("LocalTimeParameters").get(ltp_key) or self.stored_id(
                "LocalTimeParameters", ltp_key
            )
            up = session.get(um.UsagePoint, up_id)
            if up is None or ltp_id is None:
                continue
            ltp = session.get(um.LocalTimeParameters, ltp_id)
            # One stored before tzOffset was required says nothing of the zone either.
            wanted = ltp_id if ltp is not None and ltp.tz_offset is not None else None
            if up.local_time_parameters_id != wanted:
                up.local_time_parameters_id = wanted
        session.flush()
        self._infer_service_kinds()
        self.ctx.summary.usage_points = len(self._touched_up)
        self.ctx.summary.usage_point_ids.update(self._touched_up)
        self.ctx.summary.meter_readings = len(self._touched_mr)

    def _infer_service_kinds(self) -> None:
        """A UsagePoint without ServiceCategory kind takes it from its ReadingTypes'
        commodity (gas files that omit it, REAL-WORLD-QUIRKS.md)."""
        session = self.ctx.session
        for up_id, line in self._up_missing_kind.items():
            commodities = set(
                session.scalars(
                    select(um.ReadingType.commodity)
                    .join(um.MeterReading, um.MeterReading.reading_type_id == um.ReadingType.id)
                    .where(um.MeterReading.usage_point_id == up_id)
                )
            )
            kinds = {_COMMODITY_SERVICE.get(c) for c in commodities if c is not None} - {None}
            if len(kinds) != 1:
                raise self.ctx.fail(
                    "UsagePoint has no ServiceCategory kind, and its readings' "
                    "commodity does not tell it",
                    line,
                )
            up = session.get(um.UsagePoint, up_id)
            if up is None:  # its entry was skipped
                continue
            up.service_kind = kinds.pop()  # type: ignore[assignment]
            self.ctx.summary.notes.append(
                "a UsagePoint without ServiceCategory kind took it from its commodity"
            )
