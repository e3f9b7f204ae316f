"""LocalTimeParameters of a time zone (REQ.21 FB_1; espi.xsd DstRuleType: month,
operator, weekday, hour and seconds of each DST transition)."""

from __future__ import annotations

from zoneinfo import ZoneInfo

import pytest

from gbconnect.ingest.generator import local_time_of


@pytest.mark.parametrize(
    ("zone", "expected"),
    [
        # Second Sunday in March, first Sunday in November, at 2:00 (Green Button samples).
        ("America/Los_Angeles", (-28800, 3600, "360E2000", "B40E2000")),
        ("America/New_York", (-18000, 3600, "360E2000", "B40E2000")),
        # Last Sunday in March at 2:00, last Sunday in October at 3:00 summer time.
        ("Europe/Paris", (3600, 3600, "3E0E2000", "AE0E3000")),
        # Southern hemisphere: first Sunday in October, first Sunday in April.
        ("Australia/Sydney", (36000, 3600, "A40E2000", "440E3000")),
        # No DST: rule processing disabled.
        ("Asia/Tokyo", (32400, 0, "FFFFFFFF", "FFFFFFFF")),
        ("America/Phoenix", (-25200, 0, "FFFFFFFF", "FFFFFFFF")),
    ],
)
def test_dst_rules_of_a_zone(zone: str, expected: tuple[int, int, str, str]) -> None:
    assert local_time_of(ZoneInfo(zone), 2024) == expected
