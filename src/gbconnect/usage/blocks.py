"""The packed IntervalBlock codec: a block's readings in one compact byte string.

REQ.21 espi.xsd IntervalBlock holds IntervalReadings, each with an optional
``timePeriod`` (start, duration), ``value`` (Int48), ``cost`` (Int48, hundred-
thousandths of the currency), any number of ``ReadingQuality`` codes, and optional
``consumptionTier``, ``tou`` and ``cpp``. DESIGN.md stores them by block: values as
an int64 array, the optional channels only when present, and explicit starts and
durations only when the readings are irregular (DST days, 0 s and 7200 s hours).

Layout, little-endian::

    u8 version (1) | u8 flags | u32 count
    regular:   i64 first_start | i64 interval
    irregular: i64[count] starts | i64[count] durations
    i64[count] values                       (ABSENT where a reading has no value)
    FLAG_COST:    i64[count] costs          (ABSENT where none)
    FLAG_QUALITY: u8[count] per-reading counts | u32 total | u16[total] codes
    FLAG_TOU / FLAG_CPP / FLAG_TIER: i64[count] each (ABSENT where none)
"""

from __future__ import annotations

import itertools
import operator
import struct
import sys
from array import array
from collections.abc import Sequence
from dataclasses import dataclass
from typing import cast

import numpy as np
from numpy.typing import NDArray

from gbconnect.errors import InternalError

VERSION = 1
ABSENT = -(2**63)
"""Sentinel for a missing optional number (outside Int48, so never a real value)."""

FLAG_IRREGULAR = 0x01
FLAG_COST = 0x02
FLAG_QUALITY = 0x04
FLAG_TOU = 0x08
FLAG_CPP = 0x10
FLAG_TIER = 0x20

_HEAD = struct.Struct("<BBI")
_REGULAR = struct.Struct("<qq")
_U32 = struct.Struct("<I")
_LITTLE = sys.byteorder == "little"


class BlockCodecError(InternalError, ValueError):
    """The readings cannot be packed (or a stored block is corrupt).

    Importers check what they pack (and turn a refusal into their own input error),
    so this is raised on gbconnect's own data: a broken invariant.
    """


@dataclass(slots=True)
class Readings:
    """A block's readings, column by column (all lists have the same length).

    ``costs``, ``qualities``, ``tou``, ``cpp`` and ``tiers`` are None when no
    reading of the block carries that element; inside them None marks one reading
    without it.
    """

    starts: list[int]
    durations: list[int]
    values: list[int | None]
    costs: list[int | None] | None = None
    qualities: list[tuple[int, ...]] | None = None
    tou: list[int | None] | None = None
    cpp: list[int | None] | None = None
    tiers: list[int | None] | None = None

    def __len__(self) -> int:
        return len(self.starts)

    @property
    def span(self) -> tuple[int, int]:
        """(first start, last end) of the readings; (0, 0) when empty."""
        if not self.starts:
            return (0, 0)
        if len(self.starts) != len(self.durations):
            raise BlockCodecError("starts and durations differ in length")
        return (self.starts[0], max(map(operator.add, self.starts, self.durations)))


def _i64(values: Sequence[int | None]) -> bytes:
    try:
        arr = array("q", cast("Sequence[int]", values))
    except TypeError:
        arr = array("q", [ABSENT if v is None else v for v in values])
    except OverflowError as exc:
        raise BlockCodecError("a number does not fit in 64 bits") from exc
    if not _LITTLE:
        arr.byteswap()
    return arr.tobytes()


def _read_i64(buf: bytes, offset: int, count: int) -> tuple[list[int], int]:
    arr = array("q")
    end = offset + 8 * count
    if end > len(buf):
        raise BlockCodecError("stored block is truncated")
    arr.frombytes(buf[offset:end])
    if not _LITTLE:
        arr.byteswap()
    return arr.tolist(), end


def _optional(values: list[int]) -> list[int | None]:
    return [None if v == ABSENT else v for v in values]


def _check_optional(name: str, column: Sequence[object] | None, count: int) -> None:
    if column is not None and len(column) != count:
        raise BlockCodecError(f"{name} has {len(column)} entries for {count} readings")


