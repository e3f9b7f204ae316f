"""ESPI resources of the management kind (ApplicationInformation, Authorization,
ServiceStatus; REQ.21 section 1) read into plain dicts: each Atom entry's content
element flattened, leaf element -> text, nested element -> dict, a repeated element
-> list (``redirect_uri``, ``scope``, ``contacts``, ``grant_types``...). The entry's
``self`` link is kept as ``href`` and its Atom id as ``atom_id``.
"""

from __future__ import annotations

from typing import Any

from lxml import etree

from gbconnect.client.parser.errors import FeedError
from gbconnect.client.parser.namespaces import ATOM, atom, local

_ENTRY = atom("entry")
_FEED = atom("feed")
_CONTENT = atom("content")
_LINK = atom("link")
_ID = atom("id")


def element_fields(el: etree._Element) -> dict[str, Any]:
    """``el``'s children as a dict (see the module docstring)."""
    out: dict[str, Any] = {}
    for child in el:
        if not isinstance(child.tag, str):
            continue  # comments, processing instructions
        name = local(child.tag)
        value: Any = element_fields(child) if len(child) else (child.text or "").strip()
        if name in out:
            if not isinstance(out[name], list):
                out[name] = [out[name]]
            out[name].append(value)
        else:
            out[name] = value
    return out


def entry_dict(entry: etree._Element, kind: str) -> dict[str, Any]:
    """The ``kind`` element of an Atom entry as a dict, with ``href`` and ``atom_id``."""
    content = entry.find(_CONTENT)
    payload = None
    if content is not None:
        for child in content:
            if isinstance(child.tag, str) and local(child.tag) == kind:
                payload = child
                break
    if payload is None:
        raise FeedError(f"the entry holds no {kind}", _line(entry))
    fields = element_fields(payload)
    for link in entry.iterfind(_LINK):
        if link.get("rel") == "self":
            fields["href"] = link.get("href")
            break
    atom_id = entry.findtext(_ID)
    if atom_id:
        fields["atom_id"] = atom_id.strip()
    return fields


def entries(root: etree._Element, kind: str) -> list[dict[str, Any]]:
    """Every ``kind`` entry of a feed (or the one of an entry) as dicts."""
    if root.tag == _ENTRY:
        return [entry_dict(root, kind)]
    if root.tag == _FEED:
        return [entry_dict(e, kind) for e in root.iterfind(_ENTRY)]
    if local(root.tag) == kind and root.tag != f"{{{ATOM}}}{kind}":
        return [element_fields(root)]
    raise FeedError(f"expected an Atom feed or entry of {kind}, got <{local(root.tag)}>", 1)


def _line(el: etree._Element) -> int | None:
    line = el.sourceline
    return line if isinstance(line, int) else None
