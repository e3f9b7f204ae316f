"""``gbconnect validate``: a Green Button file against the ESPI schemas and the data
rules of the function blocks gbconnect serves (REQ.21 FB_1, 4, 5, 8, 10, 12, 15, 16).

Every finding has a rule id, a line and a plain message:

- ``XSD``: the document does not follow espi.xsd / atom.xsd (element order, types);
- ``CODE``: a code outside its table in code-tables.json. Each code list of espi.xsd
  is a union of its enumeration with UInt16 (Int16 for powerOfTenMultiplier), so a
  value outside the enumeration is allowed by the schema (an extension, or an ESPI 1.x
  code such as timeAttribute 7): a warning. A table marked closed (no
  ``open_union_with_UInt16``) would make it an error;
- ``FB1-*``: Atom entry rules (ids, self and up links, dates);
- ``FB4-*``: interval metering (ReadingType essentials; readings unique by start within
  a MeterReading, across its IntervalBlocks too; timePeriod present; readings inside
  their block; a block of duration 0 holding readings; readings of duration 0 and
  readings that overlap without sharing a start are warnings);
- ``FB5-*``, ``FB8-*``, ``FB10-*``: electricity, flow direction, gas;
- ``FB12-*``, ``FB16-*``: cost needs a currency;
- ``FB15-*``: UsageSummary essentials.

An error is what the standard forbids (the schemas, a closed code table, the data rules
of the function blocks, REQ.21 section 5); a warning is a practice real files often
depart from.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from lxml import etree

from gbconnect.espi.atom import ATOM, ESPI
from gbconnect.espi.xmlreader import XmlInputError, check_prolog, hardened_parser

A = f"{{{ATOM}}}"
E = f"{{{ESPI}}}"

CODE_TABLE_OF = {
    "accumulationBehaviour": "AccumulationKind",
    "commodity": "CommodityKind",
    "currency": "Currency",
    "dataQualifier": "DataQualifierKind",
    "flowDirection": "FlowDirectionKind",
    "kind": "MeasurementKind",
    "phase": "PhaseCodeKind",
    "powerOfTenMultiplier": "UnitMultiplierKind",
    "quality": "QualityOfReading",
    "defaultQuality": "QualityOfReading",
    "qualityOfReading": "QualityOfReading",
    "measuringPeriod": "TimeAttributeKind",
    "timeAttribute": "TimePeriodOfInterest",
    "uom": "UnitSymbolKind",
    "itemKind": "ItemKind",
}
GAS_UNITS = {31, 132, 169, 42, 119}
ELECTRIC_ENERGY_UNITS = (72, 71, 73)  # Wh, VAh, VArh


@dataclass(frozen=True)
class Finding:
    rule: str
    line: int | None
    message: str
    warning: bool = False

    def render(self, path: str) -> str:
        where = f"{path}:{self.line}" if self.line else path
        level = "warning" if self.warning else "error"
        return f"{where}: {level} {self.rule}: {self.message}"


class SchemaSet:
    """atom.xsd + espi.xsd + customer.xsd from one folder, xml.xsd resolved offline."""

    def __init__(self, folder: Path) -> None:
        folder = folder.resolve()
        xml_xsd = next(
            (
                p
                for p in (
                    folder / "xml.xsd",
                    folder.parent / "w3c" / "xml.xsd",
                    folder / "w3c" / "xml.xsd",
                )
                if p.is_file()
            ),
            None,
        )
        missing = [n for n in ("atom.xsd", "espi.xsd") if not (folder / n).is_file()]
        if missing or xml_xsd is None:
            names = ", ".join(missing + ([] if xml_xsd else ["xml.xsd (or ../w3c/xml.xsd)"]))
            raise FileNotFoundError(f"{folder} lacks {names}")
        imports = [
            ("http://www.w3.org/XML/1998/namespace", xml_xsd),
            (ATOM, folder / "atom.xsd"),
            (ESPI, folder / "espi.xsd"),
        ]
        if (folder / "customer.xsd").is_file():
            imports.append(("http://naesb.org/espi/customer", folder / "customer.xsd"))
        wrapper = (
            '<xs:schema xmlns:xs="http://www.w3.org/2001/XMLSchema">'
            + "".join(
                f'<xs:import namespace="{ns}" schemaLocation="{p.as_uri()}"/>' for ns, p in imports
            )
            + "</xs:schema>"
        )
        local = str(xml_xsd)

        class Offline(etree.Resolver):
            def resolve(self, url: str, pubid: str, context: Any) -> Any:  # type: ignore[override]
                if url.startswith("http://www.w3.org/2001/xml.xsd"):
                    return self.resolve_filename(local, context)  # type: ignore[attr-defined]
                return None

        parser = etree.XMLParser(no_network=True)
        parser.resolvers.add(Offline())
        self.schema = etree.XMLSchema(etree.fromstring(wrapper.encode(), parser))
        tables = _code_tables(folder)
        self.codes = None if tables is None else {k: v for k, (v, _) in tables.items()}
        self.open_tables = set() if tables is None else {k for k, (_, o) in tables.items() if o}


def _code_tables(folder: Path) -> dict[str, tuple[set[int], bool]] | None:
    """Each table's codes and whether espi.xsd leaves it open (a union with UInt16)."""
    for candidate in (folder, folder.parent, folder.parent.parent):
        path = candidate / "code-tables.json"
        if path.is_file():
            tables = json.loads(path.read_text())
            return {
                name: (
                    {
                        int(c["value"])
                        for c in table.get("codes", [])
                        if str(c["value"]).lstrip("-").isdigit()
                    },
                    bool(table.get("open_union_with_UInt16", False)),
                )
                for name, table in tables.items()
            }
    return None


