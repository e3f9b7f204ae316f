"""ESPI content of the usage resources (espi.xsd; REQ.21 FB_1, 4, 5, 10, 12, 15, 16, 17).

Each function returns the ``<content>`` payload of one resource as text, with child
elements in the strict ``xs:sequence`` order of espi.xsd. Interval readings are the
hot path: a regular block is formatted with one ``%`` over a template repeated per
reading (DESIGN.md: the template writer), irregular ones reading by reading. Every
IntervalReading carries its ``timePeriod`` (parsers in the wild need it).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from gbconnect.espi.atom import ESPI, element, escape
from gbconnect.usage import blocks as codec
from gbconnect.usage import models as um

_OPEN = f'<{{0}} xmlns="{ESPI}">'

#: UsagePoint children after serviceDeliveryPoint, in espi.xsd order (kept in details).
USAGE_POINT_EXTRAS = (
    "amiBillingReady",
    "checkBilling",
    "connectionState",
    "estimatedLoad",
    "grounded",
    "isSdp",
    "isVirtual",
    "minimalUsageExpected",
    "nominalServiceVoltage",
    "outageRegion",
    "phaseCode",
    "ratedCurrent",
    "ratedPower",
    "readCycle",
    "readRoute",
    "serviceDeliveryRemark",
    "servicePriority",
    "pnodeRefs",
    "aggregateNodeRefs",
)
#: UsageSummary SummaryMeasurements, in espi.xsd order, split around qualityOfReading.
SUMMARY_BEFORE_QUALITY = (
    "overallConsumptionLastPeriod",
    "currentBillingPeriodOverAllConsumption",
    "currentDayLastYearNetConsumption",
    "currentDayNetConsumption",
    "currentDayOverallConsumption",
    "peakDemand",
    "previousDayLastYearOverallConsumption",
    "previousDayNetConsumption",
    "previousDayOverallConsumption",
)
SUMMARY_AFTER_QUALITY = ("ratchetDemand", "ratchetDemandPeriod")
#: Element order of the nested structures stored whole (SummaryMeasurement, LineItem,
#: ServiceDeliveryPoint, DateTimeInterval): an unknown key keeps its stored place.
ORDERS: dict[str, tuple[str, ...]] = {
    "measurement": ("powerOfTenMultiplier", "timeStamp", "uom", "value", "readingTypeRef"),
    "lineitem": (
        "amount",
        "rounding",
        "dateTime",
        "note",
        "measurement",
        "itemKind",
        "unitCost",
        "itemPeriod",
    ),
    "period": ("duration", "start"),
}
_MEASUREMENT_NAMES = {
    *SUMMARY_BEFORE_QUALITY,
    "ratchetDemand",
    "estimatedLoad",
    "nominalServiceVoltage",
    "ratedCurrent",
    "ratedPower",
    "measurement",
}


def data_xml(name: str, value: Any, order: tuple[str, ...] | None = None) -> str:
    """Stored order-keeping data (see ``element_to_data``) back to ESPI elements."""
    if isinstance(value, list):
        return "".join(data_xml(name, v, order) for v in value)
    if isinstance(value, Mapping):
        if order is None and name in _MEASUREMENT_NAMES:
            order = ORDERS["measurement"]
        elif order is None and name in ("itemPeriod", "ratchetDemandPeriod"):
            order = ORDERS["period"]
        keys = list(value)
        if order:
            rank = {k: i for i, k in enumerate(order)}
            keys.sort(key=lambda k: rank.get(k, len(order)))
        inner = "".join(data_xml(k, value[k]) for k in keys)
        return f"<{name}>{inner}</{name}>"
    return f"<{name}>{escape(value)}</{name}>"


def _period(name: str, start: int | None, duration: int | None) -> str:
    if start is None:
        return ""
    return f"<{name}><duration>{duration or 0}</duration><start>{start}</start></{name}>"


# -- resources ------------------------------------------------------------------------


def usage_point(up: um.UsagePoint) -> str:
    details = up.details or {}
    parts = [
        _OPEN.format("UsagePoint"),
        element("roleFlags", up.role_flags),
        f"<ServiceCategory><kind>{up.service_kind}</kind></ServiceCategory>",
        element("status", up.status),
    ]
    if up.service_delivery_point:
        parts.append(data_xml("serviceDeliveryPoint", up.service_delivery_point))
    parts.extend(data_xml(k, details[k]) for k in USAGE_POINT_EXTRAS if k in details)
    parts.append("</UsagePoint>")
    return "".join(parts)


def meter_reading() -> str:
    return f'<MeterReading xmlns="{ESPI}"/>'


_READING_TYPE_FIELDS = (
    ("accumulationBehaviour", "accumulation_behaviour"),
    ("commodity", "commodity"),
    ("consumptionTier", "consumption_tier"),
    ("currency", "currency"),
    ("dataQualifier", "data_qualifier"),
    ("defaultQuality", "default_quality"),
    ("flowDirection", "flow_direction"),
    ("intervalLength", "interval_length"),
    ("kind", "kind"),
    ("phase", "phase"),
    ("powerOfTenMultiplier", "power_of_ten_multiplier"),
    ("timeAttribute", "time_attribute"),
    ("tou", "tou"),
    ("uom", "uom"),
    ("cpp", "cpp"),
)


def reading_type(rt: um.ReadingType, with_cost: bool = True) -> str:
    parts = [_OPEN.format("ReadingType")]
    for name, attr in _READING_TYPE_FIELDS:
        if name == "currency" and not with_cost:
            continue
        parts.append(element(name, getattr(rt, attr)))
    for name, prefix in (("interharmonic", "interharmonic"),):
        num, den = getattr(rt, f"{prefix}_numerator"), getattr(rt, f"{prefix}_denominator")
        if num is not None or den is not None:
            parts.append(
                f"<{name}>{element('numerator', num)}{element('denominator', den)}</{name}>"
            )
    parts.append(element("measuringPeriod", rt.measuring_period))
    num, den = rt.argument_numerator, rt.argument_denominator
    if num is not None or den is not None:
        parts.append(
            f"<argument>{element('numerator', num)}{element('denominator', den)}</argument>"
        )
    parts.append("</ReadingType>")
    return "".join(parts)


def local_time_parameters(ltp: um.LocalTimeParameters) -> str:
    return "".join(
        [
            _OPEN.format("LocalTimeParameters"),
            element("dstEndRule", ltp.dst_end_rule or "00000000"),
            element("dstOffset", ltp.dst_offset or 0),
            element("dstStartRule", ltp.dst_start_rule or "00000000"),
            element("tzOffset", ltp.tz_offset or 0),
            "</LocalTimeParameters>",
        ]
    )


def usage_summary(us: um.UsageSummary, with_cost: bool) -> str:
    """FB_15 consumption; FB_16 (``with_cost``) adds the bill and its line items."""
    m = us.measurements or {}
    d = us.details or {}
    parts = [
        _OPEN.format("UsageSummary"),
        _period("billingPeriod", us.billing_period_start, us.billing_period_duration),
    ]
    if with_cost:
        parts += [
            element("billLastPeriod", us.bill_last_period),
            element("billToDate", us.bill_to_date),
            element("costAdditionalLastPeriod", us.cost_additional_last_period),
            "".join(
                data_xml("costAdditionalDetailLastPeriod", item, ORDERS["lineitem"])
                for item in us.line_items or ()
            ),
            element("currency", us.currency),
        ]
    parts += [data_xml(k, m[k]) for k in SUMMARY_BEFORE_QUALITY if k in m]
    parts.append(element("qualityOfReading", us.quality_of_reading))
    parts += [data_xml(k, m.get(k, d.get(k))) for k in SUMMARY_AFTER_QUALITY if k in m or k in d]
    parts.append(element("statusTimeStamp", us.status_timestamp or us.updated))
    parts += [
        element("commodity", us.commodity),
        element("tariffProfile", us.tariff_profile),
        element("readCycle", us.read_cycle),
    ]
    for k in ("tariffRiderRefs", "billingChargeSource"):
        if k in d:
            parts.append(data_xml(k, d[k]))
    parts.append("</UsageSummary>")
    return "".join(parts)


_QUALITY_FIELDS = (
    ("flickerPlt", "flicker_plt"),
    ("flickerPst", "flicker_pst"),
    ("harmonicVoltage", "harmonic_voltage"),
    ("longInterruptions", "long_interruptions"),
    ("mainsVoltage", "mains_voltage"),
    ("measurementProtocol", "measurement_protocol"),
    ("powerFrequency", "power_frequency"),
    ("rapidVoltageChanges", "rapid_voltage_changes"),
    ("shortInterruptions", "short_interruptions"),
)
_QUALITY_AFTER = (
    ("supplyVoltageDips", "supply_voltage_dips"),
    ("supplyVoltageImbalance", "supply_voltage_imbalance"),
    ("supplyVoltageVariations", "supply_voltage_variations"),
    ("tempOvervoltage", "temp_overvoltage"),
)


def quality_summary(q: um.ElectricPowerQualitySummary) -> str:
    parts = [_OPEN.format("ElectricPowerQualitySummary")]
    parts += [element(n, getattr(q, a)) for n, a in _QUALITY_FIELDS]
    parts.append(
        _period("summaryInterval", q.summary_interval_start or 0, q.summary_interval_duration)
    )
    parts += [element(n, getattr(q, a)) for n, a in _QUALITY_AFTER]
    parts.append("</ElectricPowerQualitySummary>")
    return "".join(parts)


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
