"""Atom 1.0 entries and feeds around ESPI content, written as text (DESIGN.md: a
template writer, not an object tree).

REQ.21 FB_1 and the GBA's atom.xsd: every entry has ``id`` (``urn:uuid:`` UUID5 of
its self href), ``title``, ``published``, ``updated``, and ``link`` elements in a run
of at least two (self and up, then related). Every text goes through :func:`escape`,
which also refuses the characters XML 1.0 forbids, so no input can break the document.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator

from gbconnect.errors import InternalError
from gbconnect.espi.ids import entry_uuid
from gbconnect.espi.times import iso

ATOM = "http://www.w3.org/2005/Atom"
ESPI = "http://naesb.org/espi"
CUSTOMER = "http://naesb.org/espi/customer"
MEDIA_TYPE = "application/atom+xml"

_FORBIDDEN = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
_PLAIN = re.compile('[^\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff&<>"]*')
_ESCAPES = str.maketrans({"&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;"})


class UnwritableText(InternalError, ValueError):
    """A text holds a character XML 1.0 cannot carry.

    Every text written comes from the store or from gbconnect itself, and the
    readers accept no such character (XML input cannot carry one; form fields and
    CSV labels are checked where they come in), so meeting one here means stored
    data broke that rule: an internal error, not the caller's.
    """


def writable(text: str) -> bool:
    """Whether ``text`` holds only characters XML 1.0 can carry (what :func:`escape`
    accepts); importers check the texts they store with it."""
    return _FORBIDDEN.search(text) is None


def escape(text: object) -> str:
    """``text`` as XML character data or attribute value."""
    s = str(text)
    if _PLAIN.fullmatch(s):  # the common case (ids, hrefs, numbers): one scan
        return s
    if _FORBIDDEN.search(s):
        raise UnwritableText(f"{s[:40]!r} holds a character XML 1.0 forbids")
    return s.translate(_ESCAPES)


def element(name: str, value: object | None) -> str:
    """``<name>value</name>``, or nothing when ``value`` is None."""
    if value is None:
        return ""
    return f"<{name}>{escape(value)}</{name}>"


def entry(
    *,
    self_href: str,
    up_href: str,
    title: str | None,
    published: int,
    updated: int,
    content: str,
    related: Iterable[str] = (),
    root: bool = False,
) -> str:
    """One Atom entry; ``root`` adds the XML declaration and Atom namespace."""
    links = [
        f'<link rel="self" href="{escape(self_href)}"/>',
        f'<link rel="up" href="{escape(up_href)}"/>',
    ]
    links += [f'<link rel="related" href="{escape(h)}"/>' for h in related]
    head = f'<?xml version="1.0" encoding="UTF-8"?>\n<entry xmlns="{ATOM}">' if root else "<entry>"
    return (
        f"{head}<id>{entry_uuid(self_href)}</id>{''.join(links)}"
        f"<title>{escape(title or '')}</title>"
        f"<published>{iso(published)}</published><updated>{iso(updated)}</updated>"
        f"<content>{content}</content></entry>"
    )


def feed(*, self_href: str, title: str, updated: int, entries: Iterable[str]) -> Iterator[str]:
    """A feed, yielded piece by piece (bounded memory for any number of entries)."""
    yield (
        f'<?xml version="1.0" encoding="UTF-8"?>\n<feed xmlns="{ATOM}">'
        f"<id>{entry_uuid(self_href)}</id><title>{escape(title)}</title>"
        f"<updated>{iso(updated)}</updated>"
        f'<link rel="self" href="{escape(self_href)}"/>'
    )
    yield from entries
    yield "</feed>"
