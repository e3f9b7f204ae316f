"""Vectorised readers for the fixed-width fields of CSV files (dates, times, numbers).

A column is a list of strings from :mod:`csv`; these functions turn a whole column
into a numpy array at once, and name the first bad row when one is malformed.
"""

from __future__ import annotations

from datetime import datetime

import numpy as np
from numpy.typing import NDArray

from gbconnect.ingest.errors import FieldError
from gbconnect.usage.blocks import ABSENT

I64 = NDArray[np.int64]


def _days_from_civil(y: I64, m: I64, d: I64) -> I64:
    """Days since 1970-01-01 of proleptic Gregorian dates (H. Hinnant's algorithm)."""
    y = y - (m <= 2)
    era = np.floor_divide(y, 400)
    yoe = y - era * 400
    mp = np.where(m > 2, m - 3, m + 9)
    doy = (153 * mp + 2) // 5 + d - 1
    doe = yoe * 365 + yoe // 4 - yoe // 100 + doy
    result: I64 = era * 146097 + doe - 719468
    return result


_MONTH_DAYS = np.array([0, 31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31], dtype=np.int64)


def _digits(col: list[str], width: int, seps: dict[int, str]) -> NDArray[np.int64] | None:
    """Digit values of a column of exactly ``width`` ASCII characters with the given
    separators, as an (n, width) array (separator positions hold junk), or None."""
    if any(len(s) != width for s in (col[0], col[-1])):
        return None
    try:
        arr = np.array(col, dtype=f"S{width}")
    except (UnicodeEncodeError, ValueError):
        return None
    if (np.char.str_len(arr) != width).any():
        return None
    codes = arr.view(np.uint8).reshape(len(col), width)
    for pos, ch in seps.items():
        if (codes[:, pos] != ord(ch)).any():
            return None
    digit_cols = [i for i in range(width) if i not in seps]
    digits = codes[:, digit_cols]
    if ((digits < 48) | (digits > 57)).any():
        return None
    return codes.astype(np.int64) - 48


def _num(codes: NDArray[np.int64], a: int, b: int) -> I64:
    out = np.zeros(codes.shape[0], dtype=np.int64)
    for i in range(a, b):
        out = out * 10 + codes[:, i]
    return out


def _check_date(y: I64, m: I64, d: I64, col: list[str]) -> None:
    leap = ((y % 4 == 0) & (y % 100 != 0)) | (y % 400 == 0)
    limit = _MONTH_DAYS[np.clip(m, 0, 12)] - ((m == 2) & ~leap)
    bad = (m < 1) | (m > 12) | (d < 1) | (d > limit)
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise FieldError(f"{col[i]!r} is not a valid date", i)


def parse_dates(col: list[str]) -> I64:
    """``YYYY-MM-DD`` (or ``M/D/YYYY``) -> seconds since 1970 of that midnight, as if UTC."""
    if not col:
        return np.zeros(0, dtype=np.int64)
    codes = _digits(col, 10, {4: "-", 7: "-"})
    if codes is not None:
        y, m, d = _num(codes, 0, 4), _num(codes, 5, 7), _num(codes, 8, 10)
    else:
        cache: dict[str, tuple[int, int, int]] = {}
        ys, ms, ds = [], [], []
        for i, text in enumerate(col):
            parts = cache.get(text)
            if parts is None:
                parts = _slow_date(text, i)
                cache[text] = parts
            ys.append(parts[0])
            ms.append(parts[1])
            ds.append(parts[2])
        y, m, d = (np.array(v, dtype=np.int64) for v in (ys, ms, ds))
    _check_date(y, m, d, col)
    return _days_from_civil(y, m, d) * 86400


def _slow_date(text: str, index: int) -> tuple[int, int, int]:
    raw = text.strip()
    for fmt in ("%Y-%m-%d", "%m/%d/%Y", "%m/%d/%y", "%Y/%m/%d"):
        try:
            dt = datetime.strptime(raw, fmt)
            return dt.year, dt.month, dt.day
        except ValueError:
            continue
    raise FieldError(f"{text!r} is not a date (YYYY-MM-DD or M/D/YYYY)", index)


def parse_clock(col: list[str]) -> I64:
    """``HH:MM`` / ``HH:MM:SS`` / ``h:MM AM`` -> seconds after midnight."""
    if not col:
        return np.zeros(0, dtype=np.int64)
    codes = _digits(col, 5, {2: ":"})
    if codes is not None:
        h, m = _num(codes, 0, 2), _num(codes, 3, 5)
        s = np.zeros_like(h)
    else:
        codes = _digits(col, 8, {2: ":", 5: ":"})
        if codes is not None:
            h, m, s = _num(codes, 0, 2), _num(codes, 3, 5), _num(codes, 6, 8)
        else:
            cache: dict[str, int] = {}
            out = np.empty(len(col), dtype=np.int64)
            for i, text in enumerate(col):
                v = cache.get(text)
                if v is None:
                    v = _slow_clock(text, i)
                    cache[text] = v
                out[i] = v
            return out
    bad = (h > 23) | (m > 59) | (s > 59)
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise FieldError(f"{col[i]!r} is not a time of day", i)
    result: I64 = h * 3600 + m * 60 + s
    return result


