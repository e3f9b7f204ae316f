"""ESPI content of the usage resources (espi.xsd; REQ.21 FB_1, 4, 5, 10, 12, 15, 16, 17).

Each function returns the ``<content>`` payload of one resource as text, with child
elements in the strict ``xs:sequence`` order of espi.xsd, as the tables of
:mod:`gbconnect.espi.schema` give it (the importer reads the same tables). Interval
readings are the hot path: a regular block is formatted with one ``%`` over a template
repeated per reading (DESIGN.md: the template writer), irregular ones reading by
reading. Every IntervalReading carries its ``timePeriod`` (parsers in the wild need it).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from gbconnect.espi import schema
from gbconnect.espi.atom import ESPI, element
from gbconnect.usage import blocks as codec
from gbconnect.usage import models as um


def _stored(name: str, value: object) -> str:
    return schema.stored_xml(schema.ESPI_TYPES, name, value)


def _field(f: schema.Field, row: Any) -> str:
    """One element of a resource, from the column(s) :mod:`gbconnect.espi.schema` names."""
    name, kind = f.element, f.kind
    if kind == schema.KEYED:
        stored = getattr(row, f.column) or {}
        return _stored(name, stored[name]) if name in stored else ""
    if kind == schema.STRUCT:
        value = getattr(row, f.column)
        return _stored(name, value) if value else ""
    if kind == schema.STRUCTS:
        return "".join(_stored(name, v) for v in getattr(row, f.column) or ())
    if kind == schema.INTERVAL:
        start = getattr(row, f"{f.column}_start")
        if start is None:
            start = f.default
        if start is None:
            return ""
        duration = getattr(row, f"{f.column}_duration") or 0
        return f"<{name}><duration>{duration}</duration><start>{start}</start></{name}>"
    if kind == schema.RATIO:
        num = getattr(row, f"{f.column}_numerator")
        den = getattr(row, f"{f.column}_denominator")
        if num is None and den is None:
            return ""
        return f"<{name}>{element('numerator', num)}{element('denominator', den)}</{name}>"
    value = getattr(row, f.column)
    if value is None and f.fallback is not None:
        value = getattr(row, f.fallback)
    if value is None:
        value = f.default
    if kind == schema.CATEGORY:
        return f"<{name}>{element('kind', value)}</{name}>"
    return element(name, value)


def _resource(name: str, fields: tuple[schema.Field, ...], row: Any, with_cost: bool = True) -> str:
    """A resource's content: its fields in schema order, cost elements only ``with_cost``."""
    body = "".join(_field(f, row) for f in fields if with_cost or not f.cost)
    return f'<{name} xmlns="{ESPI}">{body}</{name}>'


# -- resources ------------------------------------------------------------------------


def usage_point(up: um.UsagePoint) -> str:
    """REQ.21 FB_1 UsagePoint."""
    return _resource("UsagePoint", schema.USAGE_POINT, up)


def meter_reading() -> str:
    return f'<MeterReading xmlns="{ESPI}"/>'


def reading_type(rt: um.ReadingType, with_cost: bool = True) -> str:
    """REQ.21 FB_4 ReadingType; ``currency`` only ``with_cost`` (FB_12)."""
    return _resource("ReadingType", schema.READING_TYPE, rt, with_cost)


def local_time_parameters(ltp: um.LocalTimeParameters) -> str:
    """LocalTimeParameters, every element present (the schema requires them all)."""
    return _resource("LocalTimeParameters", schema.LOCAL_TIME_PARAMETERS, ltp)


def usage_summary(us: um.UsageSummary, with_cost: bool) -> str:
    """FB_15 consumption; FB_16 (``with_cost``) adds the bill and its line items."""
    return _resource("UsageSummary", schema.USAGE_SUMMARY, us, with_cost)


def quality_summary(q: um.ElectricPowerQualitySummary) -> str:
    """FB_17 ElectricPowerQualitySummary."""
    return _resource("ElectricPowerQualitySummary", schema.QUALITY_SUMMARY, q)


# -- interval blocks --------------------------------------------------------------------


def interval_readings(
    data: bytes, with_cost: bool, lo: int | None = None, hi: int | None = None
) -> tuple[str, int, int, int]:
    """The IntervalReadings of a packed block, those starting in [lo, hi) when given.

    Returns (xml, count, first start, last end); count 0 when none is in the window.
    """
    r = codec.decode(data)
    starts, durations, values = r.starts, r.durations, r.values
    n = len(starts)
    a, b = 0, n
    if lo is not None:
        while a < n and starts[a] < lo:
            a += 1
    if hi is not None:
        while b > a and starts[b - 1] >= hi:
            b -= 1
    if a >= b:
        return "", 0, 0, 0
    costs = r.costs if with_cost else None
    simple = (
        r.qualities is None
        and r.tou is None
        and r.cpp is None
        and r.tiers is None
        and costs is None
        and None not in values[a:b]
    )
    first, end = starts[a], starts[b - 1] + durations[b - 1]
    if simple and len(set(durations[a:b])) == 1:
        tpl = (
            f"<IntervalReading><timePeriod><duration>{durations[a]}</duration>"
            "<start>%d</start></timePeriod><value>%d</value></IntervalReading>"
        )
        flat: list[int] = [0] * (2 * (b - a))
        flat[0::2] = starts[a:b]
        flat[1::2] = values[a:b]  # type: ignore[assignment]
        return (tpl * (b - a)) % tuple(flat), b - a, first, end
    out = []
    for i in range(a, b):
        p = ["<IntervalReading>"]
        if costs is not None and costs[i] is not None:
            p.append(f"<cost>{costs[i]}</cost>")
        if r.qualities is not None:
            p.extend(
                f"<ReadingQuality><quality>{q}</quality></ReadingQuality>" for q in r.qualities[i]
            )
        p.append(
            f"<timePeriod><duration>{durations[i]}</duration><start>{starts[i]}</start></timePeriod>"
        )
        if values[i] is not None:
            p.append(f"<value>{values[i]}</value>")
        for name, column in (("consumptionTier", r.tiers), ("tou", r.tou), ("cpp", r.cpp)):
            if column is not None and column[i] is not None:
                p.append(f"<{name}>{column[i]}</{name}>")
        p.append("</IntervalReading>")
        out.append("".join(p))
    return "".join(out), b - a, first, end


def interval_block(readings_xml: str, start: int, duration: int) -> str:
    return (
        f'<IntervalBlock xmlns="{ESPI}"><interval><duration>{duration}</duration>'
        f"<start>{start}</start></interval>{readings_xml}</IntervalBlock>"
    )


def join(parts: Iterable[str]) -> str:
    return "".join(parts)
