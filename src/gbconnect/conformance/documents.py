"""Every document the tester receives is checked: the ESPI schemas and the data rules
of the function blocks (gbconnect's own validator, :mod:`gbconnect.espi.validate`),
and the Atom link rules of STANDARD.md section 1 (every entry has ``self`` and
``up``; a UsagePoint names its MeterReadings, a MeterReading its ReadingType and
IntervalBlocks by ``related`` links; OpenESPI-Common-java #325). Then every link is
followed with the same token (a bounded crawl, each href once) and must answer 200
(or 202 under the 2024 rules), with the same checks."""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from lxml import etree

from gbconnect.conformance.outcome import CaseFailed
from gbconnect.espi.atom import ATOM, ESPI
from gbconnect.espi.validate import SchemaSet, validate_bytes
from gbconnect.espi.xmlreader import hardened_parser

if TYPE_CHECKING:
    from gbconnect.conformance.context import Context, Kind

A = f"{{{ATOM}}}"
E = f"{{{ESPI}}}"


def default_schema_dir() -> Path | None:
    """GBCONNECT_SCHEMA_DIR, else ``../shared/espi/xsd/4.0`` beside the repository."""
    env = os.environ.get("GBCONNECT_SCHEMA_DIR")
    if env:
        return Path(env)
    repo = Path(__file__).resolve().parents[3]
    for candidate in (repo / "../shared/espi/xsd/4.0", repo / "../shared/espi/xsd"):
        if (candidate / "espi.xsd").is_file():
            return candidate.resolve()
    return None


@dataclass
class Validator:
    """The schema set (or None: then only well-formedness and the link rules)."""

    schemas: SchemaSet | None
    folder: Path | None = None

    @classmethod
    def find(cls, folder: Path | None) -> Validator:
        folder = folder or default_schema_dir()
        if folder is None:
            return cls(None)
        return cls(SchemaSet(folder), folder)

    def problems(self, data: bytes) -> list[str]:
        """Errors (not warnings) of one document, each with its line: the schemas,
        the function-block data rules and the link rules."""
        out: list[str] = []
        if self.schemas is not None:
            findings = validate_bytes(data, self.schemas)
            # A bare ESPI element (ServiceStatus) is not Atom: only its schema applies.
            out += [
                f"line {f.line}: {f.rule}: {f.message}"
                for f in findings
                if not f.warning and not (f.rule == "FB1-ROOT" and _bare(data))
            ]
            if any(f.rule == "XML" for f in findings):
                return out
        try:
            root = etree.fromstring(data, hardened_parser())
        except etree.XMLSyntaxError as exc:
            return [*out, f"line {exc.lineno}: not well-formed XML: {exc.msg}"]
        out += list(link_problems(root))
        return out


def _bare(data: bytes) -> bool:
    """Whether the root is an ESPI element rather than an Atom feed or entry."""
    try:
        root = etree.fromstring(data, hardened_parser())
    except etree.XMLSyntaxError:
        return False
    return etree.QName(root).namespace == ESPI


def _entries(root: etree._Element) -> list[etree._Element]:
    if root.tag == A + "entry":
        return [root]
    return list(root.iter(A + "entry"))


def _rels(entry: etree._Element, rel: str) -> list[str]:
    return [
        str(link.get("href") or "")
        for link in entry.findall(A + "link")
        if (link.get("rel") or "alternate") == rel
    ]


def _kind(entry: etree._Element) -> str | None:
    content = entry.find(A + "content")
    if content is None or not len(content):
        return None
    return etree.QName(content[0]).localname


#: Which related links an entry of each kind must have (STANDARD.md section 1).
REQUIRED_RELATED = {
    "UsagePoint": ("MeterReading",),
    "MeterReading": ("ReadingType", "IntervalBlock"),
}


def link_problems(root: etree._Element) -> Iterator[str]:
    """The link rules of STANDARD.md section 1, for each entry."""
    for entry in _entries(root):
        kind = _kind(entry) or "entry"
        line = entry.sourceline
        if not _rels(entry, "self"):
            yield f"line {line}: LINK: a {kind} entry has no self link"
        if not _rels(entry, "up"):
            yield f"line {line}: LINK: a {kind} entry has no up link"
        related = _rels(entry, "related")
        for needed in REQUIRED_RELATED.get(kind, ()):
            if not any(f"/{needed}" in href for href in related):
                yield f"line {line}: LINK: a {kind} entry has no related link to its {needed}"


def links(data: bytes) -> list[str]:
    """Every self, up and related href of a document, in order, each once."""
    try:
        root = etree.fromstring(data, hardened_parser())
    except etree.XMLSyntaxError:
        return []
    seen: dict[str, None] = {}
    for link in root.iter(A + "link"):
        if link.get("rel") in ("self", "up", "related") and link.get("href"):
            seen.setdefault(str(link.get("href")), None)
    return list(seen)


@dataclass
class Crawl:
    """What a crawl saw: documents by URL and the problems found, each with its URL."""

    documents: dict[str, bytes] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)
    skipped: int = 0


def check(ctx: Context, url: str, data: bytes) -> list[str]:
    return [f"{url}: {p}" for p in ctx.validator.problems(data)]


def crawl(ctx: Context, start: str, kind: Kind, limit: int | None = None) -> Crawl:
    """GET ``start`` and every link found, breadth first, each href once, at most
    ``limit`` GETs (``--crawl-limit``, 200 by default). Links outside the Data
    Custodian's host are not followed."""
    limit = limit or ctx.options.crawl_limit
    done = Crawl()
    queue = [start]
    seen = {start}
    host = start.split("/")[2]
    while queue:
        url = queue.pop(0)
        if len(done.documents) >= limit:
            done.skipped = len(queue) + 1
            break
        try:
            data = ctx.get_document(url, kind)
        except CaseFailed as exc:
            done.problems.append(exc.message)
            continue
        done.documents[url] = data
        ctx.crawled[url] = data
        done.problems += check(ctx, url, data)
        for href in links(data):
            if href not in seen and href.split("/")[2:3] == [host]:
                seen.add(href)
                queue.append(href)
    return done


__all__ = ["Crawl", "Validator", "check", "crawl", "default_schema_dir", "link_problems", "links"]
