"""Reading the Download My Data form (gbconnect.portal.download_form): local whole
days, both ends included; foreign services "not found"; sentences for the rest."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest

from gbconnect.portal.download_form import (
    ChoiceError,
    DownloadChoice,
    UnknownService,
    read_choice,
    typed_of,
)

LA = ZoneInfo("America/Los_Angeles")
OWNED = [3, 7, 9]


def choose(services: list[str], **params: str) -> DownloadChoice:
    return read_choice(typed_of(params, services), OWNED, LA)


def test_days_are_local_and_both_ends_included() -> None:
    choice = choose(["9", "3"], **{"from": "2024-03-10", "to": "2024-03-10", "format": "csv"})
    assert choice.usage_points == [3, 9] and choice.fmt == "csv"
    assert choice.lo == int(datetime(2024, 3, 10, tzinfo=LA).timestamp())
    assert choice.hi == int(datetime(2024, 3, 11, tzinfo=LA).timestamp())
    assert choice.hi - choice.lo == 23 * 3600  # the spring-forward day
    assert choice.media_type.startswith("text/csv")


def test_no_dates_is_everything_and_xml_is_the_default() -> None:
    choice = choose(["7"])
    assert (choice.lo, choice.hi, choice.fmt) == (None, None, "xml")
    assert choice.filename("alice") == "GreenButton_alice_start_latest.xml"


def test_the_filename_is_safe_in_a_header() -> None:
    choice = choose(["7"], **{"from": "2024-05-01", "to": "2024-05-02"})
    name = choice.filename('jo"sé;\r\nX: 1')
    assert name == "GreenButton_jo-s----X--1_2024-05-01_2024-05-02.xml"
    assert choice.first_day == date(2024, 5, 1)


@pytest.mark.parametrize("service", ["4", "abc", "", "-3", "٣", "3.0", "1" * 40])
def test_a_service_not_owned_is_unknown(service: str) -> None:
    with pytest.raises(UnknownService):
        choose(["3", service])


@pytest.mark.parametrize(
    ("services", "params", "field", "words"),
    [
        ([], {}, "service", "at least one service"),
        (["3"], {"from": "2024-13-01"}, "from", "could not read the start date"),
        (["3"], {"to": "yesterday"}, "to", "could not read the end date"),
        (["3"], {"to": "9999-12-31"}, "to", "between 1900 and 2999"),
        (["3"], {"from": "2024-05-02", "to": "2024-05-01"}, "from", "after the end date"),
        (["3"], {"format": "pdf"}, "format", "formats offered"),
    ],
)
def test_choices_to_correct(
    services: list[str], params: dict[str, str], field: str, words: str
) -> None:
    with pytest.raises(ChoiceError) as refused:
        choose(services, **params)
    assert refused.value.field == field and words in refused.value.message
