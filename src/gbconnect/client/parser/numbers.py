"""Numbers of ESPI documents read leniently where real files are sloppy
(REAL-WORLD-QUIRKS.md): float timestamps, millisecond durations that overflow UInt32,
values beyond UInt32, empty elements. ``TimeType`` is seconds since 1970 UTC,
``DateTimeInterval/duration`` UInt32 seconds (REQ.21 espi.xsd)."""

from __future__ import annotations

UINT32_MAX = 2**32 - 1
#: Seconds since 1970 beyond this (year 5138) can only be milliseconds.
MS_THRESHOLD = 10**11


def number(text: str | None) -> int | None:
    """An integer; a float is truncated toward minus infinity (ESPI counts whole
    units); ``None`` when empty or not a number."""
    if text is None:
        return None
    try:
        return int(text)
    except ValueError:
        pass
    raw = text.strip()
    if not raw:
        return None
    try:
        value = float(raw)
    except ValueError:
        return None
    if value != value or value in (float("inf"), float("-inf")):
        return None
    return int(value // 1)


def timestamp(text: str | None) -> int | None:
    """Seconds since 1970 UTC; a float or a millisecond value is read too."""
    value = number(text)
    if value is not None and abs(value) >= MS_THRESHOLD and value % 1000 == 0:
        value //= 1000
    return value


def duration_seconds(value: int) -> int:
    """A duration read as an integer, in seconds: a millisecond value that overflows
    UInt32 (and is a whole number of seconds within it) is converted."""
    if value > UINT32_MAX and value % 1000 == 0 and value // 1000 <= UINT32_MAX:
        return value // 1000
    return value


def duration(text: str | None) -> int | None:
    """Seconds; a millisecond duration that overflows UInt32 is converted."""
    value = number(text)
    return None if value is None else duration_seconds(value)
