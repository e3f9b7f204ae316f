"""The packed IntervalBlock codec round-trips any series exactly (hypothesis)."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from gbconnect.usage import blocks

INT48 = st.integers(-(2**47) + 1, 2**47 - 1)
OPT = st.none() | INT48


@st.composite
def readings(draw: st.DrawFn) -> blocks.Readings:
    n = draw(st.integers(0, 60))
    regular = draw(st.booleans())
    start = draw(st.integers(0, 2**40))
    if regular:
        step = draw(st.sampled_from([0, 60, 300, 900, 3600, 86400])) or 900
        starts = [start + i * step for i in range(n)]
        durations = [step] * n
    else:
        gaps = draw(st.lists(st.integers(1, 100_000), min_size=n, max_size=n))
        starts = []
        t = start
        for g in gaps:
            starts.append(t)
            t += g
        durations = draw(st.lists(st.integers(0, 2**32), min_size=n, max_size=n))
    r = blocks.Readings(
        starts=starts, durations=durations, values=draw(st.lists(OPT, min_size=n, max_size=n))
    )
    if draw(st.booleans()):
        r.costs = draw(st.lists(OPT, min_size=n, max_size=n))
    if draw(st.booleans()):
        r.qualities = draw(
            st.lists(st.lists(st.integers(0, 65535), max_size=3).map(tuple), min_size=n, max_size=n)
        )
    for name in ("tou", "cpp", "tiers"):
        if draw(st.booleans()):
            setattr(
                r,
                name,
                draw(st.lists(st.none() | st.integers(-32768, 32767), min_size=n, max_size=n)),
            )
    return r


@given(readings())
def test_round_trip(r: blocks.Readings) -> None:
    assert blocks.decode(blocks.encode(r)) == r


@given(readings())
def test_array_encoder_matches_general_encoder(r: blocks.Readings) -> None:
    r.tou = r.cpp = r.tiers = None

    def arr(column: list[int | None]) -> np.ndarray:
        return np.array([blocks.ABSENT if v is None else v for v in column], dtype=np.int64)

    packed = blocks.encode_arrays(
        np.array(r.starts, dtype=np.int64),
        np.array(r.durations, dtype=np.int64),
        arr(r.values),
        None if r.costs is None else arr(r.costs),
        r.qualities,
    )
    assert packed == blocks.encode(r)
    assert blocks.decode(packed) == r


@given(st.integers(0, 2**40), st.sampled_from([900, 3600]), st.lists(INT48, max_size=100))
def test_regular_fast_path_matches_general_encoder(
    start: int, step: int, values: list[int]
) -> None:
    fast = blocks.encode_regular(start, step, values)
    general = blocks.Readings(
        starts=[start + i * step for i in range(len(values))],
        durations=[step] * len(values),
        values=list(values),
    )
    if values:
        assert fast == blocks.encode(general)
    assert blocks.decode(fast).values == values


def test_regular_block_is_compact() -> None:
    r = blocks.Readings(
        starts=[i * 900 for i in range(96)], durations=[900] * 96, values=list(range(96))
    )
    assert len(blocks.encode(r)) == 6 + 16 + 96 * 8  # header, start+step, values


def test_irregular_dst_day_keeps_explicit_times() -> None:
    r = blocks.Readings(starts=[0, 3600, 3600 + 7200], durations=[3600, 7200, 0], values=[1, 2, 3])
    data = blocks.encode(r)
    assert data[1] & blocks.FLAG_IRREGULAR
    assert blocks.decode(data) == r


@pytest.mark.parametrize(
    "bad",
    [
        blocks.Readings(starts=[0, 0], durations=[900, 900], values=[1, 2]),
        blocks.Readings(starts=[900, 0], durations=[900, 900], values=[1, 2]),
        blocks.Readings(starts=[0], durations=[-1], values=[1]),
        blocks.Readings(starts=[0], durations=[900], values=[1, 2]),
        blocks.Readings(starts=[0], durations=[900], values=[1], qualities=[(70000,)]),
        blocks.Readings(starts=[0], durations=[900], values=[2**70]),
    ],
)
def test_encode_refuses_what_cannot_be_a_block(bad: blocks.Readings) -> None:
    with pytest.raises(blocks.BlockCodecError):
        blocks.encode(bad)


def test_decode_refuses_corrupt_data() -> None:
    good = blocks.encode_regular(0, 900, [1, 2, 3])
    for bad in (b"", good[:-1], good + b"x", b"\x09" + good[1:]):
        with pytest.raises(blocks.BlockCodecError):
            blocks.decode(bad)


def test_decode_arrays_matches_decode_regular_and_irregular() -> None:
    """The numpy columns are the starts and values :func:`blocks.decode` gives (ABSENT
    where a reading has no value), for a regular block and an irregular one."""
    regular = blocks.encode_regular(1000, 900, [5, 7, 11])
    irregular = blocks.encode(
        blocks.Readings(
            starts=[0, 3600, 10800],
            durations=[3600, 7200, 3600],
            values=[1, None, 3],
            costs=[10, 20, None],
        )
    )
    for data in (regular, irregular):
        starts, values = blocks.decode_arrays(data)
        full = blocks.decode(data)
        assert starts.tolist() == full.starts
        assert [None if v == blocks.ABSENT else v for v in values.tolist()] == full.values