def _quality_bytes(qualities: Sequence[tuple[int, ...]]) -> bytes:
    counts = array("B")
    codes = array("H")
    for q in qualities:
        if len(q) > 255:
            raise BlockCodecError("more than 255 ReadingQuality codes on one reading")
        counts.append(len(q))
        for code in q:
            if not 0 <= code <= 0xFFFF:
                raise BlockCodecError(f"ReadingQuality code {code} is not a UInt16")
            codes.append(code)
    if not _LITTLE:
        codes.byteswap()
    return counts.tobytes() + _U32.pack(len(codes)) + codes.tobytes()


def encode_arrays(
    starts: NDArray[np.int64],
    durations: NDArray[np.int64],
    values: NDArray[np.int64],
    costs: NDArray[np.int64] | None = None,
    qualities: Sequence[tuple[int, ...]] | None = None,
    *,
    regular: bool | None = None,
) -> bytes:
    """:func:`encode` for numpy columns (ABSENT marks a missing value or cost): the
    same bytes, without a Python object per reading.

    ``regular=True`` is the caller's word that the readings are contiguous with one
    positive interval (it checked a whole series at once); the checks are skipped.
    """
    count = int(starts.size)
    if durations.size != count or values.size != count:
        raise BlockCodecError("starts, durations and values differ in length")
    if costs is not None and costs.size != count:
        raise BlockCodecError(f"costs has {costs.size} entries for {count} readings")
    if qualities is not None and len(qualities) != count:
        raise BlockCodecError(f"qualities has {len(qualities)} entries for {count} readings")
    if regular is None:
        if (durations < 0).any():
            raise BlockCodecError("a reading has a negative duration")
        steps = np.diff(starts)
        if (steps <= 0).any():
            raise BlockCodecError("reading starts are not strictly increasing")
        regular = count > 0 and bool(
            (durations == durations[0]).all() and (steps == durations[0]).all()
        )
    flags = 0
    parts: list[bytes] = []
    if count == 0:
        parts.append(_REGULAR.pack(0, 0))
    elif regular:
        parts.append(_REGULAR.pack(int(starts[0]), int(durations[0])))
    else:
        flags |= FLAG_IRREGULAR
        parts.append(starts.astype("<i8", copy=False).tobytes())
        parts.append(durations.astype("<i8", copy=False).tobytes())
    parts.append(values.astype("<i8", copy=False).tobytes())
    if costs is not None:
        flags |= FLAG_COST
        parts.append(costs.astype("<i8", copy=False).tobytes())
    if qualities is not None:
        flags |= FLAG_QUALITY
        parts.append(_quality_bytes(qualities))
    return _HEAD.pack(VERSION, flags, count) + b"".join(parts)


def encode(readings: Readings) -> bytes:
    """Pack ``readings``; starts must be strictly increasing (FB_4: unique by start)."""
    starts, durations = readings.starts, readings.durations
    count = len(starts)
    if len(durations) != count or len(readings.values) != count:
        raise BlockCodecError("starts, durations and values differ in length")
    for name in ("costs", "qualities", "tou", "cpp", "tiers"):
        _check_optional(name, getattr(readings, name), count)
    # The checks run over whole columns in C (map, count, list equality): per reading
    # generator expressions took a third of ESPI import's packing time (issue: performance).
    if count and min(durations) < 0:
        raise BlockCodecError("a reading has a negative duration")
    if not all(map(operator.lt, starts, itertools.islice(starts, 1, None))):
        raise BlockCodecError("reading starts are not strictly increasing")

    flags = 0
    parts: list[bytes] = []
    regular = count > 0 and durations.count(durations[0]) == count
    if regular:
        step = durations[0]
        first = starts[0]
        # Strictly increasing starts: a step of 0 is regular for one reading only.
        regular = starts == list(range(first, first + step * count, step)) if step else count == 1
    if regular:
        parts.append(_REGULAR.pack(starts[0], durations[0]))
    elif count:
        flags |= FLAG_IRREGULAR
        parts.append(_i64(starts))
        parts.append(_i64(durations))
    else:
        parts.append(_REGULAR.pack(0, 0))
    parts.append(_i64(readings.values))
    if readings.costs is not None:
        flags |= FLAG_COST
        parts.append(_i64(readings.costs))
    if readings.qualities is not None:
        flags |= FLAG_QUALITY
        parts.append(_quality_bytes(readings.qualities))
    for flag, column in (
        (FLAG_TOU, readings.tou),
        (FLAG_CPP, readings.cpp),
        (FLAG_TIER, readings.tiers),
    ):
        if column is not None:
            flags |= flag
            parts.append(_i64(column))
    return _HEAD.pack(VERSION, flags, count) + b"".join(parts)


