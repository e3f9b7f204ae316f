"""What every ESPI resource of an import shares: its Atom entry's links and times,
the parent it hangs under, and the one upsert that stores it.

REQ.21 section 1 ties resources together by their Atom links: ``self`` names the
resource, ``up`` the collection it belongs to (".../UsagePoint/1/MeterReading"), and
``related`` the resources it refers to. Real files bend these rules (the parent
itself in ``up``, only a ``self`` link, another host or path prefix), so a parent is
looked for among several candidates, and an entry whose parent comes later in the
file waits for it (:class:`Parents`).
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial
from typing import Any
from urllib.parse import urlsplit

from lxml import etree
from sqlalchemy import select
from sqlalchemy.orm import Session

from gbconnect.customer import models as cm
from gbconnect.espi.times import parse_atom_time, parse_duration
from gbconnect.espi.xmlreader import Entry
from gbconnect.ingest.errors import IngestError
from gbconnect.ingest.espi.own import own_resource
from gbconnect.ingest.summary import FileSummary

#: How many trailing path segments name a parent of each kind (REQ.21 section 2 URIs:
#: ``.../UsagePoint/{id}`` and ``.../UsagePoint/{id}/MeterReading/{id}``).
PARENT_PATH_PARTS = {"UsagePoint": 2, "MeterReading": 4}


def href_key(href: str) -> str:
    """A link's identity: its path, without host, duplicate or trailing slashes."""
    parts = urlsplit(href.strip())
    return re.sub(r"/+", "/", parts.path).strip("/")


def parent_candidates(entry: Entry) -> list[str]:
    """Where an entry's parent may be, best guess first.

    REQ.21 puts the parent collection in ``up`` (".../UsagePoint/1/MeterReading"),
    but real files also put the parent itself there, or only a ``self`` link.
    """
    out: list[str] = []
    up = entry.link("up")
    if up:
        key = href_key(up)
        if "/" in key:
            out.append(key.rsplit("/", 1)[0])
        out.append(key)
    self_href = entry.link("self")
    if self_href:
        parts = href_key(self_href).split("/")
        for cut in (2, 1):
            if len(parts) > cut:
                out.append("/".join(parts[:-cut]))
    return list(dict.fromkeys(k for k in out if k))


def parent_href(entry: Entry) -> str | None:
    """The href of an entry's parent as the file writes it: its ``up`` collection's
    owner, else its ``self`` link without its last two segments."""
    up = entry.link("up")
    if up and "/" in up.strip().rstrip("/"):
        return up.strip().rstrip("/").rsplit("/", 1)[0]
    self_href = entry.link("self")
    if self_href and self_href.count("/") > 4:
        return self_href.strip().rstrip("/").rsplit("/", 2)[0]
    return None


def local_name(el: Any) -> str:
    """An element's name without its namespace."""
    return str(etree.QName(el).localname)


@dataclass
class ImportContext:
    """One file being imported into ``session`` for ``owner``: where it fails, what it
    stored so far (:attr:`links`), and its summary."""

    session: Session
    owner: cm.RetailCustomer
    path: str
    now: int
    summary: FileSummary
    #: kind -> self key -> id of the resources stored from this file.
    links: dict[str, dict[str, int]] = field(default_factory=dict)
    #: Path of our own resource base (an export of ours names resources under it).
    own_base: str | None = None
    _ms_durations: bool = False
    _zero_durations: int = 0

    def fail(self, message: str, line: int | None) -> IngestError:
        return IngestError(self.path, message, line)

    def integer(self, el: Any, what: str, lo: int = -(2**63), hi: int = 2**63 - 1) -> int | None:
        """An element's integer text, None when empty; refuses the file when malformed."""
        text = el.text.strip() if el is not None and el.text is not None else ""
        if not text:
            return None
        try:
            value = int(text)
        except ValueError:
            raise self.fail(f"{what} {text!r} is not an integer", el.sourceline) from None
        if not lo <= value <= hi:
            raise self.fail(f"{what} {value} is out of range", el.sourceline)
        return value

    def duration(self, text: str | None, what: str) -> int:
        """A ``UInt32`` duration in seconds; milliseconds are read once with a note."""
        value = parse_duration(text, what)
        if text is not None and value != int(float(text.strip())):
            if not self._ms_durations:
                self.summary.notes.append(
                    "durations written in milliseconds were read as seconds / 1000"
                )
            self._ms_durations = True
        return value

    def guarded(self, work: Callable[[], None], on_error: Callable[[IngestError], None]) -> None:
        """Run ``work`` in a savepoint: an :class:`IngestError` undoes what it stored
        (and the keys it recorded) and goes to ``on_error``."""
        saved = {kind: dict(keys) for kind, keys in self.links.items()}
        try:
            with self.session.begin_nested():
                work()
        except IngestError as exc:
            self.links = saved
            on_error(exc)

    def zero_duration(self, lines: list[int]) -> None:
        """Readings of duration 0 are stored, with one note per file naming the first."""
        if not self._zero_durations:
            self.summary.notes.append(
                f"IntervalReading at line {lines[0]} has duration 0 (stored; a reading "
                "should cover a period)"
            )
        self._zero_durations += len(lines)

    def table(self, kind: str) -> dict[str, int]:
        """The resources of ``kind`` stored from this file, by self key."""
        return self.links.setdefault(kind, {})

    def find(self, kind: str, candidates: list[str]) -> int | None:
        """The first of ``candidates`` stored from this file as a ``kind``."""
        table = self.table(kind)
        for key in candidates:
            if key in table:
                return table[key]
        return None

    def upsert(
        self,
        model: type[Any],
        scope: dict[str, Any],
        key: str | None,
        entry: Entry,
        values: dict[str, Any],
    ) -> Any:
        """Insert the resource, or update the one stored with the same self ``key``
        in ``scope`` (its ``updated`` moves forward only when a value changed)."""
        published, updated = entry_times(entry, self.now)
        obj = None
        if key is not None:
            stmt = select(model).where(model.source_key == key)
            for col, val in scope.items():
                stmt = stmt.where(getattr(model, col) == val)
            obj = self.session.scalars(stmt).one_or_none()
            if obj is None and self.own_base is not None:
                obj = own_resource(self.session, model, key, self.own_base, self.owner.id, scope)
        values = {**values, "title": (entry.title or None) and entry.title[:256]}
        if obj is None:
            obj = model(source_key=key, published=published, updated=updated, **scope, **values)
            self.session.add(obj)
            self.session.flush()
            return obj
        changed = False
        for col, val in values.items():
            if getattr(obj, col) != val:
                setattr(obj, col, val)
                changed = True
        if changed:
            obj.updated = max(updated, obj.updated + 1) if updated <= obj.updated else updated
            self.session.flush()
        return obj


