"""The console's roles (each includes the ones before it) and the audit page's
filter fields (dates are days in the utility's zone, "until" includes its day; bad
values are refused with a sentence)."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from gbconnect.config import load_settings
from gbconnect.console.audit_log import BadFilter, filter_of
from gbconnect.console.models import ADMINISTRATOR, OPERATOR, VIEWER, may
from gbconnect.console.pages import Console, int_param


def test_roles_include_the_weaker_ones() -> None:
    assert may(ADMINISTRATOR, OPERATOR) and may(ADMINISTRATOR, VIEWER)
    assert may(OPERATOR, VIEWER) and not may(OPERATOR, ADMINISTRATOR)
    assert not may(VIEWER, OPERATOR)
    assert not may("root", VIEWER) and not may(ADMINISTRATOR, "root")


def test_int_param() -> None:
    assert int_param(" 42 ") == 42
    assert int_param(None) is None and int_param("-1") is None and int_param("1e3") is None
    assert int_param("9" * 19) is None


def _console() -> Console:
    settings = load_settings(database_url="sqlite://", secret_key="k" * 40)
    return Console(settings, None)  # type: ignore[arg-type]  # no database needed


def test_filter_of_days_in_the_utility_zone() -> None:
    console = _console()
    zone = ZoneInfo(str(console.settings.zone))
    f = filter_of({"action": "sign_in.*", "since": "2026-03-01", "until": "2026-03-01"}, console)
    assert f.action == "sign_in.*"
    assert f.since == datetime(2026, 3, 1, tzinfo=zone).timestamp()
    assert f.until == datetime(2026, 3, 2, tzinfo=zone).timestamp()
    assert filter_of({}, console) == type(f)()


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"since": "March"}, "since date must be YYYY-MM-DD"),
        ({"actor_kind": "robot"}, "actor kind must be one of"),
        ({"action": "x" * 65}, "longer than 64"),
    ],
)
def test_bad_filters_are_refused(fields: dict[str, str], message: str) -> None:
    with pytest.raises(BadFilter, match=message):
        filter_of(fields, _console())
