"""Phone numbers as customers type them, kept in E.164 (gbconnect.customer.phones)."""

from __future__ import annotations

import pytest

from gbconnect.customer.phones import PhoneError, masked, normalize_phone, phone_in_details


@pytest.mark.parametrize(
    ("typed", "kept"),
    [
        ("(415) 555-0123", "+14155550123"),
        ("415-555-0123", "+14155550123"),
        ("415.555.0123", "+14155550123"),
        ("+1 415 555 0123", "+14155550123"),
        ("1 415 555 0123", "+14155550123"),
        ("  4155550123 ", "+14155550123"),
        ("+66 81 234 5678", "+66812345678"),
        ("0066 81 234 5678", "+66812345678"),
        ("+44 20 7946 0958", "+442079460958"),
    ],
)
def test_typed_numbers_are_kept_in_e164(typed: str, kept: str) -> None:
    assert normalize_phone(typed) == kept


def test_a_national_number_of_another_default_country() -> None:
    assert normalize_phone("081 234 5678", default_country="66") == "+66812345678"


@pytest.mark.parametrize(
    ("typed", "sentence"),
    [
        ("", "That is not a phone number."),
        ("call me", "That is not a phone number."),
        ("415-555-01x3", "That is not a phone number."),
        ("555-0123", "too short"),
        ("+66 81", "too short"),
        ("415 555 0123 4567", "too long"),
        ("+1 234 567 8901 2345 67", "too long"),
        ("(015) 555-0123", "That is not a phone number."),
        ("+0 415 555 0123", "That is not a phone number."),
        ("+1 415 555 01234", "That is not a phone number."),
        ("٤١٥٥٥٥٠١٢٣", "That is not a phone number."),
    ],
)
def test_junk_is_refused_with_a_sentence(typed: str, sentence: str) -> None:
    with pytest.raises(PhoneError) as caught:
        normalize_phone(typed)
    assert sentence in str(caught.value)
    assert isinstance(caught.value, ValueError)


def test_masked_shows_the_last_four_digits() -> None:
    assert masked("+14155550123") == "•••• 0123"
    assert masked(None) == ""


def test_the_phone_a_customer_xsd_customer_holds() -> None:
    def customer(**phone1: str) -> dict[str, object]:
        return {"kind": "residential", "Organisation": {"phone1": phone1}}

    assert phone_in_details(customer(ituPhone="+14155550123")) == "+14155550123"
    assert phone_in_details(customer(ituPhone="66812345678")) == "+66812345678"
    got = phone_in_details(customer(countryCode="1", areaCode="415", localNumber="555-0123"))
    assert got == "+14155550123"
    assert phone_in_details(customer(areaCode="415", localNumber="5550123")) == "+14155550123"
    second = {
        "Organisation": {"phone1": {"localNumber": "x"}, "phone2": {"ituPhone": "+1 212 555 0100"}}
    }
    assert phone_in_details(second) == "+12125550100"
    assert phone_in_details(customer(localNumber="555")) is None
    assert phone_in_details({"kind": "residential"}) is None
    assert phone_in_details(None) is None
