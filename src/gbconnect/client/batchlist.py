"""The ESPI ``BatchList``: the body of a notification (REQ.21 FB_39, GBA PSH001-004).

The Data Custodian POSTs ``<BatchList xmlns="http://naesb.org/espi">`` to the third
party's ``thirdPartyNotifyUri``; each ``<resources>`` child (espi.xsd
``BatchListType``: a sequence of ``xs:anyURI``) is a URI the third party then GETs
with its token. A notification without a URI tells nothing (STANDARD.md section 3:
"one or more URIs"), so at least one is required, each absolute ``http``/``https``
(RFC 3986 section 4.3). The server reads BatchLists with this function too.
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit

from lxml import etree

from gbconnect.client.parser.errors import FeedError
from gbconnect.client.parser.hardened import parse_document
from gbconnect.client.parser.namespaces import ESPI, local, namespace

BATCH_LIST = f"{{{ESPI}}}BatchList"
RESOURCES = f"{{{ESPI}}}resources"
#: The largest BatchList body read (1 MiB: thousands of URIs).
MAX_BODY = 1024 * 1024

# Whitespace, C0/C1 controls and the XML 1.0 non-characters: never in a URI or IRI
# (RFC 3986 section 2, RFC 3987 section 2.2).
_NOT_IN_URI = re.compile("[\x00-\x20\x7f-\x9f\ufffe\uffff]")


def checked_uri(uri: str) -> str:
    """``uri`` if it is an absolute http(s) URI; :class:`FeedError` otherwise."""
    if _NOT_IN_URI.search(uri):
        raise FeedError(f"{uri[:80]!r} holds whitespace or a control character")
    try:
        parts = urlsplit(uri)
        host = parts.hostname
    except ValueError as exc:
        raise FeedError(f"{uri[:80]!r} is not a URI: {exc}") from None
    if parts.scheme.lower() not in ("http", "https") or not host:
        raise FeedError(f"{uri[:80]!r} is not an absolute http(s) URI")
    return uri


def parse_batch_list(body: bytes) -> list[str]:
    """The resource URIs of a ``<BatchList>`` body, in order, read with the hardened
    parser; :class:`FeedError` when the body is larger than 1 MiB, malformed, not an
    ESPI BatchList, holds another element, or names no URI or one that is not
    absolute http(s)."""
    if len(body) > MAX_BODY:
        raise FeedError(f"a BatchList body is at most {MAX_BODY} bytes")
    root = parse_document(body)
    if root.tag != BATCH_LIST:
        raise FeedError(
            f"the document is <{local(root.tag)}> in namespace "
            f"{namespace(root.tag) or '(none)'}, not an ESPI <BatchList>",
            1,
        )
    uris: list[str] = []
    for child in root:
        if not isinstance(child.tag, str):
            continue  # a comment or processing instruction
        if child.tag != RESOURCES:
            raise FeedError(
                f"<BatchList> holds <{local(child.tag)}>; only <resources>", _line(child)
            )
        if len(child):
            raise FeedError("<resources> holds an element, not a URI", _line(child))
        uris.append(checked_uri((child.text or "").strip()))
    if not uris:
        raise FeedError("the BatchList names no resource URI")
    return uris


def _line(el: etree._Element) -> int | None:
    line = el.sourceline
    return line if isinstance(line, int) else None
