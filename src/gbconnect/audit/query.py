"""Reading the audit log: search it, check its chain, export it as CSV or JSON."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Generator, Iterator
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from gbconnect.audit.chain import Verdict, verify
from gbconnect.audit.models import AuditEvent

COLUMNS = (
    "seq",
    "at",
    "actor_kind",
    "actor",
    "address",
    "action",
    "target_kind",
    "target_id",
    "details",
    "prev_hash",
    "hash",
)


@dataclass(frozen=True)
class Filter:
    """What to look for; each field set narrows (``action`` may end with ``*``:
    ``sign_in.*``; ``actor`` matches a part of the actor's name)."""

    action: str | None = None
    actor: str | None = None
    actor_kind: str | None = None
    target_kind: str | None = None
    target_id: str | None = None
    since: float | None = None
    until: float | None = None

    def apply(self, stmt: Select[Any]) -> Select[Any]:
        e = AuditEvent
        if self.action:
            if self.action.endswith("*"):
                stmt = stmt.where(e.action.startswith(self.action[:-1], autoescape=True))
            else:
                stmt = stmt.where(e.action == self.action)
        if self.actor:
            stmt = stmt.where(e.actor.contains(self.actor, autoescape=True))
        if self.actor_kind:
            stmt = stmt.where(e.actor_kind == self.actor_kind)
        if self.target_kind:
            stmt = stmt.where(e.target_kind == self.target_kind)
        if self.target_id:
            stmt = stmt.where(e.target_id == self.target_id)
        if self.since is not None:
            stmt = stmt.where(e.at >= self.since)
        if self.until is not None:
            stmt = stmt.where(e.at < self.until)
        return stmt


def search(
    session: Session, where: Filter, limit: int = 100, before: int | None = None
) -> list[AuditEvent]:
    """The newest events matching ``where`` (older than ``seq`` ``before`` when given:
    the next page)."""
    stmt = where.apply(select(AuditEvent))
    if before is not None:
        stmt = stmt.where(AuditEvent.seq < before)
    return list(session.scalars(stmt.order_by(AuditEvent.seq.desc()).limit(max(1, limit))))


def events(session: Session, where: Filter | None = None) -> Generator[AuditEvent, None, None]:
    """Every event matching ``where`` in ``seq`` order, read in batches."""
    stmt = (where or Filter()).apply(select(AuditEvent)).order_by(AuditEvent.seq)
    result = session.scalars(stmt, execution_options={"yield_per": 1000})
    try:
        yield from result
    finally:
        result.close()  # a reader that stops early leaves no server-side cursor open


def check(session: Session) -> Verdict:
    """The whole chain checked (:func:`gbconnect.audit.chain.verify`)."""
    rows = events(session)
    try:
        return verify(rows)
    finally:
        rows.close()


def as_dict(event: AuditEvent) -> dict[str, Any]:
    return {name: getattr(event, name) for name in COLUMNS}


def export_json(rows: Iterator[AuditEvent]) -> Iterator[str]:
    """A JSON array, one event per line (streams: never the whole log in memory)."""
    yield "["
    first = True
    for event in rows:
        yield ("\n" if first else ",\n") + json.dumps(as_dict(event), ensure_ascii=False)
        first = False
    yield "\n]\n"


def export_csv(rows: Iterator[AuditEvent]) -> Iterator[str]:
    """CSV with a header row; ``details`` as JSON text."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(COLUMNS)
    for event in rows:
        values = as_dict(event)
        values["details"] = json.dumps(values["details"]) if values["details"] else ""
        writer.writerow([values[c] if values[c] is not None else "" for c in COLUMNS])
        if buffer.tell() > 65536:
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue()


__all__ = ["COLUMNS", "Filter", "as_dict", "check", "events", "export_csv", "export_json", "search"]
