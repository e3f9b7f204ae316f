"""The hardened lxml parsers of the SDK (DESIGN.md: XML in is parsed by namespace with
a hardened parser): no entity resolution, no network, no DTD loading; a document type
declaration is refused outright, which stops billion-laughs and XXE documents. Huge
trees are allowed (a third party's bulk feed can be gigabytes).
"""

from __future__ import annotations

from typing import Any

from lxml import etree

from gbconnect.client.parser.errors import FeedError

_DTD_MESSAGE = (
    "document type declarations (DTDs) are not accepted: "
    "Green Button files never need one and they enable entity attacks"
)


def whole_parser() -> etree.XMLParser:
    """A parser for a whole (small) document."""
    return etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, huge_tree=True)


def refuse_doctype(tree: etree._ElementTree) -> None:
    """Raise :class:`FeedError` if the document declared a DTD."""
    info: Any = tree.docinfo  # lxml-stubs lack DocInfo.doctype
    if info.doctype or info.internalDTD is not None:
        raise FeedError(_DTD_MESSAGE, 1)


def parse_document(body: bytes) -> etree._Element:
    """The root element of ``body`` (a small document: a ServiceStatus, an Atom entry
    or feed of registrations or authorizations, a BatchList). Raises
    :class:`FeedError` with the line for anything that is not well-formed XML."""
    head = body.lstrip()[:1]
    if not head:
        raise FeedError("empty document", 1)
    if head != b"<" and not body.startswith(b"\xef\xbb\xbf<"):
        raise FeedError("not an XML document (it does not start with '<')", 1)
    try:
        root = etree.fromstring(body, whole_parser())
    except etree.XMLSyntaxError as exc:
        line = exc.lineno if exc.lineno else None
        raise FeedError(f"not well-formed XML: {exc.msg}", line) from None
    refuse_doctype(root.getroottree())
    return root
