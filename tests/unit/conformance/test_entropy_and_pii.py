"""The FB_13 judgements of the conformance tester (TC007-011): at least 48 bits,
estimated from length x log2(alphabet), and no personal data in tokens and ids."""

from __future__ import annotations

import math

import pytest

from gbconnect.conformance.cases.tc import MIN_BITS, _ids, entropy_bits, personal_data


@pytest.mark.parametrize(
    ("value", "bits"),
    [
        ("1234567890123456", 16 * math.log2(10)),
        ("386a85f1f52886a3a05d8bd2d299a3ab", 32 * 4),
        ("egL8d0O25p8t1kcr1ay1eXEtBqheVUSFsjapSS6M8JM", 43 * math.log2(62)),
        ("egL8d0O25p8t1kcr1ay1eXEtBqheVUSF-sjapSS6M8JM", 44 * 6),
        ("xyz", 3 * math.log2(36)),
        ("", 0.0),
        ("a b!", 4 * math.log2(94)),
    ],
)
def test_entropy_is_length_times_the_alphabet(value: str, bits: float) -> None:
    assert entropy_bits(value) == pytest.approx(bits)


def test_short_ids_fall_under_48_bits_long_ones_pass() -> None:
    assert entropy_bits("12345678901234") < MIN_BITS  # 14 digits: 46.5 bits
    assert entropy_bits("123456789012345") >= MIN_BITS  # 15 digits: 49.8 bits
    assert entropy_bits("1f2e3d4c5b6a") == MIN_BITS  # 12 hex digits


def test_personal_data_is_found_case_insensitively() -> None:
    assert personal_data("tok-ALICE-123", ["alice"]) == "alice"
    assert personal_data("xx-jdoe-yy", ["jdoe@example.com"]) == "jdoe"
    assert personal_data("opaque-value", ["alice", "jdoe@example.com"]) is None
    # Too short to judge (would match by chance).
    assert personal_data("abxyz", ["ab"]) is None


def test_resource_ids_are_the_segments_after_a_resource_name() -> None:
    url = "https://dc/DataCustodian/espi/1_1/resource/Subscription/5075/UsagePoint/8583"
    assert _ids(url) == ["5075", "8583"]
    assert _ids(None) == []
