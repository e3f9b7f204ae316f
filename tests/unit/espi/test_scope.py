"""The ESPI scope grammar with the scopes utilities really send (STANDARD.md section 2)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from gbconnect.espi import scope

GBA = "FB=1_3_4_5_13_14_39;IntervalDuration=900_3600;BlockDuration=daily;HistoryLength=13"
PGE = (
    "FB=1_3_4_5_8_13_14_18_19_31_32_35_37_38_39_40_41_44_45_46_47;"
    "AdditionalScope=Usage_Billing_Basic_Account_ProgramEnrollment;IntervalDuration=900_3600;"
    "BlockDuration=Daily;HistoryLength=34214400;AccountCollection=3;BR=51234;dataCustodianId=PGE"
)
CONED = (
    "IntervalDuration=Monthly_3600_900_300;BlockDuration=Monthly_Daily;"
    "HistoryLength=63072000;BR=000092"
)
UTILITYAPI = (
    "FB=1_3_4_5_13_14_15_16_39;IntervalDuration=900;HistoryLength=24;"
    "PreferredAuthEndDate=1767225600"
)


def test_gba_example() -> None:
    s = scope.parse(GBA)
    assert s.function_blocks == {1, 3, 4, 5, 13, 14, 39}
    assert s.interval_durations == {"900", "3600"}
    assert s.history_length == 13 and s.history_seconds() == 13 * 2_629_746
    assert str(s) == GBA


def test_pge_example_with_more_than_three_blocks_and_extras() -> None:
    s = scope.parse(PGE)
    assert len(s.function_blocks) == 21  # the Java reference's regex allows three
    assert s.get("AdditionalScope") == ("Usage", "Billing", "Basic", "Account", "ProgramEnrollment")
    assert s.get("BR") == ("51234",) and s.get("dataCustodianId") == ("PGE",)
    assert s.history_seconds() == 34214400  # seconds, not months
    assert scope.parse(str(s)) == s


def test_con_edison_example_without_function_blocks() -> None:
    s = scope.parse(CONED)
    assert s.function_blocks == frozenset()
    assert s.interval_durations == {"monthly", "3600", "900", "300"}
    assert s.block_durations == {"monthly", "daily"}
    assert s.get("BR") == ("000092",)  # leading zeros kept


def test_utilityapi_example_with_preferred_end() -> None:
    s = scope.parse(UTILITYAPI)
    assert s.number("PreferredAuthEndDate") == 1767225600


def test_lenient_spelling() -> None:
    s = scope.parse(" fb=5_1_4 ; intervalduration=900; ;Unknown=x=y;")
    assert str(s) == "FB=1_4_5;IntervalDuration=900;Unknown=x=y"


@pytest.mark.parametrize(
    "bad",
    ["", "   ", "FB", "FB=", "FB=1_x", "FB=0", "HistoryLength=thirteen", "=5", "FB=1;;!x=3"],
)
def test_unreadable_scopes_are_refused(bad: str) -> None:
    with pytest.raises(scope.ScopeError):
        scope.parse(bad)


def test_within_and_narrow() -> None:
    cap = scope.parse(GBA)
    assert scope.parse("FB=1_4_5;IntervalDuration=900;HistoryLength=12").within(cap)
    assert not scope.parse("FB=1_4_5_10").within(cap)  # gas not registered
    assert not scope.parse("FB=1_4;HistoryLength=24").within(cap)  # longer history
    narrowed = scope.narrow(cap, function_blocks={1, 4, 5, 99}, history=24)
    assert narrowed.function_blocks == {1, 4, 5}  # never widened
    assert narrowed.history_length == 13
    assert scope.narrow(cap, history=3).history_length == 3


KEYS = st.sampled_from(["FB", "IntervalDuration", "BlockDuration", "HistoryLength", "BR", "Custom"])


@st.composite
def scopes(draw: st.DrawFn) -> str:
    parts = []
    for key in draw(st.lists(KEYS, min_size=1, max_size=6, unique=True)):
        if key == "FB":
            value = "_".join(str(v) for v in draw(st.lists(st.integers(1, 999), min_size=1)))
        elif key == "HistoryLength":
            value = str(draw(st.integers(0, 10**9)))
        elif key in ("IntervalDuration", "BlockDuration"):
            value = "_".join(
                draw(st.lists(st.sampled_from(["900", "3600", "daily", "Monthly"]), min_size=1))
            )
        else:
            value = draw(st.text("ABCxyz019", min_size=1, max_size=8))
        parts.append(f"{key}={value}")
    return ";".join(parts)


@given(scopes())
def test_parse_format_round_trip(text: str) -> None:
    parsed = scope.parse(text)
    assert scope.parse(str(parsed)) == parsed
    assert parsed.within(parsed)
