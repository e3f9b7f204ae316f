"""Storing interval data: packed blocks written in bulk, newer data replacing older.

Re-importing the same block changes nothing; a block with new readings for a period
already stored replaces the readings of that period (the stored block keeps its id
and ``published``, and its ``updated`` moves); readings of an older block outside the
new block's period are kept (REQ.21 FB_19 partial updates).
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, cast

from sqlalchemy import Connection, Row, Table, bindparam, delete, insert, select, update

from gbconnect.espi.ids import new_id
from gbconnect.usage import blocks
from gbconnect.usage.models import IntervalBlock, MeterReading

_ib = cast(Table, IntervalBlock.__table__)
_mr = cast(Table, MeterReading.__table__)


@dataclass(slots=True)
class PackedBlock:
    """A block ready to store: its ``interval`` and its packed readings."""

    start: int
    duration: int
    reading_count: int
    data: bytes
    #: End of the last reading (may pass ``start + duration`` in sloppy files).
    readings_end: int

    @property
    def end(self) -> int:
        return max(self.start + self.duration, self.readings_end)

    @classmethod
    def pack(
        cls, readings: blocks.Readings, start: int | None = None, duration: int | None = None
    ) -> PackedBlock:
        """Pack ``readings``; the interval defaults to the readings' span."""
        first, last = readings.span
        if start is None:
            start = first
        if duration is None:
            duration = max(last - start, 0)
        return cls(start, duration, len(readings), blocks.encode(readings), last)


@dataclass(slots=True)
class StoreStats:
    """What :func:`store_blocks` did."""

    inserted: int = 0
    replaced: int = 0
    unchanged: int = 0
    trimmed: int = 0
    readings: int = 0

    def add(self, other: StoreStats) -> None:
        self.inserted += other.inserted
        self.replaced += other.replaced
        self.unchanged += other.unchanged
        self.trimmed += other.trimmed
        self.readings += other.readings

    @property
    def changed(self) -> bool:
        return bool(self.inserted or self.replaced or self.trimmed)


@dataclass(slots=True)
class _Stored:
    id: int
    start: int
    duration: int
    reading_count: int
    data: bytes
    published: int
    updated: int
    state: str  # "same", "new", "changed"

    @property
    def end(self) -> int:
        span_end = blocks.decode(self.data).span[1] if self.reading_count else self.start
        return max(self.start + self.duration, span_end)


def _trim(block: _Stored, lo: int, hi: int) -> _Stored | None:
    """``block`` without its readings that overlap [lo, hi); None if none is left."""
    r = blocks.decode(block.data)
    keep = [
        i
        for i, (s, d) in enumerate(zip(r.starts, r.durations, strict=True))
        if not (s < hi and s + max(d, 1) > lo)
    ]
    if len(keep) == len(r):
        return block
    if not keep:
        return None

    def pick(col: list[object] | None) -> list[object] | None:
        return None if col is None else [col[i] for i in keep]

    kept = blocks.Readings(
        starts=[r.starts[i] for i in keep],
        durations=[r.durations[i] for i in keep],
        values=[r.values[i] for i in keep],
        costs=pick(r.costs),  # type: ignore[arg-type]
        qualities=pick(r.qualities),  # type: ignore[arg-type]
        tou=pick(r.tou),  # type: ignore[arg-type]
        cpp=pick(r.cpp),  # type: ignore[arg-type]
        tiers=pick(r.tiers),  # type: ignore[arg-type]
    )
    first, last = kept.span
    old_end = block.start + block.duration
    start = block.start if block.start < lo else first  # the front survives, or not
    end = old_end if old_end > hi else last  # the back survives, or not
    end = max(end, last)
    return _Stored(
        block.id,
        start,
        max(end - start, 0),
        len(kept),
        blocks.encode(kept),
        block.published,
        block.updated,
        "changed",
    )


