"""What an import did, per file, for the CLI's summary line.

``readings`` counts the readings stored from the file: a reading that a later one of
the same file replaced (same start) is not counted, and is listed with its line.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from gbconnect.espi.times import iso
from gbconnect.usage.services import ReplacedReading, StoreStats


@dataclass(slots=True)
class FileSummary:
    path: str
    format: str
    usage_points: int = 0
    meter_readings: int = 0
    readings: int = 0
    first: int | None = None
    last: int | None = None
    summaries: int = 0
    customer_records: int = 0
    blocks: StoreStats = field(default_factory=StoreStats)
    notes: list[str] = field(default_factory=list)
    #: Entries left out (``--skip-bad-entries``): (line, why).
    skipped: list[tuple[int | None, str]] = field(default_factory=list)
    #: The usage points whose data this import changed (third parties are notified).
    usage_point_ids: set[int] = field(default_factory=set)

    def span(self, start: int, end: int) -> None:
        self.first = start if self.first is None else min(self.first, start)
        self.last = end if self.last is None else max(self.last, end)

    def line(self) -> str:
        when = (
            f"{iso(self.first)} .. {iso(self.last)}"
            if self.first is not None and self.last is not None
            else "no interval data"
        )
        b = self.blocks
        parts = [
            f"{self.path} ({self.format}): {self.usage_points} usage point(s), "
            f"{self.meter_readings} meter reading(s), {self.readings} reading(s), {when}",
            f"blocks {b.inserted} new, {b.replaced} replaced, {b.unchanged} unchanged"
            + (f", {b.trimmed} trimmed" if b.trimmed else ""),
        ]
        if self.summaries:
            parts.append(f"{self.summaries} usage summar{'y' if self.summaries == 1 else 'ies'}")
        if self.customer_records:
            parts.append(f"{self.customer_records} customer record(s)")
        in_file = [r for r in b.replaced_readings if r.line is not None]
        stored = [r for r in b.replaced_readings if r.line is None]
        if b.replaced_readings:
            parts.append(
                f"{len(in_file)} reading(s) of the file replaced by a later one with the same "
                f"start, {len(stored)} stored reading(s) replaced"
            )
        if self.skipped:
            parts.append(
                f"{len(self.skipped)} bad entr{'y' if len(self.skipped) == 1 else 'ies'} skipped"
            )
        notes = [*self.notes, *(_replaced(r) for r in in_file)]
        notes.extend(
            f"skipped the entry at line {ln}: {msg}" if ln else f"skipped an entry: {msg}"
            for ln, msg in self.skipped
        )
        notes.extend(_replaced(r) for r in stored[:STORED_SHOWN])
        if len(stored) > STORED_SHOWN:
            notes.append(f"... and {len(stored) - STORED_SHOWN} more stored reading(s) replaced")
        return "; ".join(parts) + "".join(f"\n  note: {n}" for n in notes)


#: How many replaced stored readings (corrections of earlier files) the line lists.
STORED_SHOWN = 20


def _replaced(r: ReplacedReading) -> str:
    what = f"the reading at line {r.line}" if r.line is not None else "the stored reading"
    by = f"line {r.by_line}" if r.by_line is not None else "a newer one"
    return f"{what} ({iso(r.start)}, value {r.value}) was replaced by {by}"