_NS_IN_MESSAGE = re.compile(r"\{[^}]*\}")


def _plain(message: str) -> str:
    return _NS_IN_MESSAGE.sub("", message).replace("Element '", "element '")


def validate_file(path: Path, schemas: SchemaSet) -> list[Finding]:
    """All findings for one file (a file that is not XML gives one)."""
    return validate_bytes(path.read_bytes(), schemas)


def validate_bytes(data: bytes, schemas: SchemaSet) -> list[Finding]:
    """All findings for one document held in memory (the conformance tester's GETs)."""
    try:
        check_prolog(data[:65536])
        doc = etree.fromstring(data, hardened_parser(huge_tree=True))
    except XmlInputError as exc:
        return [Finding("XML", exc.line, exc.message)]
    except etree.XMLSyntaxError as exc:
        return [Finding("XML", exc.lineno, f"not well-formed XML: {exc.msg}")]
    findings: list[Finding] = []
    if not schemas.schema.validate(doc):
        seen = set()
        for err in schemas.schema.error_log:  # type: ignore[attr-defined]
            key = (err.line, err.message)
            if key not in seen:
                seen.add(key)
                findings.append(Finding("XSD", err.line, _plain(err.message)))
    findings += list(_rules(doc, schemas.codes, schemas.open_tables))
    findings.sort(key=lambda f: (f.line or 0, f.rule))
    return findings


def _int(el: Any, name: str) -> int | None:
    text = el.findtext(E + name)
    try:
        return int(text) if text is not None else None
    except ValueError:
        return None