def self_key(entry: Entry) -> str | None:
    """The key a resource is stored and found under: its ``self`` link, else its id."""
    self_href = entry.link("self")
    if self_href:
        return href_key(self_href)
    return entry.id


def content_key(entry: Entry) -> str:
    """The key of a resource that has neither a ``self`` link nor an id: a digest of
    its content, its title and its links, so that the same entry imported again finds
    what it stored the first time."""
    digest = hashlib.sha256()
    for payload in entry.payloads:
        digest.update(etree.tostring(payload, method="c14n"))
    digest.update(repr((entry.title, sorted(entry.links))).encode())
    return "content:" + digest.hexdigest()[:32]


def entry_times(entry: Entry, now: int) -> tuple[int, int]:
    """(published, updated) of an entry; either falls back on the other, then ``now``."""
    published = parse_atom_time(entry.published) or parse_atom_time(entry.updated)
    updated = parse_atom_time(entry.updated) or published
    return (published or now, updated or now)


Handler = Callable[[Entry, int], None]


@dataclass(slots=True)
class _Waiting:
    """A resource waiting for its parent to be seen."""

    entry: Entry
    candidates: list[str]
    handler: Handler
    parent_kind: str


@dataclass
class Parents:
    """Hands each child resource its parent's id, now or once the parent is seen.

    ``stored(kind, key)`` finds a parent imported by an earlier file; it is asked only
    at the end of the file, for what this file did not hold.
    """

    ctx: ImportContext
    stored: Callable[[str, str], int | None]
    #: Called with the refusal of each entry whose parent is nowhere; None: raise it.
    orphan: Callable[[IngestError], None] | None = None
    _waiting: list[_Waiting] = field(default_factory=list)

    def place(self, entry: Entry, handler: Handler, parent_kind: str) -> None:
        """Call ``handler(entry, parent id)`` now, or at :meth:`settle` if the parent
        has not been seen yet (the entry's payload is then kept in memory)."""
        candidates = parent_candidates(entry)
        if not candidates:
            raise self.ctx.fail(
                f"{local_name(entry.payload)} has no 'up' or 'self' link naming its {parent_kind}",
                entry.line,
            )
        parent_id = self.resolve(candidates, parent_kind, stored=False)
        if parent_id is None:
            entry.keep = True
            self._waiting.append(_Waiting(entry, candidates, handler, parent_kind))
            return
        handler(entry, parent_id)

    def resolve(self, candidates: list[str], kind: str, stored: bool) -> int | None:
        """The id of the parent named by one of ``candidates``: exactly, then by the
        parent's own trailing ``Kind/id`` when files disagree on the path prefix."""
        table = self.ctx.table(kind)
        found_id = self.ctx.find(kind, candidates)
        if found_id is not None:
            return found_id
        for key in candidates:
            parts = key.split("/")
            if len(parts) < 2 or parts[-2] != kind:
                continue
            suffix = "/".join(parts[-PARENT_PATH_PARTS[kind] :])
            found = {v for k, v in table.items() if k == suffix or k.endswith("/" + suffix)}
            if len(found) == 1:
                return found.pop()
        if kind == "UsagePoint":
            # A summary filed under the customer ("/User/1/ElectricPowerUsageSummary")
            # belongs to that customer's UsagePoint when the file gives it only one.
            for key in candidates:
                found = {v for k, v in table.items() if k.startswith(key + "/UsagePoint/")}
                if len(found) == 1:
                    return found.pop()
        if stored:
            for key in candidates:
                found_id = self.stored(kind, key)
                if found_id is not None:
                    table[key] = found_id
                    return found_id
        return None

    def settle(self) -> None:
        """Place what waited, parents stored by earlier files included; refuse the
        file when a parent is nowhere."""
        progress = True
        while self._waiting and progress:
            progress = False
            waiting, self._waiting = self._waiting, []
            for item in waiting:
                parent_id = self.resolve(item.candidates, item.parent_kind, stored=True)
                if parent_id is None:
                    self._waiting.append(item)
                else:
                    progress = True
                    if self.orphan is None:
                        item.handler(item.entry, parent_id)
                    else:
                        work = partial(item.handler, item.entry, parent_id)
                        self.ctx.guarded(work, self.orphan)
        for item in self._waiting:
            needed = parent_href(item.entry) or item.candidates[0]
            error = self.ctx.fail(
                f"{local_name(item.entry.payload)} belongs to {item.parent_kind} "
                f"'{needed}', which is neither in this file nor already stored "
                f"for this customer: import the file holding {needed} first",
                item.entry.line,
            )
            if self.orphan is None:
                raise error
            self.orphan(error)
        self._waiting.clear()
