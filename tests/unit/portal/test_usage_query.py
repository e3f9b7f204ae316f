"""The query of the usage page (:func:`gbconnect.portal.usage_page.parse_query`)."""

from __future__ import annotations

from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from gbconnect.portal.usage_page import UsageQueryError, default_step, parse_query


def test_a_full_query() -> None:
    q = parse_query(
        {"service": "42", "from": "2024-01-01", "to": "2024-01-31", "step": "day", "view": "table"}
    )
    assert (q.service, q.first, q.last, q.step, q.view) == (
        42,
        date(2024, 1, 1),
        date(2024, 1, 31),
        "day",
        "table",
    )
    empty = parse_query({})
    assert (empty.service, empty.first, empty.step, empty.view) == (None, None, None, "chart")


@pytest.mark.parametrize(
    "params",
    [
        {"service": "-1"},
        {"service": "1e3"},
        {"service": "9" * 20},
        {"from": "2024-02-30"},
        {"to": "3000-01-01"},
        {"from": "2024-02-02", "to": "2024-02-01"},
        {"step": "HOUR"},
        {"view": "svg"},
    ],
)
def test_bad_values_are_refused_with_a_sentence(params: dict[str, str]) -> None:
    with pytest.raises(UsageQueryError) as caught:
        parse_query(params)
    assert str(caught.value).endswith(".")


def test_default_step_by_length_and_by_the_finest_channel() -> None:
    assert default_step(1, 900) == "hour"
    assert default_step(1, 86400) == "day"
    assert default_step(30, 900) == "day"
    assert default_step(365, 900) == "month"


@given(
    st.dictionaries(
        st.sampled_from(["service", "from", "to", "step", "view"]),
        st.text(max_size=40),
    )
)
def test_any_query_is_checked_or_refused_never_an_other_error(params: dict[str, str]) -> None:
    try:
        q = parse_query(params)
    except UsageQueryError:
        return
    assert q.view in ("chart", "table")
    assert q.service is None or 0 <= q.service < 2**63
