"""Storing interval data: packed blocks written in bulk, newer data replacing older.

A block covers the readings whose start lies in its interval (or in its readings'
starts, when they pass it): a new block replaces the stored readings that start in
what it covers, and nothing else (REQ.21 FB_19 partial updates; FB_4: readings are
unique by start). A reading that runs past its block's end (a daily gas reading that
overlaps the next one by an hour around a DST change) survives the next block.

When two readings share a start, the later one wins: the later in the file, or the
newer file over what is stored. Each replaced reading that differs from the one
replacing it is reported (:class:`ReplacedReading`, with the lines of both when they
are known): no reading is lost without a word.

Re-importing the same blocks changes nothing: a stored block whose start, interval
and readings come out identical is left as it is (same id, same ``updated``).
"""

from __future__ import annotations

import bisect
import itertools
from collections.abc import Sequence
from dataclasses import dataclass, field
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
    #: Source line of each reading, and of the block, when read from a file.
    lines: list[int] | None = None
    line: int | None = None
    #: Start of the first reading and of the last one (the interval when empty).
    first_start: int | None = None
    last_start: int | None = None

    @property
    def end(self) -> int:
        return max(self.start + self.duration, self.readings_end)

    @property
    def covers(self) -> tuple[int, int]:
        """[lo, hi): the reading starts this block speaks for."""
        if self.first_start is None and self.reading_count:
            starts = blocks.decode(self.data).starts
            self.first_start, self.last_start = starts[0], starts[-1]
        lo, hi = self.start, self.start + self.duration
        if self.first_start is not None:
            lo = min(lo, self.first_start)
        if self.last_start is not None:
            hi = max(hi, self.last_start + 1)
        return lo, max(hi, lo + 1)

    @classmethod
    def pack(
        cls,
        readings: blocks.Readings,
        start: int | None = None,
        duration: int | None = None,
        lines: list[int] | None = None,
        line: int | None = None,
    ) -> PackedBlock:
        """Pack ``readings``; the interval defaults to the readings' span."""
        first, last = readings.span
        if start is None:
            start = first
        if duration is None:
            duration = max(last - start, 0)
        first_start = readings.starts[0] if readings.starts else None
        last_start = readings.starts[-1] if readings.starts else None
        return cls(
            start,
            duration,
            len(readings),
            blocks.encode(readings),
            last,
            lines,
            line,
            first_start,
            last_start,
        )


@dataclass(frozen=True, slots=True)
class ReplacedReading:
    """A reading that a later one with the same start (or a newer block covering its
    start) replaced: ``line`` is its own line when it came from the file being stored
    (None when it was stored before), ``by_line`` the line of what replaced it."""

    start: int
    value: int | None
    line: int | None
    by_line: int | None


@dataclass(slots=True)
class StoreStats:
    """What :func:`store_blocks` did; ``readings`` counts the readings stored."""

    inserted: int = 0
    replaced: int = 0
    unchanged: int = 0
    trimmed: int = 0
    readings: int = 0
    replaced_readings: list[ReplacedReading] = field(default_factory=list)

    def add(self, other: StoreStats) -> None:
        self.inserted += other.inserted
        self.replaced += other.replaced
        self.unchanged += other.unchanged
        self.trimmed += other.trimmed
        self.readings += other.readings
        self.replaced_readings.extend(other.replaced_readings)

    @property
    def changed(self) -> bool:
        return bool(self.inserted or self.replaced or self.trimmed)


@dataclass(slots=True)
class _Stored:
    id: int
    start: int
    duration: int
    data: bytes
    published: int
    updated: int
    #: Source line of each reading when it comes from the blocks being stored.
    lines: list[int] | None
    block_line: int | None = None
    _readings: blocks.Readings | None = None

    @property
    def readings(self) -> blocks.Readings:
        if self._readings is None:
            self._readings = blocks.decode(self.data)
        return self._readings

    @property
    def reading_count(self) -> int:
        return len(self.readings)

    def reach(self) -> tuple[int, int]:
        """[lo, hi) of the reading starts this block holds, its interval included."""
        r = self.readings
        lo, hi = self.start, self.start + self.duration
        if r.starts:
            lo, hi = min(lo, r.starts[0]), max(hi, r.starts[-1] + 1)
        return lo, max(hi, lo + 1)


