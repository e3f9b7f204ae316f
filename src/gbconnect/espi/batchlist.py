"""The ESPI ``BatchList``: the body of a notification (REQ.21 FB_39, GBA test PSH004).

The Data Custodian POSTs a ``<BatchList xmlns="http://naesb.org/espi">`` to the third
party's ``thirdPartyNotifyUri``; each ``<resources>`` child (espi.xsd ``BatchListType``:
a sequence of ``xs:anyURI``) is a URI the third party then GETs with its token.
espi.xsd allows an empty list, but a notification without a URI tells the third party
nothing (STANDARD.md section 3: "one or more URIs"), so both functions here require at
least one, and every URI absolute ``http`` or ``https`` (RFC 3986 section 4.3).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from urllib.parse import urlsplit

from lxml import etree

from gbconnect.errors import InputError
from gbconnect.espi.atom import escape
from gbconnect.espi.namespaces import ESPI
from gbconnect.espi.xmlreader import (
    MAX_SMALL_DOCUMENT,
    XmlInputError,
    check_prolog,
    hardened_parser,
)

BATCH_LIST = f"{{{ESPI}}}BatchList"
RESOURCES = f"{{{ESPI}}}resources"

# Whitespace, C0/C1 controls and the XML 1.0 non-characters: never in a URI or IRI
# (RFC 3986 section 2, RFC 3987 section 2.2).
_NOT_IN_URI = re.compile("[\x00-\x20\x7f-\x9f\ufffe\uffff]")


class BatchListError(InputError):
    """A BatchList to write or read is not acceptable (REQ.21 FB_39)."""


def _checked(uri: str) -> str:
    if _NOT_IN_URI.search(uri):
        raise BatchListError(f"{uri[:80]!r} holds whitespace or a control character")
    try:
        parts = urlsplit(uri)
    except ValueError as exc:
        raise BatchListError(f"{uri[:80]!r} is not a URI: {exc}") from None
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
        raise BatchListError(f"{uri[:80]!r} is not an absolute http(s) URI")
    return uri


def batch_list(uris: Sequence[str]) -> bytes:
    """The UTF-8 ``<BatchList>`` document naming ``uris`` in order (espi.xsd
    ``BatchListType``); :class:`BatchListError` when there is none or one is not an
    absolute http(s) URI."""
    if isinstance(uris, str):
        raise BatchListError("a BatchList takes a sequence of URIs, not one string")
    if not uris:
        raise BatchListError("a BatchList names at least one resource URI")
    items = "".join(f"<resources>{escape(_checked(uri))}</resources>" for uri in uris)
    return (
        f'<?xml version="1.0" encoding="UTF-8"?>\n<BatchList xmlns="{ESPI}">{items}</BatchList>\n'
    ).encode()


def read_batch_list(body: bytes) -> list[str]:
    """The resource URIs of a ``<BatchList>`` body, in order, read with the hardened
    parser (no DTD, no entities, no network, at most 1 MiB); :class:`BatchListError`
    when the body is malformed, is not an ESPI BatchList, holds another element, or
    names no URI or one that is not absolute http(s)."""
    if len(body) > MAX_SMALL_DOCUMENT:
        raise BatchListError(f"a BatchList body is at most {MAX_SMALL_DOCUMENT} bytes")
    try:
        check_prolog(body[:65536])
        root = etree.fromstring(body, hardened_parser())
    except XmlInputError as exc:
        raise BatchListError(exc.message) from None
    except etree.XMLSyntaxError as exc:
        raise BatchListError(f"malformed XML: {exc.msg}") from None
    if root.tag != BATCH_LIST:
        name = etree.QName(root)
        raise BatchListError(
            f"the document is <{name.localname}> in namespace "
            f"{name.namespace or '(none)'}, not an ESPI <BatchList>"
        )
    uris: list[str] = []
    for child in root:
        if not isinstance(child.tag, str):
            continue  # a comment or processing instruction
        if child.tag != RESOURCES:
            raise BatchListError(
                f"<BatchList> holds <{etree.QName(child).localname}>; only <resources>"
            )
        if len(child):
            raise BatchListError("<resources> holds an element, not a URI")
        uris.append(_checked((child.text or "").strip()))
    if not uris:
        raise BatchListError("the BatchList names no resource URI")
    return uris
