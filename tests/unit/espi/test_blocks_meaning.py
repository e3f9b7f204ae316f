"""What each function block means (REQ.21 section 5; STANDARD.md section 5), and that
the consent page and the resource server's scoping read the one table."""

from __future__ import annotations

import subprocess
import sys

import pytest
from hypothesis import given
from hypothesis import strategies as st

from gbconnect.config import Settings
from gbconnect.errors import InputError
from gbconnect.espi import blocks as fb
from gbconnect.espi import scope as espi_scope
from gbconnect.oauth.scoping import FULL, Grant
from gbconnect.oauth.services import GrantError
from gbconnect.portal import consent


def _default_offered() -> frozenset[int]:
    text = str(Settings.model_fields["function_blocks"].default)
    return frozenset(int(p) for p in text.split("_"))


def _default_scope_blocks() -> frozenset[int]:
    return espi_scope.parse(str(Settings.model_fields["default_scope"].default)).function_blocks


def _grants_data(b: fb.FunctionBlock) -> bool:
    return bool(b.services or b.carries or b.group)


def test_every_block_offered_by_default_is_in_the_table() -> None:
    offered = _default_offered()
    assert offered and offered <= set(fb.TABLE)
    assert _default_scope_blocks() <= offered
    for n in offered:
        b = fb.block(n)
        assert b is not None and b.number == n and b.name


def test_the_consent_groups_cover_every_offered_data_block() -> None:
    """Unticking groups can remove every block that shares data; what no group holds
    is a metering block (kept with the usage groups) or grants no data."""
    grouped = {n for g in consent.GROUPS for n in g.blocks}
    for n in _default_offered():
        b = fb.TABLE[n]
        if _grants_data(b) and not b.other_services:
            assert n in grouped or b.metering, n
    assert grouped >= fb.DATA_BLOCKS
    assert consent.GROUPS is fb.DATA_GROUPS


def test_groups_are_disjoint_and_named_by_their_blocks() -> None:
    keys = [g.key for g in fb.DATA_GROUPS]
    assert len(keys) == len(set(keys))
    seen: set[int] = set()
    for g in fb.DATA_GROUPS:
        assert g.blocks and not g.blocks & seen, g.key
        seen |= g.blocks
        assert fb.group(g.key) is g
        assert all(fb.TABLE[n].group == g.key for n in g.blocks)
    assert fb.group("nothing") is None
    assert {n for n, b in fb.TABLE.items() if b.group} == seen


def test_the_groups_as_the_consent_page_shows_them() -> None:
    groups = {g.key: g.blocks for g in fb.DATA_GROUPS}
    assert groups == {
        "electric": {5, 6, 7, 8, 9},
        "gas": {10},
        "water": {11},
        "cost": {12},
        "billing": {15, 16, 26, 27, 28},
        "quality": {17},
        "account": set(range(46, 72)),
    }
    assert [g.key for g in fb.DATA_GROUPS if g.usage] == ["electric", "gas", "water"]


def test_retail_customer_blocks_are_the_customer_xsd_records() -> None:
    assert frozenset(range(46, 72)) == fb.CUSTOMER_RECORD_BLOCKS
    assert all(fb.TABLE[n].customer_record for n in range(46, 72))
    assert not any(b.customer_record for n, b in fb.TABLE.items() if n < 46)
    assert "account and agreement" in fb.TABLE[57].name


def test_metering_usage_and_data_blocks() -> None:
    assert {4, 18, 19, 29} == fb.METERING_BLOCKS
    assert {5, 6, 7, 8, 9, 10, 11} == fb.USAGE_BLOCKS
    assert fb.USAGE_BLOCKS | {15, 16, 17} | set(range(46, 72)) == fb.DATA_BLOCKS


@pytest.mark.parametrize(
    ("kind", "blocks"),
    [
        (fb.ELECTRICITY, {4, 5, 6, 7, 8, 9, 15, 16}),
        (fb.GAS, {10}),
        (fb.WATER, {11}),
        (4, {1}),  # heat: no block of its own, carried by FB_1 (common)
        (9, {1}),
        (700, {1}),
    ],
)
def test_blocks_for_service(kind: int, blocks: set[int]) -> None:
    assert fb.blocks_for_service(kind) == blocks


@pytest.mark.parametrize("kind", [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 42])
def test_grant_service_agrees_with_the_table(kind: int) -> None:
    for n in (*fb.TABLE, 2, 20, 45, 99):
        assert Grant(frozenset({n})).service(kind) == (n in fb.blocks_for_service(kind)), n
    assert FULL.service(kind)
    assert not Grant(frozenset()).service(kind)