def _rules(doc: Any, codes: dict[str, set[int]] | None, open_tables: set[str]) -> Iterator[Finding]:
    entries = [doc] if doc.tag == A + "entry" else doc.findall(A + "entry")
    if doc.tag not in (A + "entry", A + "feed"):
        yield Finding("FB1-ROOT", doc.sourceline, "the document is not an Atom feed or entry")
    for entry in entries:
        line = entry.sourceline
        entry_id = (entry.findtext(A + "id") or "").strip()
        if not entry_id.startswith("urn:uuid:"):
            yield Finding("FB1-ID", line, f"entry id {entry_id!r} is not a urn:uuid", True)
        rels = {link.get("rel") for link in entry.findall(A + "link")}
        for rel in ("self", "up"):
            if rel not in rels:
                yield Finding("FB1-LINK", line, f"entry has no {rel} link")
        for name in ("published", "updated"):
            if entry.find(A + name) is None:
                yield Finding("FB1-DATE", line, f"entry has no {name}")
    # Code tables.
    if codes is not None:
        for el in doc.iter(E + "*"):
            local = etree.QName(el).localname
            table = CODE_TABLE_OF.get(local)
            if (
                local == "kind"
                and el.getparent() is not None
                and etree.QName(el.getparent()).localname == "ServiceCategory"
            ):
                table = "ServiceKind"
            if table is None or table not in codes or len(el):
                continue
            text = (el.text or "").strip()
            if text.lstrip("-").isdigit() and int(text) not in codes[table]:
                if table in open_tables:
                    message = f"{local} {text} is not a {table} code (espi.xsd allows it)"
                    yield Finding("CODE", el.sourceline, message, True)
                else:
                    yield Finding("CODE", el.sourceline, f"{local} {text} is not a {table} code")
    yield from _reading_types(doc)
    yield from _blocks(doc)
    for us in doc.iter(E + "UsageSummary", E + "ElectricPowerUsageSummary"):
        if us.find(E + "billingPeriod") is None:
            yield Finding("FB15-PERIOD", us.sourceline, "UsageSummary has no billingPeriod")
        if us.find(E + "overallConsumptionLastPeriod") is None:
            yield Finding(
                "FB15-CONSUMPTION",
                us.sourceline,
                "UsageSummary has no overallConsumptionLastPeriod",
                True,
            )
        if (
            any(
                us.find(E + n) is not None
                for n in ("billLastPeriod", "billToDate", "costAdditionalLastPeriod")
            )
            and us.find(E + "currency") is None
        ):
            yield Finding("FB16-CURRENCY", us.sourceline, "UsageSummary has a bill but no currency")


def _reading_types(doc: Any) -> Iterator[Finding]:
    for rt in doc.iter(E + "ReadingType"):
        line = rt.sourceline
        for name in ("intervalLength", "kind", "uom", "powerOfTenMultiplier"):
            if rt.find(E + name) is None:
                warn = name == "intervalLength" and _int(rt, "accumulationBehaviour") in (1, 9)
                yield Finding("FB4-READINGTYPE", line, f"ReadingType has no {name}", warn)
        commodity, kind, uom = _int(rt, "commodity"), _int(rt, "kind"), _int(rt, "uom")
        flow = _int(rt, "flowDirection")
        if commodity == 1 and kind == 12 and uom not in (None, *ELECTRIC_ENERGY_UNITS):
            # FB_5 interval data is in Wh; VAh and VArh are apparent and reactive energy.
            yield Finding(
                "FB5-UOM",
                line,
                f"electric energy (kind 12) in uom {uom}, expected 72 (Wh), 71 (VAh) or 73 (VArh)",
                True,
            )
        if commodity == 1 and rt.find(E + "phase") is None:
            yield Finding("FB5-PHASE", line, "electricity ReadingType has no phase", True)
        if flow is not None and flow not in (0, 1, 4, 19):
            yield Finding(
                "FB8-FLOW",
                line,
                f"flowDirection {flow} is not forward (1), net (4) or reverse (19)",
                True,
            )
        if commodity == 7:
            if kind not in (None, 12, 58):
                yield Finding("FB10-KIND", line, f"gas ReadingType kind {kind}, expected 12 or 58")
            if uom is not None and uom not in GAS_UNITS:
                yield Finding(
                    "FB10-UOM", line, f"gas in uom {uom}, expected one of {sorted(GAS_UNITS)}"
                )


