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

I64 = NDArray[np.int64]


class LocalTimeError(ValueError):
    def __init__(self, message: str, index: int) -> None:
        super().__init__(message)
        self.index = index


def _offset(zone: ZoneInfo, epoch: int) -> int:
    off = datetime.fromtimestamp(epoch, UTC).astimezone(zone).utcoffset()
    return int(off.total_seconds()) if off is not None else 0


def transitions(zone: ZoneInfo, lo: int, hi: int) -> tuple[I64, I64]:
    """UTC instants and the offset in force from each, covering [lo, hi] (epoch seconds)."""
    lo -= 2 * 86400
    hi += 2 * 86400
    instants = [lo]
    offsets = [_offset(zone, lo)]
    day = lo
    while day < hi:
        nxt = min(day + 86400, hi)
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
    """Wall-clock seconds (as if UTC) -> true UTC seconds, in file order for repeats."""
    if naive.size == 0:
        return naive.copy()
    table = transitions(zone, int(naive.min()) - 86400, int(naive.max()) + 86400)
    candidates = np.unique(table[1])
    valid = np.zeros((len(candidates), naive.size), dtype=bool)
    for i, off in enumerate(candidates):
        valid[i] = offsets_at(naive - off, table) == off
    count = valid.sum(axis=0)
    if (count == 0).any():
        bad = int(np.flatnonzero(count == 0)[0])
        when = datetime.fromtimestamp(int(naive[bad]), UTC).strftime("%Y-%m-%d %H:%M")
        raise LocalTimeError(
            f"local time {when} does not exist in {zone.key} (it falls in the spring-forward gap)",
            bad,
        )
    first_valid = np.argmax(valid, axis=0)
    result = naive - candidates[first_valid]
    ambiguous = np.flatnonzero(count > 1)
    if ambiguous.size:
        seen: dict[int, int] = {}
        for i in ambiguous.tolist():
            local = int(naive[i])
            options = sorted(
                (int(naive[i] - c) for c, ok in zip(candidates, valid[:, i], strict=True) if ok)
            )
            n = seen.get(local, 0)
            result[i] = options[min(n, len(options) - 1)]
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