def test_grant_data_groups_follow_what_blocks_carry() -> None:
    def only(n: int) -> Grant:
        return Grant(frozenset({n}))

    for n in (*fb.TABLE, 99):
        carries = fb.TABLE[n].carries if n in fb.TABLE else frozenset()
        g = only(n)
        assert g.intervals == (fb.Carries.INTERVALS in carries) == (n == 4)
        assert g.interval_cost == (fb.Carries.INTERVAL_COST in carries) == (n == 12)
        assert g.summaries == (fb.Carries.SUMMARIES in carries) == (n in (15, 16))
        assert g.summary_cost == (fb.Carries.SUMMARY_COST in carries) == (n == 16)
        assert g.quality == (fb.Carries.POWER_QUALITY in carries) == (n == 17)
        assert g.customer_data == (fb.Carries.CUSTOMER_RECORDS in carries) == (46 <= n <= 71)
    assert FULL.intervals and FULL.interval_cost and FULL.customer_data
    assert Grant(frozenset({3, 13})).has(13) and not Grant(frozenset({3, 13})).has(4, 5)


def test_not_offered() -> None:
    assert fb.not_offered(frozenset({1, 99, 4, 36}), frozenset({1, 4})) == [36, 99]
    assert fb.not_offered(frozenset({1}), frozenset({1, 4})) == []


# -- the consent page's narrowing reads the table ----------------------------------------

WIDE = espi_scope.parse(
    "FB=1_3_4_5_10_12_13_14_15_16_17_18_19_51_57;IntervalDuration=900;HistoryLength=13"
)


def test_unticking_every_usage_group_drops_the_metering_blocks() -> None:
    granted = consent.narrowed_scope(WIDE, {"billing", "account"}, None)
    assert granted.function_blocks == {1, 3, 13, 14, 15, 16, 51, 57}
    kept = consent.narrowed_scope(WIDE, {"gas"}, None)
    assert kept.function_blocks == {1, 3, 4, 10, 13, 14, 18, 19}


def test_nothing_to_share_is_refused() -> None:
    with pytest.raises(GrantError, match="at least one kind of data"):
        consent.narrowed_scope(WIDE, {"cost"}, None)


def test_history_choices_count_months_of_the_one_month_constant() -> None:
    in_seconds = espi_scope.parse(f"FB=1_4_5;HistoryLength={13 * espi_scope.MONTH_SECONDS}")
    choices = consent.history_choices(in_seconds)
    assert choices[0][1] == "13 months"
    assert (12 * espi_scope.MONTH_SECONDS, "12 months") in choices
    assert espi_scope.parse("HistoryLength=2").history_seconds() == 2 * espi_scope.MONTH_SECONDS


@given(st.sets(st.sampled_from([g.key for g in fb.DATA_GROUPS])))
def test_narrowing_never_widens(kept: set[str]) -> None:
    try:
        granted = consent.narrowed_scope(WIDE, kept, None)
    except GrantError:
        asked = {g.key for g in consent.groups_of(WIDE) if g.blocks & fb.DATA_BLOCKS}
        assert not kept & asked
        return
    assert granted.function_blocks <= WIDE.function_blocks
    assert granted.within(WIDE)
    for g in fb.DATA_GROUPS:
        if g.key not in kept:
            assert not granted.function_blocks & g.blocks


# -- errors and layering ----------------------------------------------------------------


def test_scope_error_is_an_input_error() -> None:
    with pytest.raises(espi_scope.ScopeError) as caught:
        espi_scope.parse("FB=x")
    err = caught.value
    assert isinstance(err, InputError) and isinstance(err, ValueError)
    assert err.status == 400 and err.error == "invalid_scope"
    assert "function block" in err.description


def test_espi_blocks_imports_no_database_and_no_web() -> None:
    code = (
        "import sys, gbconnect.espi.blocks, gbconnect.espi.scope; "
        "bad = [m for m in sys.modules if m.split('.')[0] in "
        "('sqlalchemy', 'starlette', 'fastapi', 'authlib') "
        "or m.startswith(('gbconnect.db', 'gbconnect.oauth', 'gbconnect.web'))]; "
        "print(bad); sys.exit(1 if bad else 0)"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr


def test_older_customer_numbers_are_offered_as_their_current_blocks() -> None:
    offered = frozenset({1, 51, 57})
    assert fb.not_offered(frozenset({1, 46, 47}), offered) == []
    assert fb.not_offered(frozenset({48}), offered) == [48]
    assert fb.with_current_numbers(frozenset({46, 47})) == {46, 47, 51, 57}
    assert all(fb.TABLE[n].customer_record for n in fb.OLDER_NUMBERS)
    assert Grant(blocks=fb.with_current_numbers(frozenset({46})), lo=None, hi=None).customer_data


def test_scope_within_compares_current_numbers() -> None:
    cap = espi_scope.parse("FB=1_46_47")
    assert espi_scope.parse("FB=1_51_57").within(cap)
    assert espi_scope.parse("FB=47").within(espi_scope.parse("FB=57"))
    assert not espi_scope.parse("FB=58").within(cap)


def test_push_notification_is_offered_by_default_and_refused_when_not_configured() -> None:
    assert {36, 38, 39} <= _default_offered()
    assert fb.not_offered(frozenset({39}), frozenset({1})) == [39]
