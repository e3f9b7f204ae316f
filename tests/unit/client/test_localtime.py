"""LocalTimeParameters' DST rules (espi.xsd DstRuleType): decoded by the SDK, they
give the offsets of the zone the server's generator encoded them from
(``gbconnect.ingest.generator.local_time_of``), hour by hour over a year, in both
hemispheres; and the GBA's ``360E2000`` / ``B40E2000`` are the US rule."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from gbconnect.client import LocalTime
from gbconnect.client.parser.localtime import rule_wall_time
from gbconnect.ingest.generator import local_time_of


@pytest.mark.parametrize(
    "zone",
    [
        "America/Los_Angeles",
        "America/New_York",
        "Europe/London",
        "Europe/Paris",
        "Australia/Sydney",
        "Asia/Tokyo",
    ],
)
@pytest.mark.parametrize("year", [2023, 2024])
def test_rules_written_by_the_server_decode_to_the_zone(zone: str, year: int) -> None:
    tz = ZoneInfo(zone)
    tz_offset, dst_offset, start, end = local_time_of(tz, year)
    lt = LocalTime("ltp", tz_offset, dst_offset, start, end)
    first = int(datetime(year, 1, 2, tzinfo=UTC).timestamp())
    for hour in range(0, 360 * 24):
        at = first + hour * 3600
        expected = datetime.fromtimestamp(at, tz).utcoffset()
        assert expected is not None
        assert lt.utcoffset(at) == int(expected.total_seconds()), (zone, at)


def test_gba_rule_is_the_united_states_rule() -> None:
    lt = LocalTime("ltp", -28800, 3600, "360E2000", "B40E2000")
    spring = int(datetime(2024, 3, 10, 10, 0, tzinfo=UTC).timestamp())  # 02:00 PST
    autumn = int(datetime(2024, 11, 3, 9, 0, tzinfo=UTC).timestamp())  # 02:00 PDT
    assert lt.utcoffset(spring - 1) == -28800 and lt.utcoffset(spring) == -25200
    assert lt.utcoffset(autumn - 1) == -25200 and lt.utcoffset(autumn) == -28800
    assert lt.to_local(spring).isoformat() == "2024-03-10T03:00:00-07:00"


def test_disabled_missing_or_invalid_rules_give_standard_time() -> None:
    at = int(datetime(2024, 7, 1, tzinfo=UTC).timestamp())
    for start, end in (("FFFFFFFF", "FFFFFFFF"), (None, None), ("zz", "B40E2000"), ("", "")):
        assert LocalTime("l", 3600, 3600, start, end).utcoffset(at) == 3600
    assert LocalTime("l", None, None, None, None).utcoffset(at) == 0
    assert rule_wall_time(0xD40E2000, 2024) is None  # month 13
    assert LocalTime("l", 0, 3600, "D40E2000", "B40E2000").utcoffset(at) == 0


def test_day_of_month_and_on_or_after_operators() -> None:
    # Operator 0: 15 April at 01:00; operator 1: the Sunday on or after 8 March, 02:00.
    fixed = 4 << 28 | 0 << 25 | 15 << 20 | 1 << 12
    after = 3 << 28 | 1 << 25 | 8 << 20 | 7 << 17 | 2 << 12
    assert rule_wall_time(fixed, 2024) == int(datetime(2024, 4, 15, 1, tzinfo=UTC).timestamp())
    assert rule_wall_time(after, 2024) == int(datetime(2024, 3, 10, 2, tzinfo=UTC).timestamp())
