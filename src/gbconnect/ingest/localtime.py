"""Local wall-clock times to UTC, vectorised, DST hours included.

Utility CSV downloads write local times (CSV-LAYOUTS.md): the autumn hour appears
twice, the spring hour never. A repeated local time is read in file order: its first
occurrence is the daylight-time one, its second the standard-time one. A local time
that does not exist (inside the spring gap) is refused.
"""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import numpy as np
from numpy.typing import NDArray

from gbconnect.ingest.errors import LocalTimeError

I64 = NDArray[np.int64]


def _offset(zone: ZoneInfo, epoch: int) -> int:
    off = datetime.fromtimestamp(epoch, UTC).astimezone(zone).utcoffset()
    return int(off.total_seconds()) if off is not None else 0


_STEP = 4 * 86400


def transitions(zone: ZoneInfo, lo: int, hi: int) -> tuple[I64, I64]:
    """UTC instants and the offset in force from each, covering [lo, hi] (epoch seconds)."""
    lo -= 2 * 86400
    hi += 2 * 86400
    instants = [lo]
    offsets = [_offset(zone, lo)]
    day = lo
    while day < hi:
        # Four-day steps: offset changes are months apart in every zone of tzdata
        # since 1970; each change found is then located to the second.
        nxt = min(day + _STEP, hi)
        off = _offset(zone, nxt)
        if off != offsets[-1]:
            a, b = day, nxt  # offset(a) == offsets[-1], offset(b) == off
            while b - a > 1:
                mid = (a + b) // 2
                if _offset(zone, mid) == offsets[-1]:
                    a = mid
                else:
                    b = mid
            instants.append(b)
            offsets.append(off)
        day = nxt
    return np.array(instants, dtype=np.int64), np.array(offsets, dtype=np.int64)


def offsets_at(utc: I64, table: tuple[I64, I64]) -> I64:
    """The UTC offset in force at each instant of ``utc``."""
    instants, offsets = table
    idx = np.searchsorted(instants, utc, side="right") - 1
    return np.asarray(offsets[np.clip(idx, 0, len(offsets) - 1)], dtype=np.int64)


def local_to_utc(naive: I64, zone: ZoneInfo) -> I64:
    """Wall-clock seconds (as if UTC) -> true UTC seconds, in file order for repeats.

    Each offset period of the zone covers a range of wall-clock times; one binary
    search finds the latest period that has started. A time past that period's end
    lies in a spring-forward gap (refused); a time still inside the previous period
    is one of the autumn's repeated times, resolved in file order.
    """
    if naive.size == 0:
        return naive.copy()
    instants, offsets = transitions(zone, int(naive.min()) - 86400, int(naive.max()) + 86400)
    local_start = instants + offsets  # wall clock at which each period begins
    local_end = np.append(instants[1:], np.iinfo(np.int64).max // 2) + offsets
    idx = np.searchsorted(local_start, naive, side="right") - 1
    idx = np.clip(idx, 0, len(offsets) - 1)
    gap = naive >= local_end[idx]
    if gap.any():
        bad = int(np.flatnonzero(gap)[0])
        when = datetime.fromtimestamp(int(naive[bad]), UTC).strftime("%Y-%m-%d %H:%M")
        raise LocalTimeError(
            f"local time {when} does not exist in {zone.key} (it falls in the spring-forward gap)",
            bad,
        )
    result = naive - offsets[idx]
    prev = np.maximum(idx - 1, 0)
    ambiguous = np.flatnonzero((idx > 0) & (naive < local_end[prev]))
    if ambiguous.size:
        seen: dict[int, int] = {}
        for i in ambiguous.tolist():
            local = int(naive[i])
            j = int(idx[i])
            options = sorted((local - int(offsets[j - 1]), local - int(offsets[j])))
            n = seen.get(local, 0)
            result[i] = options[min(n, 1)]
            seen[local] = n + 1
    return np.asarray(result, dtype=np.int64)


def local_day_starts(utc: I64, zone: ZoneInfo) -> I64:
    """For each instant, the UTC instant of the local midnight that starts its day."""
    if utc.size == 0:
        return utc.copy()
    table = transitions(zone, int(utc.min()), int(utc.max()))
    local = utc + offsets_at(utc, table)
    midnight_local = local - np.mod(local, 86400)
    out = midnight_local - offsets_at(midnight_local - offsets_at(utc, table), table)
    return np.asarray(out, dtype=np.int64)
