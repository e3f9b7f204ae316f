"""What an import did, per file, for the CLI's summary line."""

from __future__ import annotations

from dataclasses import dataclass, field

from gbconnect.espi.times import iso
from gbconnect.usage.services import StoreStats


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
        return "; ".join(parts) + "".join(f"\n  note: {n}" for n in self.notes)
