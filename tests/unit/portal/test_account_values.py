"""The values the account pages show: the end date (consent's storage in the
utility's zone and its last included day), bill amounts and history lengths."""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

from gbconnect.espi import scope as espi_scope
from gbconnect.i18n import formats, use
from gbconnect.portal.consent import last_included_day, parse_end
from gbconnect.portal.grants import history_label
from gbconnect.portal.home import money

LA = ZoneInfo("America/Los_Angeles")


def test_an_end_date_is_the_next_midnight_in_the_utilitys_zone() -> None:
    end = parse_end("date", "2026-06-30", date(2026, 1, 1), LA)
    assert end == int(datetime(2026, 7, 1, 7, tzinfo=UTC).timestamp())  # PDT midnight
    assert end is not None and last_included_day(end, LA) == date(2026, 6, 30)
    assert parse_end("revoke", "", date(2026, 1, 1), LA) is None
    # An end stored before, at UTC midnight, still reads as the day chosen.
    assert last_included_day(int(datetime(2026, 7, 1, tzinfo=UTC).timestamp()), LA) == date(
        2026, 6, 30
    )


def test_money_is_read_in_hundred_thousandths() -> None:
    assert money(8_812_000, 840) == "$88.12"
    assert money(123_456_789_00, 840) == "$123,456.79"
    assert money(-500_000, 840) == "-$5.00"
    assert money(100_000, 999) == "1.00 (999)"
    assert money(100_000, None) == "1.00"


def test_history_is_told_in_months() -> None:
    assert history_label(espi_scope.parse("FB=1_3_4;HistoryLength=13")) == "13 months"
    assert history_label(espi_scope.parse("FB=1_3_4;HistoryLength=1")) == "1 month"
    assert history_label(espi_scope.parse("FB=1_3_4;HistoryLength=63072000")) == "24 months"
    assert history_label(espi_scope.parse("FB=1_3_4")) is None


def test_money_is_written_the_languages_way() -> None:
    with use("es"):
        assert money(8_812_000, 840) == "88,12\xa0US$"
    with use("th"):
        assert money(123_456_789_00, 840) == "US$123,456.79"


def test_days_and_moments_read_as_words_in_each_language() -> None:
    at = datetime(2026, 6, 30, 14, 5, tzinfo=LA)
    assert formats.day(date(2026, 6, 30)) == "June 30, 2026"
    assert formats.moment(at) == "June 30, 2026, 14:05 PDT"
    with use("es"):
        assert formats.day(date(2026, 6, 30)) == "30 de junio de 2026"
        assert formats.moment(at) == "30 de junio de 2026, 14:05 PDT"
    with use("th"):
        assert formats.day(date(2026, 6, 30)) == "30 มิถุนายน ค.ศ. 2026"
