"""The ESPI ``BatchList``: the body of a notification (REQ.21 FB_39, GBA test PSH004).

The Data Custodian POSTs a ``<BatchList xmlns="http://naesb.org/espi">`` to the third
party's ``thirdPartyNotifyUri``; each ``<resources>`` child (espi.xsd ``BatchListType``:
a sequence of ``xs:anyURI``) is a URI the third party then GETs with its token.
espi.xsd allows an empty list, but a notification without a URI tells the third party
nothing (STANDARD.md section 3: "one or more URIs"), so both functions here require at
least one, and every URI absolute ``http`` or ``https`` (RFC 3986 section 4.3).
"""

from __future__ import annotations

from collections.abc import Sequence

from gbconnect.client.batchlist import BATCH_LIST, RESOURCES, checked_uri, parse_batch_list
from gbconnect.client.parser.errors import FeedError
from gbconnect.errors import InputError
from gbconnect.espi.atom import escape
from gbconnect.espi.namespaces import ESPI

__all__ = ["BATCH_LIST", "RESOURCES", "BatchListError", "batch_list", "read_batch_list"]


class BatchListError(InputError):
    """A BatchList to write or read is not acceptable (REQ.21 FB_39)."""


def _checked(uri: str) -> str:
    try:
        return checked_uri(uri)
    except FeedError as exc:
        raise BatchListError(exc.message) from None


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
    names no URI or one that is not absolute http(s). The SDK's
    :func:`gbconnect.client.parse_batch_list` does the reading: it exists once."""
    try:
        return parse_batch_list(body)
    except FeedError as exc:
        raise BatchListError(exc.message) from None
