"""The hardened Green Button reader: Atom entries streamed out of any size of file.

DESIGN.md: XML in is parsed by namespace with a hardened lxml parser: no DTD, no
entities, no network, libxml2's size limits kept (``huge_tree`` off), and streaming
(``iterparse``) so that memory does not grow with the file. A document type
declaration is refused outright, which stops billion-laughs and XXE documents before
any entity is defined.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import IO, Any

from lxml import etree

from gbconnect.client.parser.errors import FeedError
from gbconnect.client.parser.source import check_prolog as client_check_prolog
from gbconnect.errors import InputError
from gbconnect.espi.namespaces import ATOM, PAYLOAD_NAMESPACES

ENTRY = f"{{{ATOM}}}entry"
FEED = f"{{{ATOM}}}feed"
_A_ID = f"{{{ATOM}}}id"
_A_TITLE = f"{{{ATOM}}}title"
_A_LINK = f"{{{ATOM}}}link"
_A_CONTENT = f"{{{ATOM}}}content"
_A_PUBLISHED = f"{{{ATOM}}}published"
_A_UPDATED = f"{{{ATOM}}}updated"


class XmlInputError(InputError):
    """The document is not acceptable; ``line`` is where the problem was seen."""

    def __init__(self, message: str, line: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.line = line


def hardened_parser(huge_tree: bool = False) -> etree.XMLParser:
    """A parser for a whole document: no entities, no network, no DTD; libxml2's size
    limits kept unless ``huge_tree`` (``gbconnect validate`` on a large file)."""
    return etree.XMLParser(
        resolve_entities=False, no_network=True, load_dtd=False, huge_tree=huge_tree
    )


def check_prolog(head: bytes) -> None:
    """Refuse a DOCTYPE before lxml reads it, and what is plainly not XML (the SDK's
    check, :func:`gbconnect.client.parser.source.check_prolog`, as an
    :class:`XmlInputError`). An empty document is left to the reader, which names it."""
    if not head.strip():
        return
    try:
        client_check_prolog(head)
    except FeedError as exc:
        raise XmlInputError(exc.message, exc.line or 1) from None


@dataclass(slots=True)
class Entry:
    """One Atom entry: its metadata and its ESPI payload element."""

    line: int
    id: str | None
    title: str | None
    published: str | None
    updated: str | None
    links: list[tuple[str, str]] = field(default_factory=list)
    #: The ESPI/customer elements of <content> (usually one; some files pack several
    #: IntervalBlocks into one entry).
    payloads: list[Any] = field(default_factory=list)
    #: Set by a consumer that holds on to the payload after the next entry is read.
    keep: bool = False

    @property
    def payload(self) -> Any:
        return self.payloads[0] if self.payloads else None

    def link(self, rel: str) -> str | None:
        for r, href in self.links:
            if r == rel:
                return href
        return None

    def related(self) -> list[str]:
        return [href for r, href in self.links if r == "related"]


def _text(el: Any) -> str | None:
    if el is None or el.text is None:
        return None
    return str(el.text).strip()


def _entry(el: Any) -> Entry:
    entry = Entry(line=el.sourceline or 0, id=None, title=None, published=None, updated=None)
    for child in el:
        tag = child.tag
        if tag == _A_LINK:
            href = child.get("href")
            if href:
                entry.links.append((child.get("rel") or "alternate", href.strip()))
        elif tag == _A_CONTENT:
            for payload in child:
                if not isinstance(payload.tag, str):
                    continue
                if etree.QName(payload).namespace in PAYLOAD_NAMESPACES:
                    entry.payloads.append(payload)
                else:
                    raise XmlInputError(
                        f"<content> holds <{etree.QName(payload).localname}> in namespace "
                        f"{etree.QName(payload).namespace or '(none)'}, not an ESPI element",
                        payload.sourceline,
                    )
        elif tag == _A_ID:
            entry.id = _text(child)
        elif tag == _A_TITLE:
            entry.title = _text(child)
        elif tag == _A_PUBLISHED:
            entry.published = _text(child)
        elif tag == _A_UPDATED:
            entry.updated = _text(child)
    return entry


def iter_entries(source: IO[bytes]) -> Iterator[Entry]:
    """Yield the entries of a feed (or the single entry of an entry document), streaming.

    Raises :class:`XmlInputError` for anything that is not a well-formed Atom
    feed or entry, with the line where the parser stopped.
    """
    head = source.read(65536)
    check_prolog(head)
    source.seek(0)
    context = etree.iterparse(
        source,
        events=("end",),
        tag=ENTRY,
        resolve_entities=False,
        no_network=True,
        load_dtd=False,
        huge_tree=False,
        remove_comments=True,
        remove_pis=True,
    )
    seen = 0
    try:
        for _event, el in context:
            if seen == 0:
                root = el.getroottree().getroot()
                if el.getroottree().docinfo.doctype:
                    raise XmlInputError("document type declarations are not accepted", 1)
                if root.tag not in (FEED, ENTRY):
                    _wrong_root(root)
            parent = el.getparent()
            if parent is not None and parent.getparent() is not None:
                continue  # an entry nested deeper than feed/entry is not a feed entry
            seen += 1
            entry = _entry(el)
            yield entry
            if not entry.keep:
                el.clear(keep_tail=False)
            if parent is not None:
                while el.getprevious() is not None:
                    del parent[0]
                if not entry.keep:
                    del parent[0]
    except etree.XMLSyntaxError as exc:
        raise XmlInputError(f"malformed XML: {exc.msg}", exc.lineno) from None
    if seen == 0:
        root = getattr(context, "root", None)
        if root is None:
            raise XmlInputError("the file is empty", 1)
        if root.tag not in (FEED, ENTRY):
            _wrong_root(root)


def _wrong_root(root: Any) -> None:
    name = etree.QName(root)
    raise XmlInputError(
        f"the document is <{name.localname}> in namespace {name.namespace or '(none)'}, "
        "not an Atom <feed> or <entry>",
        root.sourceline,
    )


def element_to_data(el: Any) -> Any:
    """A generic, order-keeping conversion of an ESPI element to JSON-able data.

    A leaf becomes its text; an element with children becomes a dict of child
    local names, a repeated child a list. Used for the nested CIM structures that
    are stored whole (addresses, SummaryMeasurement, LineItem, ...).
    """
    children = [c for c in el if isinstance(c.tag, str)]
    if not children:
        text = el.text
        return text.strip() if text is not None else ""
    out: dict[str, Any] = {}
    for child in children:
        name = etree.QName(child).localname
        value = element_to_data(child)
        if name in out:
            existing = out[name]
            if isinstance(existing, list) and getattr(existing, "_repeated", False):
                existing.append(value)
            else:
                rep = _Repeated([existing, value])
                out[name] = rep
        else:
            out[name] = value
    return {k: list(v) if isinstance(v, _Repeated) else v for k, v in out.items()}


class _Repeated(list[Any]):
    _repeated = True


MAX_SMALL_DOCUMENT = 1024 * 1024


def parse_small(data: bytes) -> Any | None:
    """A small request body (an entry or a bare ESPI element) parsed with the same
    hardening as files: no DTD, no entities, no network, at most 1 MiB. None when it
    is not acceptable XML."""
    if not data or len(data) > MAX_SMALL_DOCUMENT:
        return None
    try:
        check_prolog(data[:65536])
        return etree.fromstring(data, hardened_parser())
    except (XmlInputError, etree.XMLSyntaxError):
        return None
