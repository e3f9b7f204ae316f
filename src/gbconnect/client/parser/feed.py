"""The streaming Green Button parser: Atom feeds (or a single entry) of ESPI resources,
any size, any namespace prefix, any entry order (REQ.21 section 1, FB_1/FB_4).

How it stays fast and small: ``lxml.etree.iterparse`` reports only the ends of Atom
``entry`` and ``link`` elements and of ``IntervalBlock`` (a hardened parser: no
entities, no network, no DTD, huge trees allowed). A block's readings are read in one
pass over their children, compared with precomputed Clark names (one event per block
rather than per reading: on the benchmark, 0.87 of a bare per-reading iterparse loop
against 0.56), and the block is cleared; each entry is cleared when it ends, with its
previous siblings, so memory holds one block at a time. A reading becomes a
:class:`Reading` (built positionally, no datetime) as soon as its MeterReading and
ReadingType are known.

How relations are resolved (Atom links, REQ.21 section 1):

- an IntervalBlock's ``up`` is ``.../MeterReading/{mr}/IntervalBlock`` (else its
  ``self`` is ``.../IntervalBlock/{id}``): the block's MeterReading;
- a MeterReading's ``up`` is ``.../UsagePoint/{id}/MeterReading``; its ``related``
  link naming a ReadingType gives the unit (or a ReadingType nested in it, as in the
  GBA's 2025 anonymised sample);
- a UsagePoint's ``related`` link naming LocalTimeParameters gives its local time.

Files put entries in any order. Readings whose MeterReading or ReadingType has not
come yet wait; they are given out when it comes, or at the end with unit ``""`` and
multiplier 0 (the raw value). IntervalReadings without ``timePeriod`` or ``value``
(schema: minOccurs 0) are skipped; :attr:`FeedStats.skipped` counts them.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from lxml import etree

from gbconnect.client.parser import numbers
from gbconnect.client.parser.errors import FeedError
from gbconnect.client.parser.localtime import LocalTime
from gbconnect.client.parser.model import (
    CustomerRecord,
    Item,
    MeterReading,
    Reading,
    ReadingType,
    UsagePoint,
    UsageSummary,
    make_reading,
)
from gbconnect.client.parser.namespaces import ATOM, CUSTOMER, ESPI, local, namespace
from gbconnect.client.parser.source import Source, open_source
from gbconnect.client.parser.units import unit_name

_E = "{" + ESPI + "}"
_A = "{" + ATOM + "}"
ENTRY = _A + "entry"
LINK = _A + "link"
CONTENT = _A + "content"
A_ID = _A + "id"
A_TITLE = _A + "title"
READING = _E + "IntervalReading"
BLOCK = _E + "IntervalBlock"
TIME_PERIOD = _E + "timePeriod"
START = _E + "start"
DURATION = _E + "duration"
VALUE = _E + "value"
COST = _E + "cost"
READING_QUALITY = _E + "ReadingQuality"
QUALITY = _E + "quality"
READING_TYPE = _E + "ReadingType"

UINT32_MAX = numbers.UINT32_MAX
MS_THRESHOLD = numbers.MS_THRESHOLD

_SUMMARIES = ("UsageSummary", "ElectricPowerUsageSummary")


@dataclass
class FeedStats:
    """What a parse saw: readings given out and IntervalReadings skipped on purpose
    (no ``timePeriod`` or no ``value``)."""

    readings: int = 0
    skipped: int = 0


def key(href: str) -> str:
    """An href without its scheme and host (files mix absolute and relative links)."""
    if "://" in href:
        rest = href.split("://", 1)[1]
        slash = rest.find("/")
        href = rest[slash:] if slash >= 0 else ""
    return href.strip().lstrip("/")


def _tail_key(href: str, name: str) -> str:
    """``.../{name}/{id}`` -> ``{name}/{id}`` (ReadingType and LocalTimeParameters are
    linked from elsewhere in the tree, sometimes at another base)."""
    k = key(href)
    at = k.rfind(name + "/")
    return k[at:] if at >= 0 else k


def _strip_suffix(href: str, suffix: str) -> str | None:
    h = href.rstrip("/")
    return h[: -len(suffix)] if h.endswith(suffix) else None


def _before(href: str, marker: str) -> str | None:
    at = href.rfind(marker)
    return href[:at] if at >= 0 else None


class _Channel:
    """A MeterReading as the readings need it: where it belongs, its scale and unit
    once known, and the readings that wait for them."""

    __slots__ = (
        "divide",
        "flow",
        "href",
        "pending",
        "reading_type",
        "ready",
        "scale",
        "unit",
        "usage_point",
    )

    def __init__(self, href: str, usage_point: str) -> None:
        self.href = href
        self.usage_point = usage_point
        self.reading_type: str | None = None
        self.ready = False
        self.scale = 1
        self.divide = False
        self.unit = ""
        self.flow: int | None = None
        self.pending: list[tuple[int, int, int, float | None, int | None]] = []

    def set_type(self, rt: ReadingType | None) -> None:
        power = (rt.power_of_ten_multiplier or 0) if rt is not None else 0
        self.divide = power < 0
        self.scale = 10 ** abs(power)
        self.unit = rt.unit if rt is not None else ""
        self.flow = rt.flow_direction if rt is not None else None
        self.ready = True

    def make(
        self, start: int, duration: int, raw: int, cost: float | None, q: int | None
    ) -> Reading:
        value = raw / self.scale if self.divide else float(raw * self.scale)
        return make_reading(
            self.usage_point, self.href, start, duration, value, self.unit, raw, cost, q, self.flow
        )


class _Entry:
    """The Atom metadata of the entry being read."""

    __slots__ = ("links", "self_href", "up_href")

    def __init__(self) -> None:
        self.self_href: str | None = None
        self.up_href: str | None = None
        self.links: list[str] = []  # related


def _int(el: etree._Element, tag: str) -> int | None:
    return numbers.number(el.findtext(tag))


def _child(el: etree._Element, name: str) -> etree._Element | None:
    """A child by local name in either ESPI namespace (files vary)."""
    found = el.find(_E + name)
    if found is None:
        found = el.find("{" + CUSTOMER + "}" + name)
    return found


class _Parser:
    def __init__(self) -> None:
        self.stats = FeedStats()
        self.channels: dict[str, _Channel] = {}
        self.reading_types: dict[str, ReadingType] = {}
        self.usage_points: dict[str, UsagePoint] = {}
        self.local_times: dict[str, LocalTime] = {}
        self.up_meter_readings: dict[str, list[str]] = {}
        #: Channels waiting for a ReadingType, UsagePoints for LocalTimeParameters, by key.
        self.waiting_types: dict[str, list[_Channel]] = {}
        self.waiting_times: dict[str, list[UsagePoint]] = {}
        self.entry = _Entry()
        self.loose: list[tuple[int, int, int, float | None, int | None]] = []

    # -- channels -----------------------------------------------------------------------

    def channel(self, mr_href: str) -> _Channel:
        k = key(mr_href)
        ch = self.channels.get(k)
        if ch is None:
            up = _before(mr_href, "/MeterReading/") or ""
            ch = self.channels[k] = _Channel(mr_href, up)
        return ch

    def entry_meter_reading(self) -> str | None:
        """The MeterReading of the IntervalBlock entry being read, from its links."""
        e = self.entry
        if e.up_href is not None:
            mr = _strip_suffix(e.up_href, "/IntervalBlock")
            if mr is not None:
                return mr
        if e.self_href is not None:
            mr = _before(e.self_href, "/IntervalBlock/")
            if mr is not None:
                return mr
        return None

    def current_channel(self) -> _Channel | None:
        mr = self.entry_meter_reading()
        return self.channel(mr) if mr is not None else None

    def release(self, ch: _Channel) -> Iterator[Reading]:
        """The readings that waited for ``ch``, now that it is ready."""
        waiting, ch.pending = ch.pending, []
        for item in waiting:
            yield ch.make(*item)
        self.stats.readings += len(waiting)

    def try_ready(self, ch: _Channel) -> Iterator[Reading]:
        """Ready ``ch`` if its ReadingType is known, else file it under the type it
        waits for (so that a ReadingType readies its channels without a scan)."""
        if ch.ready or ch.reading_type is None:
            return
        k = _tail_key(ch.reading_type, "ReadingType")
        rt = self.reading_types.get(k)
        if rt is None:
            self.waiting_types.setdefault(k, []).append(ch)
            return
        ch.set_type(rt)
        yield from self.release(ch)

    # -- entries ------------------------------------------------------------------------

    def on_link(self, el: etree._Element) -> None:
        parent = el.getparent()
        if parent is None or parent.tag != ENTRY:
            return
        rel = el.get("rel")
        href = el.get("href")
        if href is None:
            return
        if rel == "self":
            self.entry.self_href = href
        elif rel == "up":
            self.entry.up_href = href
        elif rel == "related":
            self.entry.links.append(href)

    def on_entry(self, el: etree._Element) -> Iterator[Item]:
        entry, self.entry = self.entry, _Entry()
        loose, self.loose = self.loose, []
        content = el.find(CONTENT)
        payload = None
        if content is not None:
            for child in content:
                if isinstance(child.tag, str):
                    payload = child
                    break
        atom_id = (el.findtext(A_ID) or "").strip() or None
        title = el.findtext(A_TITLE)
        title = title.strip() if title is not None else None
        href = entry.self_href or atom_id or ""
        if payload is not None:
            ns, kind = namespace(payload.tag), local(payload.tag)
            if ns == ESPI:
                if kind == "IntervalBlock":
                    pass
                elif kind == "UsagePoint":
                    yield from self.usage_point(payload, entry, href, title, atom_id)
                elif kind == "MeterReading":
                    yield from self.meter_reading(payload, entry, href, title)
                elif kind == "ReadingType":
                    yield from self.reading_type(payload, href)
                elif kind == "LocalTimeParameters":
                    yield self.local_time(payload, href)
                elif kind in _SUMMARIES:
                    yield self.summary(payload, entry, href)
            elif ns == CUSTOMER:
                yield self.customer(payload, kind, href, title)
        if loose:
            # Readings of a block whose links came after its content.
            self.entry = entry
            ch = self.current_channel()
            self.entry = _Entry()
            if ch is None:
                ch = self.channel("")
            ch.pending.extend(loose)
            if ch.ready:
                yield from self.release(ch)

    def usage_point(
        self,
        p: etree._Element,
        entry: _Entry,
        href: str,
        title: str | None,
        atom_id: str | None,
    ) -> Iterator[Item]:
        category = _child(p, "ServiceCategory")
        kind = _int(category, _E + "kind") if category is not None else None
        ltp = next((h for h in entry.links if "LocalTimeParameters" in h), None)
        up = UsagePoint(
            href=href,
            id=key(href).rsplit("/", 1)[-1] if entry.self_href else (atom_id or ""),
            title=title,
            service_kind=kind,
            atom_id=atom_id,
            local_time_href=ltp,
        )
        if ltp is not None:
            ltp_key = _tail_key(ltp, "LocalTimeParameters")
            up.local_time = self.local_times.get(ltp_key)
            if up.local_time is None:
                self.waiting_times.setdefault(ltp_key, []).append(up)
        k = key(href)
        up.meter_readings.extend(self.up_meter_readings.pop(k, []))
        self.usage_points[k] = up
        yield up

    def meter_reading(
        self, p: etree._Element, entry: _Entry, href: str, title: str | None
    ) -> Iterator[Item]:
        usage_point = None
        if entry.up_href is not None:
            usage_point = _strip_suffix(entry.up_href, "/MeterReading")
        if usage_point is None:
            usage_point = _before(href, "/MeterReading/") or ""
        rt_href = next((h for h in entry.links if "ReadingType" in h), None)
        nested = p.find(READING_TYPE)
        if nested is not None:
            rt_href = rt_href or href.rstrip("/") + "/ReadingType"
            yield from self.reading_type(nested, rt_href)
        mr = MeterReading(href=href, usage_point=usage_point, reading_type=rt_href, title=title)
        yield mr
        up = self.usage_points.get(key(usage_point))
        if up is not None:
            up.meter_readings.append(href)
        else:
            self.up_meter_readings.setdefault(key(usage_point), []).append(href)
        ch = self.channel(href)
        ch.usage_point = usage_point
        ch.reading_type = rt_href
        yield from self.try_ready(ch)

    def reading_type(self, p: etree._Element, href: str) -> Iterator[Item]:
        uom = _int(p, _E + "uom")
        rt = ReadingType(
            href=href,
            uom=uom,
            unit=unit_name(uom),
            power_of_ten_multiplier=_int(p, _E + "powerOfTenMultiplier"),
            interval_length=numbers.duration(p.findtext(_E + "intervalLength")),
            kind=_int(p, _E + "kind"),
            commodity=_int(p, _E + "commodity"),
            flow_direction=_int(p, _E + "flowDirection"),
            accumulation_behaviour=_int(p, _E + "accumulationBehaviour"),
            currency=_int(p, _E + "currency"),
            time_attribute=_int(p, _E + "timeAttribute"),
            data_qualifier=_int(p, _E + "dataQualifier"),
            phase=_int(p, _E + "phase"),
        )
        k = _tail_key(href, "ReadingType")
        self.reading_types[k] = rt
        yield rt
        for ch in self.waiting_types.pop(k, []):
            yield from self.try_ready(ch)

    def local_time(self, p: etree._Element, href: str) -> LocalTime:
        def text(name: str) -> str | None:
            value = p.findtext(_E + name)
            return value.strip() or None if value is not None else None

        lt = LocalTime(
            href=href,
            tz_offset=numbers.number(text("tzOffset")),
            dst_offset=numbers.number(text("dstOffset")),
            dst_start_rule=text("dstStartRule"),
            dst_end_rule=text("dstEndRule"),
        )
        k = _tail_key(href, "LocalTimeParameters")
        self.local_times[k] = lt
        for up in self.waiting_times.pop(k, []):
            if up.local_time is None:
                up.local_time = lt
        return lt

    def summary(self, p: etree._Element, entry: _Entry, href: str) -> UsageSummary:
        usage_point = ""
        for marker in _SUMMARIES:
            found = _strip_suffix(entry.up_href or "", "/" + marker) or _before(
                href, "/" + marker + "/"
            )
            if found:
                usage_point = found
                break
        period = p.find(_E + "billingPeriod")

        def money(name: str) -> float | None:
            value = _int(p, _E + name)
            return value / 100000 if value is not None else None

        unit = ""

        def measurement(name: str) -> float | None:
            nonlocal unit
            m = p.find(_E + name)
            if m is None:
                return None
            value = _int(m, _E + "value")
            if value is None:
                return None
            power = _int(m, _E + "powerOfTenMultiplier") or 0
            unit = unit or unit_name(_int(m, _E + "uom"))
            return value / 10**-power if power < 0 else float(value * 10**power)

        fields: dict[str, str] = {}
        _flatten(p, "", fields)
        return UsageSummary(
            href=href,
            usage_point=usage_point,
            billing_period_start=(
                numbers.timestamp(period.findtext(START)) if period is not None else None
            ),
            billing_period_duration=(
                numbers.duration(period.findtext(DURATION)) if period is not None else None
            ),
            bill_last_period=money("billLastPeriod"),
            bill_to_date=money("billToDate"),
            cost_additional_last_period=money("costAdditionalLastPeriod"),
            currency=_int(p, _E + "currency"),
            overall_consumption_last_period=measurement("overallConsumptionLastPeriod"),
            current_billing_period_over_all_consumption=measurement(
                "currentBillingPeriodOverAllConsumption"
            ),
            unit=unit,
            quality_of_reading=_int(p, _E + "qualityOfReading"),
            status_timestamp=numbers.timestamp(p.findtext(_E + "statusTimeStamp")),
            fields=fields,
        )

    def customer(
        self, p: etree._Element, kind: str, href: str, title: str | None
    ) -> CustomerRecord:
        fields: dict[str, str] = {}
        _flatten(p, "", fields)
        return CustomerRecord(kind=kind, href=href, fields=fields, title=title)

    # -- the end ------------------------------------------------------------------------

    def finish(self) -> Iterator[Reading]:
        """Readings still waiting: their ReadingType never came (unit "", multiplier 0)."""
        for ch in self.channels.values():
            if ch.pending:
                if not ch.ready:
                    rt = None
                    if ch.reading_type is not None:
                        rt = self.reading_types.get(_tail_key(ch.reading_type, "ReadingType"))
                    ch.set_type(rt)
                yield from self.release(ch)
        if len(self.local_times) == 1:
            (only,) = self.local_times.values()
            for up in self.usage_points.values():
                if up.local_time is None and up.local_time_href is None:
                    up.local_time = only


def _flatten(el: etree._Element, prefix: str, out: dict[str, str]) -> None:
    for child in el:
        if not isinstance(child.tag, str):
            continue
        path = prefix + local(child.tag)
        if len(child):
            _flatten(child, path + ".", out)
            continue
        text = (child.text or "").strip()
        if path in out:
            n = 2
            while f"{path}[{n}]" in out:
                n += 1
            out[f"{path}[{n}]"] = text
        else:
            out[path] = text


def _line(exc: etree.XMLSyntaxError) -> int | None:
    line = exc.lineno
    return line if isinstance(line, int) and line > 0 else None


def _iterparse(stream: Any) -> Any:
    return etree.iterparse(
        stream,
        events=("end",),
        tag=(BLOCK, LINK, ENTRY),
        resolve_entities=False,
        no_network=True,
        load_dtd=False,
        huge_tree=True,
        remove_comments=True,
        remove_pis=True,
    )


def parse(source: Source, stats: FeedStats | None = None) -> Iterator[Item]:
    """Every resource of a Green Button document, as it is read: :class:`UsagePoint`,
    :class:`MeterReading`, :class:`ReadingType`, :class:`LocalTime`,
    :class:`UsageSummary`, :class:`CustomerRecord` and :class:`Reading`.
    ``source``: a path, bytes, a binary file object or an iterable of bytes chunks; a
    feed or a single entry. Raises :class:`FeedError` (with the line) for a document
    that is not well-formed, is truncated or declares a DTD. Pass ``stats`` to learn
    how many readings were skipped."""
    return _run(source, stats if stats is not None else FeedStats(), readings_only=False)


def readings(source: Source, stats: FeedStats | None = None) -> Iterator[Reading]:
    """Only the :class:`Reading` items of :func:`parse`."""
    return _run(source, stats if stats is not None else FeedStats(), readings_only=True)  # type: ignore[return-value]


def _run(source: Source, stats: FeedStats, *, readings_only: bool) -> Iterator[Item]:
    stream, owned = open_source(source)
    state = _Parser()
    state.stats = stats
    checked = False
    ch: _Channel | None = None
    count = 0
    try:
        context = _iterparse(stream)
        try:
            for _event, el in context:
                tag = el.tag
                if tag == BLOCK:
                    if ch is None:
                        ch = state.current_channel()
                    # The block's readings in one pass (a block is a day, at most a few
                    # thousand readings): one iterparse event per block instead of one
                    # per reading, and one pass over each reading's children (lxml's
                    # find() goes through ElementPath and costs three times as much).
                    for ir in el:
                        if ir.tag != READING:
                            continue
                        start_text = duration_text = raw_text = None
                        cost_text = quality_text = None
                        timed = False
                        for c in ir:
                            t = c.tag
                            if t == TIME_PERIOD:
                                timed = True
                                for d in c:
                                    dt = d.tag
                                    if dt == START:
                                        start_text = d.text
                                    elif dt == DURATION:
                                        duration_text = d.text
                            elif t == VALUE:
                                raw_text = c.text
                            elif t == COST:
                                cost_text = c.text
                            elif t == READING_QUALITY and quality_text is None:
                                for d in c:
                                    if d.tag == QUALITY:
                                        quality_text = d.text
                        if not timed or raw_text is None:
                            stats.skipped += 1
                            continue
                        try:
                            start = int(start_text)  # type: ignore[arg-type]
                            if start >= MS_THRESHOLD or start <= -MS_THRESHOLD:
                                start = numbers.timestamp(start_text) or 0
                        except (TypeError, ValueError):
                            value = numbers.timestamp(start_text)
                            if value is None:
                                stats.skipped += 1
                                continue
                            start = value
                        try:
                            duration = int(duration_text)  # type: ignore[arg-type]
                            if duration > UINT32_MAX:
                                duration = numbers.duration(duration_text) or 0
                        except (TypeError, ValueError):
                            duration = numbers.duration(duration_text) or 0
                        try:
                            raw = int(raw_text)
                        except ValueError:
                            value = numbers.number(raw_text)
                            if value is None:
                                stats.skipped += 1
                                continue
                            raw = value
                        if cost_text is None:
                            cost = None
                        else:
                            cost_value = numbers.number(cost_text)
                            cost = cost_value / 100000 if cost_value is not None else None
                        quality = numbers.number(quality_text) if quality_text is not None else None
                        if ch is None:
                            state.loose.append((start, duration, raw, cost, quality))
                        elif ch.ready:
                            count += 1
                            yield make_reading(
                                ch.usage_point,
                                ch.href,
                                start,
                                duration,
                                raw / ch.scale if ch.divide else float(raw * ch.scale),
                                ch.unit,
                                raw,
                                cost,
                                quality,
                                ch.flow,
                            )
                        else:
                            ch.pending.append((start, duration, raw, cost, quality))
                    el.clear()
                elif tag == LINK:
                    if not checked:
                        _refuse_dtd(el)
                        checked = True
                    state.on_link(el)
                    ch = None
                else:  # ENTRY
                    if not checked:
                        _refuse_dtd(el)
                        checked = True
                    ch = None
                    for item in state.on_entry(el):
                        if isinstance(item, Reading) or not readings_only:
                            yield item
                    el.clear()
                    parent = el.getparent()
                    if parent is not None:
                        while el.getprevious() is not None:
                            del parent[0]
            if not checked:
                root = getattr(context, "root", None)
                if root is not None:
                    _refuse_dtd(root)
            yield from state.finish()
        except etree.XMLSyntaxError as exc:
            raise FeedError(f"not well-formed XML: {exc.msg}", _line(exc)) from None
    finally:
        stats.readings += count
        if owned is not None:
            owned.close()


def _refuse_dtd(el: etree._Element) -> None:
    info: Any = el.getroottree().docinfo
    if info.doctype or info.internalDTD is not None:
        raise FeedError(
            "document type declarations (DTDs) are not accepted: "
            "Green Button files never need one and they enable entity attacks",
            1,
        )
