"""``gbconnect ingest``: one file, one transaction, a summary or a clear refusal."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from zoneinfo import ZoneInfo

from sqlalchemy import event
from sqlalchemy.orm import Session, sessionmaker

from gbconnect.audit import Actor
from gbconnect.ingest.errors import IngestError
from gbconnect.ingest.espi import EspiImporter
from gbconnect.ingest.owners import retail_customer
from gbconnect.ingest.runs import FILE, tracked
from gbconnect.ingest.series import store_channel
from gbconnect.ingest.summary import FileSummary
from gbconnect.notify.events import NewData
from gbconnect.notify.outbox import publish
from gbconnect.resource import now as now_seconds

#: CSV files are read whole; larger ones should be split (XML streams at any size).
MAX_CSV_BYTES = 2 * 1024**3


def _sniff(path: Path) -> str:
    with path.open("rb") as f:
        head = f.read(4096)
    text = head.removeprefix(b"\xef\xbb\xbf").lstrip()
    if not text:
        return "empty"
    if text.startswith(b"<"):
        return "xml"
    if b"\x00" in head:
        return "binary"
    return "csv"


def ingest_file(
    factory: sessionmaker[Session],
    path: Path,
    customer: str | None,
    zone: ZoneInfo,
    progress: Callable[[int, int], None] | None = None,
    resource_base: str | None = None,
    skip_bad_entries: bool = False,
    actor: Actor | None = None,
    source: str = FILE,
) -> FileSummary:
    """Import ``path`` whole or not at all (raises :class:`IngestError`), and keep the
    run in the import history (:func:`gbconnect.ingest.runs.tracked`; ``actor``: who,
    the operator at the command line when omitted; ``source``: file or upload).

    ``resource_base`` is our public resource base: a customer's own export, imported
    again for that customer, updates the resources its hrefs name under it.
    ``skip_bad_entries``: an ESPI XML file's well-formed entries are imported and each
    bad one is listed in the summary (CSV files stay whole or nothing).
    """
    return tracked(
        factory,
        source,
        path.name,
        actor,
        lambda: _ingest(factory, path, customer, zone, progress, resource_base, skip_bad_entries),
    )


def _ingest(
    factory: sessionmaker[Session],
    path: Path,
    customer: str | None,
    zone: ZoneInfo,
    progress: Callable[[int, int], None] | None,
    resource_base: str | None,
    skip_bad_entries: bool,
) -> FileSummary:
    name = str(path)
    if not path.is_file():
        raise IngestError(name, "no such file")
    kind = _sniff(path)
    if kind == "empty":
        raise IngestError(name, "the file is empty", 1)
    if kind == "binary":
        raise IngestError(name, "not a text file (neither ESPI XML nor CSV)", 1)
    size = path.stat().st_size
    now = now_seconds()
    with factory() as session, session.begin():
        changes = _Changes(session)
        owner = retail_customer(session, customer)
        if kind == "xml":
            importer = EspiImporter(
                session,
                owner,
                name,
                now=now,
                resource_base=resource_base,
                skip_bad_entries=skip_bad_entries,
            )
            with path.open("rb") as stream:
                report = (lambda pos: progress(pos, size)) if progress else None
                summary = importer.run(stream, report)
        else:
            if size > MAX_CSV_BYTES:
                raise IngestError(name, "CSV files over 2 GB must be split")
            try:
                text = path.read_text(encoding="utf-8-sig")
            except UnicodeDecodeError as exc:
                raise IngestError(name, f"not UTF-8 text (byte {exc.start})") from None
            # Imported here: the CSV readers load pyarrow (27 MiB), which a served
            # process that never takes a CSV upload need not hold.
            from gbconnect.ingest.csv import read_csv

            layout, channels = read_csv(name, text, zone)
            summary = FileSummary(name, layout)
            touched: set[int] = set()
            for ch in channels:
                store_channel(session, owner, ch, zone, summary, now, touched)
            summary.usage_points = len(touched)
            summary.usage_point_ids.update(touched)
        session.flush()
        if summary.usage_point_ids and (changes.count or _blocks_changed(summary)):
            # Written with the import: its third parties are told once it commits
            # (FB_39); an import that changed nothing tells nobody.
            publish(session, NewData(tuple(sorted(summary.usage_point_ids))))
    return summary


class _Changes:
    """Counts the rows a session inserts, changes or deletes through the ORM."""

    def __init__(self, session: Session) -> None:
        self.count = 0
        event.listen(session, "before_flush", self._before_flush)

    def _before_flush(self, session: Session, _context: object, _instances: object) -> None:
        self.count += len(session.new) + len(session.deleted)
        self.count += sum(1 for obj in session.dirty if session.is_modified(obj))


def _blocks_changed(summary: FileSummary) -> bool:
    b = summary.blocks
    return bool(b.inserted or b.replaced or b.trimmed)


def expand(paths: list[str]) -> list[Path]:
    """Files named, and the files inside folders named, in a stable order."""
    out: list[Path] = []
    for raw in paths:
        p = Path(raw)
        if p.is_dir():
            for root, _dirs, files in sorted(os.walk(p)):
                out.extend(
                    Path(root) / f for f in sorted(files) if f.lower().endswith((".xml", ".csv"))
                )
        else:
            out.append(p)
    return out
