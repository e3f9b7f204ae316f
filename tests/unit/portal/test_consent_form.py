"""The consent form as submitted (gbconnect.portal.consent.read_decision): every field
checked, every refusal a sentence for the customer, never a Python message."""

from __future__ import annotations

from datetime import date

import pytest

from gbconnect.espi import scope as espi_scope
from gbconnect.oauth.services import GrantError
from gbconnect.portal.consent import carried_by, read_decision

REQUESTED = espi_scope.parse(
    "FB=1_3_4_5_10_13_14_15_17_39_51_57;IntervalDuration=900_3600;BlockDuration=daily;"
    "HistoryLength=13"
)
TODAY = date(2026, 1, 15)
PYTHON_TEXT = ("invalid literal", "int()", "Traceback", "base 10", "Error")


def form(**fields: list[str]) -> dict[str, list[str]]:
    base = {"decision": ["approve"], "group": ["electric", "gas"], "service": ["3", "4"]}
    base.update(fields)
    return base


def refusal(fields: dict[str, list[str]]) -> str:
    with pytest.raises(GrantError) as caught:
        read_decision(fields, REQUESTED, TODAY)
    message = str(caught.value)
    assert message and not any(t in message for t in PYTHON_TEXT), message
    return message


def test_history_that_is_not_a_number_is_a_sentence() -> None:
    assert "history" in refusal(form(history=["abc"]))
    assert "history" in refusal(form(history=["99"]))
    assert "history" in refusal(form(history=["1e3"]))


def test_ten_thousand_repeated_fields_are_refused_with_a_sentence() -> None:
    refusal(form(service=[str(n) for n in range(10_000)]))
    refusal(form(history=["13"] * 10_000))
    refusal(form(end=["revoke"] * 2))


def test_unknown_ids_and_groups_are_sentences() -> None:
    assert "service" in refusal(form(service=["abc"]))
    assert "service" in refusal(form(service=[str(2**64)]))
    assert "service" in refusal(form(service=["١٢"]))  # digits, but not ASCII ones
    assert "data" in refusal(form(group=["electric", "everything"]))
    assert "data" in refusal(form(group=[]))


def test_a_kind_of_data_not_asked_for_is_left_out_not_refused() -> None:
    """A form may name a kind of data the scope does not ask for (the page did not
    offer it): it is left out, and the grant never widens."""
    asked = espi_scope.parse("FB=1_3_4_5_13_14;HistoryLength=13")
    decision = read_decision(form(group=["electric", "gas", "quality"]), asked, TODAY)
    assert decision.scope.function_blocks <= asked.function_blocks


def test_end_date_is_checked() -> None:
    assert "date" in refusal(form(end=["date"], end_date=["not a date"]))
    assert "after today" in refusal(form(end=["date"], end_date=["2026-01-15"]))
    assert "ends" in refusal(form(end=["whenever"]))


def test_a_valid_form_narrows_the_scope() -> None:
    decision = read_decision(
        form(group=["electric"], history=["6"], end=["date"], end_date=["2026-03-01"]),
        REQUESTED,
        TODAY,
    )
    assert 10 not in decision.scope.function_blocks and 4 in decision.scope.function_blocks
    assert decision.scope.history_length == 6
    assert decision.usage_point_ids == [3, 4] and decision.end is not None


def test_a_scope_without_fb_10_carries_no_gas() -> None:
    electric = espi_scope.parse("FB=1_3_4_5_13_14;IntervalDuration=900")
    assert carried_by(electric, 0) and not carried_by(electric, 1)
    assert carried_by(REQUESTED, 1)
