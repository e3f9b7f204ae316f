"""LocalTimeParameters (REQ.21 FB_1, espi.xsd ``TimeConfiguration``): the standard
offset ``tzOffset``, the daylight-saving shift ``dstOffset`` (seconds) and the rules
``dstStartRule`` / ``dstEndRule`` (``DstRuleType``, 8 hex digits)::

    bits 28-31 month 1-12          bits 17-19 weekday, Monday 1 (0: not applicable)
    bits 25-27 operator            bits 12-16 hour 0-23
    bits 20-24 day of month 1-31   bits  0-11 seconds 0-3599

    operator 0: on the day of the month
             1: on the weekday on or after the day of the month
             2-6: on the first..fifth such weekday of the month
             7: on the last such weekday of the month

``FFFFFFFF`` disables DST processing. The rule's time is the wall clock at the
transition: standard time when DST starts, daylight time when it ends (so the GBA's
``360E2000`` / ``B40E2000`` are the second Sunday of March and the first Sunday of
November at 02:00, the United States rule). gbconnect's generator writes the rules
this way (``gbconnect.ingest.generator.local_time_of``).
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone
from functools import lru_cache

DISABLED = 0xFFFFFFFF


def _rule(text: str | None) -> int | None:
    if not text:
        return None
    try:
        value = int(text.strip(), 16)
    except ValueError:
        return None
    return None if value == DISABLED or not 0 <= value <= DISABLED else value


@lru_cache(maxsize=256)
def rule_wall_time(rule: int, year: int) -> int | None:
    """The wall-clock time (seconds since 1970, as if UTC) at which ``rule`` fires in
    ``year``; ``None`` for a rule that names no valid day."""
    month = rule >> 28 & 0xF
    operator = rule >> 25 & 0x7
    day = rule >> 20 & 0x1F
    weekday = rule >> 17 & 0x7
    hour = rule >> 12 & 0x1F
    seconds = rule & 0xFFF
    if not 1 <= month <= 12 or hour > 23 or seconds > 3599:
        return None
    days_in_month = calendar.monthrange(year, month)[1]
    if operator == 0 or weekday == 0:
        if not 1 <= day <= days_in_month:
            return None
        found = day
    elif operator == 1:
        first = max(day, 1)
        if first > days_in_month:
            return None
        shift = (weekday - 1 - calendar.weekday(year, month, first)) % 7
        found = first + shift
        if found > days_in_month:
            return None
    elif operator == 7:
        last_wd = calendar.weekday(year, month, days_in_month)
        found = days_in_month - (last_wd - (weekday - 1)) % 7
    else:
        first_wd = calendar.weekday(year, month, 1)
        found = 1 + (weekday - 1 - first_wd) % 7 + 7 * (operator - 2)
        if found > days_in_month:
            return None
    midnight = calendar.timegm((year, month, found, 0, 0, 0))
    return midnight + hour * 3600 + seconds


@dataclass(slots=True)
class LocalTime:
    """A UsagePoint's LocalTimeParameters; ``utcoffset`` and ``to_local`` apply them."""

    href: str
    tz_offset: int | None = None
    dst_offset: int | None = None
    dst_start_rule: str | None = None
    dst_end_rule: str | None = None

    def utcoffset(self, at: int) -> int:
        """The offset from UTC (seconds) in force at ``at`` (seconds since 1970)."""
        standard = self.tz_offset or 0
        shift = self.dst_offset or 0
        start_rule, end_rule = _rule(self.dst_start_rule), _rule(self.dst_end_rule)
        if not shift or start_rule is None or end_rule is None:
            return standard
        year = datetime.fromtimestamp(at + standard, UTC).year
        start_wall = rule_wall_time(start_rule, year)
        end_wall = rule_wall_time(end_rule, year)
        if start_wall is None or end_wall is None:
            return standard
        start = start_wall - standard  # the wall clock shows standard time then
        end = end_wall - standard - shift  # and daylight time here
        in_dst = start <= at < end if start < end else (at >= start or at < end)
        return standard + shift if in_dst else standard

    def to_local(self, at: int) -> datetime:
        """``at`` (seconds since 1970) as an aware datetime at the wall clock."""
        offset = self.utcoffset(at)
        return datetime.fromtimestamp(at, UTC).astimezone(timezone(timedelta(seconds=offset)))
