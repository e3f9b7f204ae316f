"""Phone numbers on customer accounts, kept in E.164 (ITU-T E.164: ``+``, a country
code, at most 15 digits), the form text-message services take.

:func:`normalize_phone` reads what a customer types (``(415) 555-0123``,
``+1 415 555 0123``, ``+66 81 234 5678``); a number without ``+`` is national, in
``default_country`` (1, the North American plan: ten digits, or eleven starting 1).
:func:`masked` shows a phone without giving it away (``•••• 0123``).
"""

from __future__ import annotations

import re
from typing import Any


def N_(message: str) -> str:
    """Mark a sentence for extraction (as :func:`gbconnect.i18n.N_`, which this
    package may not import: gbconnect.i18n imports the web layer, which imports
    customer models). Pages translate it where they show it."""
    return message


#: What may surround the digits of a typed number: spaces, dots, dashes, brackets.
_SEPARATORS = re.compile(r"[\s.\-()/]")
NOT_A_PHONE = N_("That is not a phone number. Type it with its area code, like (415) 555-0123.")
TOO_SHORT = N_("That phone number is too short. Type it with its area code.")
TOO_LONG = N_("That phone number is too long. Check it and try again.")


class PhoneError(ValueError):
    """A typed phone number that cannot be used; the message is the sentence to show,
    an English message id the page translates (``_(str(exc))``)."""


def normalize_phone(text: str, default_country: str = "1") -> str:
    """``text`` as E.164 (``+14155550123``), else :class:`PhoneError` with a sentence
    a customer understands (untranslated)."""
    raw = _SEPARATORS.sub("", text.strip())
    international = raw.startswith("+")
    if raw.startswith("00"):  # the international prefix of most countries
        raw, international = raw[2:], True
    digits = raw[1:] if raw.startswith("+") else raw
    if not digits or not digits.isascii() or not digits.isdigit():
        raise PhoneError(NOT_A_PHONE)
    if not international:
        if default_country == "1":
            if len(digits) == 11 and digits.startswith("1"):
                digits = digits[1:]
            if len(digits) < 10:
                raise PhoneError(TOO_SHORT)
            if len(digits) > 10:
                raise PhoneError(TOO_LONG)
            if digits[0] in "01":
                raise PhoneError(NOT_A_PHONE)
        digits = default_country + digits.lstrip("0")
    if digits[0] == "0":
        raise PhoneError(NOT_A_PHONE)
    if len(digits) < 8:
        raise PhoneError(TOO_SHORT)
    if len(digits) > 15:
        raise PhoneError(TOO_LONG)
    if digits.startswith("1") and (len(digits) != 11 or digits[1] in "01"):
        raise PhoneError(NOT_A_PHONE)
    return "+" + digits


def masked(phone: str | None) -> str:
    """The last four digits only: ``•••• 0123`` (empty without a phone)."""
    if not phone:
        return ""
    return "•••• " + phone[-4:]


def phone_in_details(details: Any) -> str | None:
    """The phone a customer.xsd Customer holds (its ``Organisation``'s ``phone1``, else
    ``phone2``: ``ituPhone``, else ``countryCode`` + ``areaCode`` + ``cityCode`` +
    ``localNumber``), normalized; None when there is none that reads as a phone."""
    organisation = details.get("Organisation") if isinstance(details, dict) else None
    if not isinstance(organisation, dict):
        return None
    for name in ("phone1", "phone2"):
        number = organisation.get(name)
        if not isinstance(number, dict):
            continue
        parts = [number.get(k) for k in ("countryCode", "areaCode", "cityCode", "localNumber")]
        text = number.get("ituPhone") or "".join(p for p in parts if isinstance(p, str))
        if isinstance(number.get("ituPhone"), str) or number.get("countryCode"):
            text = "+" + str(text).lstrip("+")
        try:
            return normalize_phone(str(text))
        except PhoneError:
            continue
    return None


__all__ = ["PhoneError", "masked", "normalize_phone", "phone_in_details"]