def store_blocks(
    conn: Connection, meter_reading_id: int, new: Sequence[PackedBlock], now: int
) -> StoreStats:
    """Store ``new`` blocks of one MeterReading, in bulk, inside the caller's transaction."""
    stats = StoreStats()
    if not new:
        return stats
    ordered = sorted(new, key=lambda b: b.start)
    lo = ordered[0].start
    hi = max(b.end for b in ordered)
    max_duration = conn.execute(
        select(_mr.c.max_block_duration).where(_mr.c.id == meter_reading_id)
    ).scalar_one()
    rows = conn.execute(
        select(
            _ib.c.id,
            _ib.c.start,
            _ib.c.duration,
            _ib.c.reading_count,
            _ib.c.data,
            _ib.c.published,
            _ib.c.updated,
        )
        .where(_ib.c.meter_reading_id == meter_reading_id)
        .where(_ib.c.start >= lo - max_duration - 1)
        .where(_ib.c.start < hi)
    ).all()
    disjoint = all(a.end <= b.start for a, b in itertools.pairwise(ordered))
    new_max = max(max_duration, *(b.end - b.start for b in ordered))

    if not rows and disjoint:
        conn.execute(
            insert(_ib),
            [
                {
                    "id": new_id(),
                    "meter_reading_id": meter_reading_id,
                    "start": b.start,
                    "duration": b.duration,
                    "reading_count": b.reading_count,
                    "data": b.data,
                    "published": now,
                    "updated": now,
                }
                for b in ordered
            ],
        )
        stats.inserted = len(ordered)
        stats.readings = sum(b.reading_count for b in ordered)
    else:
        stats = _merge(conn, meter_reading_id, ordered, rows, now)
    if stats.changed or new_max != max_duration:
        values: dict[str, int] = {"max_block_duration": new_max}
        if stats.changed:
            values["updated"] = now
        conn.execute(update(_mr).where(_mr.c.id == meter_reading_id).values(**values))
    return stats


def _merge(
    conn: Connection,
    meter_reading_id: int,
    ordered: Sequence[PackedBlock],
    rows: Sequence[Row[Any, Any, Any, Any, Any, Any, Any]],
    now: int,
) -> StoreStats:
    stats = StoreStats()
    original: dict[int, _Stored] = {}
    for row in rows:
        s = _Stored(
            row.id,
            row.start,
            row.duration,
            row.reading_count,
            row.data,
            row.published,
            row.updated,
            "same",
        )
        original[s.id] = s
    working: dict[int, _Stored] = {s.start: s for s in original.values()}
    for b in ordered:
        stats.readings += b.reading_count
        same = working.get(b.start)
        if same is not None and same.duration == b.duration and same.data == b.data:
            stats.unchanged += 1
            continue
        # New readings replace the old ones of the period they cover: the new block's
        # readings span, not its nominal interval (a daily reading that starts at 01:00
        # and runs into the next block must survive that next block).
        block_lo, block_hi = b.start, b.start
        if b.reading_count:
            block_lo, block_hi = blocks.decode(b.data).span
        reuse: _Stored | None = None
        for start, w in list(working.items()):
            if start == b.start:
                reuse = w
                del working[start]
                continue
            if w.start >= block_hi or w.end <= block_lo:
                continue
            trimmed = _trim(w, block_lo, block_hi)
            del working[start]
            if trimmed is not None:
                working[trimmed.start] = trimmed
        if reuse is not None:
            working[b.start] = _Stored(
                reuse.id,
                b.start,
                b.duration,
                b.reading_count,
                b.data,
                reuse.published,
                now,
                "changed",
            )
        else:
            working[b.start] = _Stored(
                new_id(), b.start, b.duration, b.reading_count, b.data, now, now, "new"
            )

    final = {w.id: w for w in working.values()}
    deleted = [i for i in original if i not in final]
    inserts = [w for w in final.values() if w.id not in original]
    updates = [w for w in final.values() if w.id in original and w.state == "changed"]
    if deleted:
        conn.execute(delete(_ib).where(_ib.c.id.in_(deleted)))
    if updates:
        # Two passes: a block may move its start onto a slot freed in this same batch.
        conn.execute(
            update(_ib).where(_ib.c.id == bindparam("b_id")).values(start=-bindparam("b_id")),
            [{"b_id": w.id} for w in updates],
        )
        conn.execute(
            update(_ib)
            .where(_ib.c.id == bindparam("b_id"))
            .values(
                start=bindparam("b_start"),
                duration=bindparam("b_duration"),
                reading_count=bindparam("b_count"),
                data=bindparam("b_data"),
                updated=bindparam("b_updated"),
            ),
            [
                {
                    "b_id": w.id,
                    "b_start": w.start,
                    "b_duration": w.duration,
                    "b_count": w.reading_count,
                    "b_data": w.data,
                    "b_updated": now,
                }
                for w in updates
            ],
        )
    if inserts:
        conn.execute(
            insert(_ib),
            [
                {
                    "id": w.id,
                    "meter_reading_id": meter_reading_id,
                    "start": w.start,
                    "duration": w.duration,
                    "reading_count": w.reading_count,
                    "data": w.data,
                    "published": w.published,
                    "updated": w.updated,
                }
                for w in inserts
            ],
        )
    new_starts = {b.start for b in ordered}
    for w in updates:
        if w.start in new_starts:
            stats.replaced += 1
        else:
            stats.trimmed += 1
    stats.trimmed += len(deleted)
    stats.inserted += len(inserts)
    return stats
