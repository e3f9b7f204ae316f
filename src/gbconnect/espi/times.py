"""ESPI time values (REQ.21 ``TimeType``: seconds since 1970 UTC; ``UInt32`` durations)
and Atom date-times (RFC 3339), read leniently where real files are sloppy
(REAL-WORLD-QUIRKS.md: float timestamps, millisecond durations, bare dates)."""

from __future__ import annotations

import time
from datetime import UTC, date, datetime

from gbconnect.client.parser.numbers import MS_THRESHOLD as _MS_THRESHOLD
from gbconnect.client.parser.numbers import UINT32_MAX, duration_seconds, number
from gbconnect.errors import InputError

__all__ = [
    "UINT32_MAX",
    "TimeValueError",
    "iso",
    "parse_atom_time",
    "parse_duration",
    "parse_timestamp",
]


class TimeValueError(InputError):
    """A time value that cannot be read."""


def _number(text: str | None, what: str) -> int:
    """The SDK's lenient reading (``gbconnect.client.parser.numbers``: float
    timestamps lose their fraction, ESPI counts whole seconds), refusing what it
    cannot read."""
    if text is None or not text.strip():
        raise TimeValueError(f"{what} is empty")
    value = number(text)
    if value is None:
        raise TimeValueError(f"{what} {text.strip()!r} is not a number")
    return value


def parse_timestamp(text: str | None, what: str = "start") -> int:
    """Seconds since 1970 UTC; a float with no fraction or a millisecond value is read too."""
    value = _number(text, what)
    if abs(value) >= _MS_THRESHOLD:
        if value % 1000:
            raise TimeValueError(f"{what} {value} is out of range")
        value //= 1000
    return value


def parse_duration(text: str | None, what: str = "duration") -> int:
    """Seconds; a millisecond duration that overflows UInt32 is converted."""
    value = _number(text, what)
    if value < 0:
        raise TimeValueError(f"{what} {value} is negative")
    return duration_seconds(value)


def parse_atom_time(text: str | None) -> int | None:
    """An Atom date-time (RFC 3339) as seconds since 1970; a bare date means midnight UTC."""
    if text is None or not text.strip():
        return None
    raw = text.strip()
    try:
        if len(raw) == 10:
            d = date.fromisoformat(raw)
            return int(datetime(d.year, d.month, d.day, tzinfo=UTC).timestamp())
        parsed = datetime.fromisoformat(raw.replace("z", "Z"))
    except ValueError:
        raise TimeValueError(f"date-time {raw!r} is not RFC 3339") from None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return int(parsed.timestamp())


def iso(epoch: int) -> str:
    """RFC 3339 UTC ("Zulu") form of seconds since 1970."""
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(epoch))