def _blocks(doc: Any) -> Iterator[Finding]:
    """FB_4 (REQ.21 section 5): the IntervalBlocks of a MeterReading and their readings
    are unique by start, and a reading lies inside its block."""
    costs_seen: list[int] = []
    currencies = [rt.find(E + "currency") is not None for rt in doc.iter(E + "ReadingType")]
    block_starts: dict[str, int] = {}
    # Per MeterReading (the entries' up link): first line of each reading start, and
    # (start, end, line) of the readings with an extent, for the overlap check.
    starts_of: dict[str, dict[int, int]] = {}
    spans_of: dict[str, list[tuple[int, int, int]]] = {}
    for block in doc.iter(E + "IntervalBlock"):
        interval = block.find(E + "interval")
        b_start = _int(interval, "start") if interval is not None else None
        b_dur = _int(interval, "duration") if interval is not None else None
        entry = block.getparent().getparent() if block.getparent() is not None else None
        up = ""
        if entry is not None:
            link = entry.find(A + "link[@rel='up']")
            up = link.get("href", "") if link is not None else ""
        if b_start is not None:
            key = f"{up}|{b_start}"
            if key in block_starts:
                yield Finding(
                    "FB4-UNIQUE",
                    block.sourceline,
                    f"two IntervalBlocks of one MeterReading start at {b_start} "
                    f"(the first on line {block_starts[key]})",
                )
            block_starts[key] = block.sourceline
        empty_block = b_dur == 0 and block.find(E + "IntervalReading") is not None
        if empty_block:
            yield Finding(
                "FB4-INTERVAL",
                block.sourceline,
                "IntervalBlock of duration 0 holds readings (its interval must cover them)",
            )
        seen = starts_of.setdefault(up, {})
        spans = spans_of.setdefault(up, [])
        for reading in block.iter(E + "IntervalReading"):
            period = reading.find(E + "timePeriod")
            if reading.find(E + "cost") is not None:
                costs_seen.append(reading.sourceline)
            if period is None:
                yield Finding(
                    "FB4-TIMEPERIOD",
                    reading.sourceline,
                    "IntervalReading has no timePeriod (many parsers need it)",
                    True,
                )
                continue
            start = _int(period, "start")
            if start is None:
                continue
            duration = _int(period, "duration")
            if start in seen:
                yield Finding(
                    "FB4-UNIQUE",
                    reading.sourceline,
                    f"two IntervalReadings start at {start} (the first on line {seen[start]})",
                )
            else:
                seen[start] = reading.sourceline
            if duration == 0:
                yield Finding(
                    "FB4-DURATION",
                    reading.sourceline,
                    f"IntervalReading at {start} has duration 0",
                    True,
                )
            elif duration is not None:
                spans.append((start, start + duration, reading.sourceline))
            if (
                not empty_block
                and b_start is not None
                and b_dur is not None
                and not b_start <= start < b_start + b_dur
            ):
                yield Finding(
                    "FB4-INTERVAL",
                    reading.sourceline,
                    f"reading at {start} is outside its block [{b_start}, {b_start + b_dur})",
                )
    for spans in spans_of.values():
        yield from _overlaps(spans)
    if costs_seen and currencies and not any(currencies):
        yield Finding(
            "FB12-CURRENCY", costs_seen[0], "readings carry cost but no ReadingType has a currency"
        )


def _overlaps(spans: list[tuple[int, int, int]]) -> Iterator[Finding]:
    """Readings of one MeterReading whose intervals overlap without sharing a start (a
    shared start is FB4-UNIQUE): FB_4 asks readings unique by start only, so a warning;
    the overlapping usage is counted twice by whoever sums it."""
    spans.sort()
    reach, reach_line, reach_start = None, 0, None
    for start, end, line in spans:
        if reach is not None and start < reach and start != reach_start:
            yield Finding(
                "FB4-OVERLAP",
                line,
                f"IntervalReading [{start}, {end}) overlaps the one on line {reach_line} "
                f"(ending at {reach})",
                True,
            )
        if reach is None or end > reach:
            reach, reach_line, reach_start = end, line, start