_COLUMNS = ("starts", "durations", "values", "costs", "qualities", "tou", "cpp", "tiers")


def _row(r: blocks.Readings, i: int) -> tuple[object, ...]:
    """Everything a reading holds, to tell whether a replacement changes anything."""
    out: list[object] = []
    for name in _COLUMNS:
        col = getattr(r, name)
        out.append(None if col is None else col[i])
    return tuple(out)


def _select(r: blocks.Readings, keep: list[int]) -> blocks.Readings:
    def pick(col: list[Any] | None) -> list[Any] | None:
        return None if col is None else [col[i] for i in keep]

    kept = blocks.Readings(
        starts=[r.starts[i] for i in keep],
        durations=[r.durations[i] for i in keep],
        values=[r.values[i] for i in keep],
    )
    for name in _COLUMNS[3:]:
        col = pick(getattr(r, name))
        if col is not None and any(v not in (None, ()) for v in col):
            setattr(kept, name, col)
    return kept


def _combine(a: blocks.Readings, b: blocks.Readings) -> blocks.Readings:
    """The readings of ``a`` and ``b`` (disjoint starts), ordered by start."""
    order = sorted(
        [(s, 0, i) for i, s in enumerate(a.starts)] + [(s, 1, i) for i, s in enumerate(b.starts)]
    )
    n = len(order)
    out = blocks.Readings(starts=[0] * n, durations=[0] * n, values=[None] * n)
    for name in _COLUMNS[3:]:
        if getattr(a, name) is not None or getattr(b, name) is not None:
            setattr(out, name, [() if name == "qualities" else None] * n)
    for k, (_s, which, i) in enumerate(order):
        src = a if which == 0 else b
        for name in _COLUMNS:
            col_out = getattr(out, name)
            if col_out is None:
                continue
            col = getattr(src, name)
            if col is not None:
                col_out[k] = col[i]
    return out


def store_blocks(
    conn: Connection, meter_reading_id: int, new: Sequence[PackedBlock], now: int
) -> StoreStats:
    """Store ``new`` blocks of one MeterReading, in bulk, inside the caller's transaction."""
    stats = StoreStats()
    if not new:
        return stats
    ordered = sorted(new, key=lambda b: b.start)
    spans = [b.covers for b in ordered]  # computed once: a property, read per block
    lo = min(span[0] for span in spans)
    hi = max(max(span[1], b.end) for span, b in zip(spans, ordered, strict=True))
    max_duration = conn.execute(
        select(_mr.c.max_block_duration).where(_mr.c.id == meter_reading_id)
    ).scalar_one()
    rows = conn.execute(
        select(
            _ib.c.id,
            _ib.c.start,
            _ib.c.duration,
            _ib.c.data,
            _ib.c.published,
            _ib.c.updated,
        )
        .where(_ib.c.meter_reading_id == meter_reading_id)
        .where(_ib.c.start >= lo - max_duration - 1)
        .where(_ib.c.start < hi)
    ).all()
    disjoint = all(
        sa[1] <= sb[0] and a.start != b.start
        for (sa, a), (sb, b) in itertools.pairwise(zip(spans, ordered, strict=True))
    )
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
        stats = _merge(conn, meter_reading_id, max_duration, ordered, rows, now)
    if stats.changed or new_max != max_duration:
        values: dict[str, int] = {"max_block_duration": new_max}
        if stats.changed:
            values["updated"] = now
        conn.execute(update(_mr).where(_mr.c.id == meter_reading_id).values(**values))
    return stats


#: start -> (what the stored reading held, the line of the block that took it over).
_Pending = dict[int, tuple[tuple[object, ...], int | None]]


def _take_over(
    w: _Stored,
    lo: int,
    hi: int,
    b: PackedBlock,
    new: blocks.Readings,
    out: StoreStats,
    pending: _Pending,
) -> blocks.Readings:
    """Remove from ``w`` its readings starting in [lo, hi); each one of the blocks
    being stored that ``b`` (readings ``new``) replaces is reported, each stored one
    is kept in ``pending`` until the end tells whether what replaced it differs."""
    r = w.readings
    by_start = {s: i for i, s in enumerate(new.starts)}
    keep: list[int] = []
    for i, s in enumerate(r.starts):
        if not lo <= s < hi:
            keep.append(i)
            continue
        j = by_start.get(s)
        by_line = b.lines[j] if b.lines is not None and j is not None else b.line
        if w.lines is None:
            pending.setdefault(s, (_row(r, i), by_line))
        else:
            out.replaced_readings.append(ReplacedReading(s, r.values[i], w.lines[i], by_line))
    if len(keep) == len(r):
        return r
    if w.lines is not None:
        w.lines = [w.lines[i] for i in keep]
    return _select(r, keep)