def decode(data: bytes) -> Readings:
    """Unpack what :func:`encode` produced."""
    if len(data) < _HEAD.size:
        raise BlockCodecError("stored block is truncated")
    version, flags, count = _HEAD.unpack_from(data, 0)
    if version != VERSION:
        raise BlockCodecError(f"unknown block format version {version}")
    offset = _HEAD.size
    if flags & FLAG_IRREGULAR:
        starts, offset = _read_i64(data, offset, count)
        durations, offset = _read_i64(data, offset, count)
    else:
        first, step = _REGULAR.unpack_from(data, offset)
        offset += _REGULAR.size
        starts = list(range(first, first + step * count, step)) if step else [first] * count
        durations = [step] * count
    raw_values, offset = _read_i64(data, offset, count)
    result = Readings(starts=starts, durations=durations, values=_optional(raw_values))
    if flags & FLAG_COST:
        costs, offset = _read_i64(data, offset, count)
        result.costs = _optional(costs)
    if flags & FLAG_QUALITY:
        counts = array("B", data[offset : offset + count])
        offset += count
        (total,) = _U32.unpack_from(data, offset)
        offset += _U32.size
        codes = array("H", data[offset : offset + 2 * total])
        if not _LITTLE:
            codes.byteswap()
        offset += 2 * total
        qualities: list[tuple[int, ...]] = []
        pos = 0
        for n in counts:
            qualities.append(tuple(codes[pos : pos + n]))
            pos += n
        result.qualities = qualities
    if flags & FLAG_TOU:
        tou, offset = _read_i64(data, offset, count)
        result.tou = _optional(tou)
    if flags & FLAG_CPP:
        cpp, offset = _read_i64(data, offset, count)
        result.cpp = _optional(cpp)
    if flags & FLAG_TIER:
        tiers, offset = _read_i64(data, offset, count)
        result.tiers = _optional(tiers)
    if offset != len(data):
        raise BlockCodecError("stored block has trailing bytes")
    return result


def encode_regular(start: int, interval: int, values: Sequence[int]) -> bytes:
    """Fast path for the generator and CSV importers: evenly spaced values, no options."""
    return _HEAD.pack(VERSION, 0, len(values)) + _REGULAR.pack(start, interval) + _i64(values)


def decode_arrays(data: bytes) -> tuple[NDArray[np.int64], NDArray[np.int64]]:
    """(starts, values) of a packed block as numpy columns, ABSENT kept where a reading
    has no value: what a sum over many blocks needs, without a Python object per
    reading (:func:`decode` gives every column)."""
    if len(data) < _HEAD.size:
        raise BlockCodecError("stored block is truncated")
    version, flags, count = _HEAD.unpack_from(data, 0)
    if version != VERSION:
        raise BlockCodecError(f"unknown block format version {version}")
    offset = _HEAD.size
    if flags & FLAG_IRREGULAR:
        if len(data) < offset + 24 * count:
            raise BlockCodecError("stored block is truncated")
        starts = np.frombuffer(data, dtype="<i8", count=count, offset=offset).astype(np.int64)
        offset += 16 * count
    else:
        first, step = _REGULAR.unpack_from(data, offset)
        offset += _REGULAR.size
        starts = first + step * np.arange(count, dtype=np.int64)
        if len(data) < offset + 8 * count:
            raise BlockCodecError("stored block is truncated")
    values = np.frombuffer(data, dtype="<i8", count=count, offset=offset).astype(np.int64)
    return starts, values
