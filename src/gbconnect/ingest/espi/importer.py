"""Import of ESPI XML (REQ.21 Atom feeds or single entries), streamed.

Every data-carrying resource of espi.xsd (:mod:`gbconnect.ingest.espi.usage`) and
customer.xsd (:mod:`gbconnect.ingest.espi.customer`) is read by namespace, whatever
the prefix, from the entries :func:`gbconnect.espi.xmlreader.iter_entries` streams.
Resources are tied together by their Atom links (:mod:`gbconnect.ingest.espi.feed`);
an entry whose parent is neither in the file nor already stored refuses the file.

The whole file is one transaction: the caller commits after :meth:`EspiImporter.run`
and rolls back on any :class:`~gbconnect.ingest.errors.IngestError`. A bad entry
refuses the file (whole or nothing), and the refusal names every bad entry with its
line, not only the first. With ``skip_bad_entries`` every well-formed entry is
imported and each bad one is listed, with its line, in the summary; a file that is
not well-formed XML, or of which no entry can be imported, is still refused.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial
from typing import IO

from lxml import etree
from sqlalchemy.orm import Session

from gbconnect.customer import models as cm
from gbconnect.espi.namespaces import ESPI
from gbconnect.espi.times import TimeValueError
from gbconnect.espi.xmlreader import Entry, XmlInputError, iter_entries
from gbconnect.ingest.errors import IngestError
from gbconnect.ingest.espi.customer import CustomerResources
from gbconnect.ingest.espi.feed import ImportContext, href_key, local_name
from gbconnect.ingest.espi.usage import UsageResources
from gbconnect.ingest.summary import FileSummary
from gbconnect.resource import now as now_seconds

#: How many bad entries a refusal names.
SHOWN_PROBLEMS = 20

_NOT_METER_DATA = {
    "ApplicationInformation": "third-party registration data (use `gbconnect thirdparty`)",
    "Authorization": "an authorization record, which only a customer's grant creates",
    "ServiceStatus": "a service status answer",
    "BatchList": "a notification list",
}


@dataclass
class EspiImporter:
    """Imports one ESPI XML file into ``session`` for ``owner`` (a RetailCustomer)."""

    session: Session
    owner: cm.RetailCustomer
    path: str
    now: int = field(default_factory=now_seconds)
    #: Our public resource base: an export of ours imported again updates what it names.
    resource_base: str | None = None
    skip_bad_entries: bool = False
    summary: FileSummary = field(init=False)
    _usage: UsageResources = field(init=False)
    _customer: CustomerResources = field(init=False)
    _ctx: ImportContext = field(init=False)
    _empty_entries: int = 0

    def __post_init__(self) -> None:
        self.summary = FileSummary(self.path, "ESPI XML")
        own = href_key(self.resource_base) if self.resource_base else None
        ctx = ImportContext(
            self.session, self.owner, self.path, self.now, self.summary, own_base=own
        )
        self._ctx = ctx
        self._usage = UsageResources(ctx)
        self._customer = CustomerResources(ctx, self._usage.usage_point_id)

    def fail(self, message: str, line: int | None) -> IngestError:
        return IngestError(self.path, message, line)

    def run(self, stream: IO[bytes], progress: Callable[[int], None] | None = None) -> FileSummary:
        """Import every entry of ``stream``; ``progress(bytes read)`` every 500 entries."""
        count = 0
        try:
            for entry in iter_entries(stream):
                if self.skip_bad_entries:  # a bad entry leaves nothing behind
                    self._ctx.guarded(partial(self.feed, entry), self.bad_entry)
                else:
                    try:
                        self.feed(entry)
                    except IngestError as exc:
                        self.bad_entry(exc)
                count += 1
                if progress is not None and count % 500 == 0:
                    progress(stream.tell())
        except XmlInputError as exc:
            raise self.fail(exc.message, exc.line) from None
        except TimeValueError as exc:
            raise self.fail(str(exc), None) from None
        if count == 0:
            raise self.fail("the feed holds no entries", None)
        self.finish()
        self.refuse_if_bad(count)
        return self.summary

    def bad_entry(self, exc: IngestError) -> None:
        """Keep a bad entry's refusal: listed when skipping, else raised at the end."""
        self.summary.skipped.append((exc.line, exc.message))

    def refuse_if_bad(self, count: int) -> None:
        """Whole or nothing: refuse the file naming every bad entry; when skipping,
        refuse only a file of which nothing could be imported."""
        bad = self.summary.skipped
        if not bad or (self.skip_bad_entries and len(bad) < count):
            return
        line, message = bad[0]
        if len(bad) > 1:
            more = "; ".join(
                f"line {ln}: {msg}" if ln else msg for ln, msg in bad[1:SHOWN_PROBLEMS]
            )
            extra = len(bad) - SHOWN_PROBLEMS
            message += f" (and {len(bad) - 1} more bad entr{'y' if len(bad) == 2 else 'ies'}: "
            message += more + (f"; and {extra} more" if extra > 0 else "") + ")"
        if self.skip_bad_entries:
            message = "no entry could be imported: " + message
        raise self.fail(message, line)

    def feed(self, entry: Entry) -> None:
        """Import one entry (or keep it until its parent is seen)."""
        payload = entry.payload
        if payload is None:
            self._empty_entries += 1
            if self._empty_entries == 1:
                self.summary.notes.append("entries with an empty <content> were skipped")
            return
        name = local_name(payload)
        if name in _NOT_METER_DATA:
            raise self.fail(
                f"the file holds {name}: {_NOT_METER_DATA[name]}, not meter data to import",
                payload.sourceline,
            )
        try:
            if etree.QName(payload).namespace == ESPI:
                if not self._usage.feed(entry, name):
                    if name != "ProgramIdMappings":
                        message = f"<{name}> is not a resource that carries data"
                        raise self.fail(message, entry.line)
                    self._customer.whole(entry, name)
            elif name == "LocalTimeParameters":
                self._usage.feed(entry, name)  # customer.xsd declares it too
            elif not self._customer.feed(entry, name):
                raise self.fail(
                    f"<{name}> (customer.xsd) is not a resource that carries data", entry.line
                )
        except TimeValueError as exc:
            raise self.fail(str(exc), payload.sourceline) from None

    def finish(self) -> None:
        """Resolve what waited for a parent, link types, store the remaining blocks."""
        self._usage.parents.orphan = self.bad_entry
        self._usage.finish()
        self._customer.finish()