def _report_stored(working: dict[int, _Stored], pending: _Pending, out: StoreStats) -> None:
    """Report the stored readings whose start now holds something else, or nothing."""
    if not pending:
        return
    now_at: dict[int, tuple[tuple[object, ...], int | None]] = {}
    for w in working.values():
        r = w.readings
        for i, s in enumerate(r.starts):
            if s in pending:
                now_at[s] = (_row(r, i), w.lines[i] if w.lines is not None else None)
    for s in sorted(pending):
        row, by_line = pending[s]
        final = now_at.get(s)
        if final is not None and final[0] == row:
            continue
        if final is not None and final[1] is not None:
            by_line = final[1]
        out.replaced_readings.append(ReplacedReading(s, row[2], None, by_line))  # type: ignore[arg-type]


def _merge(
    conn: Connection,
    meter_reading_id: int,
    max_duration: int,
    ordered: Sequence[PackedBlock],
    rows: Sequence[Row[Any, Any, Any, Any, Any, Any]],
    now: int,
) -> StoreStats:
    stats = StoreStats()
    original: dict[int, _Stored] = {}
    for row in rows:
        original[row.id] = _Stored(
            row.id, row.start, row.duration, row.data, row.published, row.updated, None
        )
    working: dict[int, _Stored] = {s.start: s for s in original.values()}
    starts = sorted(working)
    pending: _Pending = {}
    reach = max(max_duration, *(b.end - b.start for b in ordered)) + 1
    from_file = 0
    for b in ordered:
        new = blocks.decode(b.data)
        lo, hi = b.covers
        reuse: _Stored | None = None
        a = bisect.bisect_left(starts, lo - reach)
        z = bisect.bisect_left(starts, hi)
        for start in starts[a:z] if b.start < hi else [*starts[a:z], b.start]:
            w = working.get(start)
            if w is None:
                continue
            if start == b.start:
                reuse = w
                untouched = w is original.get(w.id)
                if untouched and w.duration == b.duration and w.data == b.data:
                    w._readings = blocks.Readings(starts=[], durations=[], values=[])
                    continue
            else:
                w_lo, w_hi = w.reach()
                if w_lo >= hi or w_hi <= lo:
                    continue
            left = _take_over(w, lo, hi, b, new, stats, pending)
            if start == b.start:
                w._readings = left
                continue
            if len(left) == len(w.readings):
                continue
            del working[start]
            if len(left):
                working[start] = _Stored(
                    w.id,
                    w.start,
                    w.duration,
                    blocks.encode(left),
                    w.published,
                    w.updated,
                    w.lines,
                    w.block_line,
                    left,
                )
        lines = list(b.lines) if b.lines is not None else None
        data, readings = b.data, new
        if reuse is not None and len(reuse.readings):
            # Readings of the stored block outside what ``b`` covers are kept.
            readings = _combine(reuse.readings, new)
            data = blocks.encode(readings)
            lines = None
        block_id, published = (reuse.id, reuse.published) if reuse else (new_id(), now)
        if b.start not in working:
            bisect.insort(starts, b.start)
        working[b.start] = _Stored(
            block_id, b.start, b.duration, data, published, now, lines, b.line, readings
        )
        from_file += b.reading_count

    _report_stored(working, pending, stats)
    final = {w.id: w for w in working.values()}
    deleted = [i for i in original if i not in final]
    inserts = [w for w in final.values() if w.id not in original]
    updates = [
        w
        for w in final.values()
        if w.id in original
        and (w.start, w.duration, w.data)
        != (original[w.id].start, original[w.id].duration, original[w.id].data)
    ]
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
    updated_ids = {w.id for w in updates}
    stats.unchanged = sum(
        1 for b in ordered if (w := working[b.start]).id in original and w.id not in updated_ids
    )
    in_file = sum(1 for r in stats.replaced_readings if r.line is not None)
    stats.readings = from_file - in_file
    return stats