def _slow_clock(text: str, index: int) -> int:
    raw = " ".join(text.strip().upper().split())
    for fmt in ("%I:%M %p", "%I:%M:%S %p", "%H:%M", "%H:%M:%S"):
        try:
            t = datetime.strptime(raw, fmt)
            return t.hour * 3600 + t.minute * 60 + t.second
        except ValueError:
            continue
    raise FieldError(f"{text!r} is not a time of day", index)


def _fixed_datetime(codes: NDArray[np.int64], col: list[str]) -> I64:
    """Seconds of ``YYYY-MM-DD?HH:MM:SS`` digit codes (as if UTC), checked."""
    y, mo, d = _num(codes, 0, 4), _num(codes, 5, 7), _num(codes, 8, 10)
    _check_date(y, mo, d, col)
    h, mi, s = _num(codes, 11, 13), _num(codes, 14, 16), _num(codes, 17, 19)
    bad = (h > 23) | (mi > 59) | (s > 59)
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise FieldError(f"{col[i]!r} is not a date-time", i)
    result: I64 = _days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + s
    return result


def parse_datetimes(col: list[str]) -> I64:
    """``YYYY-MM-DD HH:MM:SS`` (or with ``T``) -> seconds, as if UTC (wall clock)."""
    if not col:
        return np.zeros(0, dtype=np.int64)
    for sep in (" ", "T"):
        codes = _digits(col, 19, {4: "-", 7: "-", 10: sep, 13: ":", 16: ":"})
        if codes is not None:
            return _fixed_datetime(codes, col)
    out = np.empty(len(col), dtype=np.int64)
    for i, text in enumerate(col):
        try:
            dt = datetime.fromisoformat(text.strip())
        except ValueError:
            raise FieldError(f"{text!r} is not a date-time", i) from None
        if dt.tzinfo is not None:
            raise FieldError(f"{text!r}: local wall-clock time expected, not an offset", i)
        out[i] = (
            _days_from_civil(np.array([dt.year]), np.array([dt.month]), np.array([dt.day]))[0]
            * 86400
            + dt.hour * 3600
            + dt.minute * 60
            + dt.second
        )
    return out


def parse_utc(col: list[str]) -> I64:
    """RFC 3339 with ``Z`` or an offset, or epoch seconds -> seconds since 1970 UTC."""
    if not col:
        return np.zeros(0, dtype=np.int64)
    codes = _digits(col, 20, {4: "-", 7: "-", 10: "T", 13: ":", 16: ":", 19: "Z"})
    if codes is not None:
        return _fixed_datetime(codes, col)
    out = np.empty(len(col), dtype=np.int64)
    for i, text in enumerate(col):
        raw = text.strip()
        if raw.isdigit():
            out[i] = int(raw)
            continue
        try:
            dt = datetime.fromisoformat(raw.replace("z", "Z"))
        except ValueError:
            raise FieldError(f"{text!r} is not an RFC 3339 date-time or epoch seconds", i) from None
        if dt.tzinfo is None:
            raise FieldError(f"{text!r} has no time zone (write Z or an offset)", i)
        out[i] = int(dt.timestamp())
    return out


def parse_floats(col: list[str], what: str) -> NDArray[np.float64]:
    """Decimal numbers -> finite floats."""
    if not col:
        return np.zeros(0, dtype=np.float64)
    try:
        floats = np.array(col, dtype=np.float64)
    except ValueError:
        for i, text in enumerate(col):
            try:
                float(text)
            except ValueError:
                raise FieldError(f"{what} {text!r} is not a number", i) from None
        raise
    if not np.isfinite(floats).all():
        i = int(np.flatnonzero(~np.isfinite(floats))[0])
        raise FieldError(f"{what} {col[i]!r} is not a finite number", i)
    return floats


LIMIT = 2**47 - 1
"""The largest magnitude of an ESPI Int48 value (espi.xsd)."""


def scale_numbers(floats: NDArray[np.float64], scale: float, what: str) -> I64:
    """Finite floats -> integers in ``1/scale`` units (kWh with scale 1000 -> Wh);
    NaN (an absent value) becomes ABSENT."""
    scaled = np.rint(floats * scale)
    with np.errstate(invalid="ignore"):
        too_large = np.abs(scaled) > LIMIT  # False for NaN
    if too_large.any():
        i = int(np.flatnonzero(too_large)[0])
        raise FieldError(f"{what} {floats[i]!r} is too large for an Int48", i)
    absent = np.isnan(scaled)
    if absent.any():
        scaled[absent] = 0
        out = scaled.astype(np.int64)
        out[absent] = ABSENT
        return out
    result: I64 = scaled.astype(np.int64)
    return result


def parse_numbers(col: list[str], scale: float, what: str) -> I64:
    """Decimal numbers -> integers in ``1/scale`` units (kWh with scale 1000 -> Wh)."""
    return scale_numbers(parse_floats(col, what), scale, what)
