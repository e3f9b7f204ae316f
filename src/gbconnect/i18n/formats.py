"""Dates, times, numbers and money as the current language writes them (Babel's CLDR
data): "30 June 2026" is "30 de junio de 2026" in Spanish and "30 มิถุนายน 2026"
in Thai."""

from __future__ import annotations

from datetime import date, datetime
from functools import cache

from babel import dates, numbers

from gbconnect.i18n import current

#: espi.xsd Currency is ISO 4217's numeric code; Babel wants the letters.
ISO_4217 = {840: "USD", 124: "CAD", 978: "EUR", 826: "GBP", 484: "MXN", 764: "THB"}


def locale_of(language: str | None = None) -> str:
    """The CLDR locale of a portal language (English is written the US way)."""
    language = language or current()
    return "en_US" if language == "en" else language


def day(value: date) -> str:
    """A day written out: "June 30, 2026", "30 de junio de 2026"."""
    return dates.format_date(value, format="long", locale=locale_of())


def short_day(value: date) -> str:
    """A day in few characters (tables, axes): "Jun 30, 2026"."""
    return dates.format_date(value, format="medium", locale=locale_of())


def moment(value: datetime) -> str:
    """A day and a time of day with its zone's abbreviation: "June 30, 2026, 14:05 PDT"."""
    time = dates.format_time(value, format="HH:mm", locale=locale_of())
    zone = value.tzname() or ""
    return f"{day(value.date())}, {time} {zone}".rstrip()


def day_of_month(value: date) -> str:
    """A day without its year, for axes: "Jun 30", "30 jun", "30 มิ.ย."."""
    return dates.format_skeleton("MMMd", value, locale=locale_of())


def short_month(value: date) -> str:
    """A month in few characters: "Jun 2026", "jun 2026"."""
    return dates.format_skeleton("yMMM", value, locale=locale_of())


def month(value: date) -> str:
    """A month and its year: "June 2026", "junio de 2026"."""
    return dates.format_skeleton("yMMMM", value, locale=locale_of())


@cache
def _separators(locale: str) -> dict[int, str]:
    """``str.translate`` table from Python's ``,`` and ``.`` to the locale's."""
    return str.maketrans(
        {",": numbers.get_group_symbol(locale), ".": numbers.get_decimal_symbol(locale)}
    )


def number(value: float, digits: int = 0) -> str:
    """A number with the language's separators and exactly ``digits`` decimals
    ("12,345.68", "12.345,68"). Formatted by Python and re-punctuated: tables of
    thousands of figures stay fast."""
    return f"{value:,.{max(0, digits)}f}".translate(_separators(locale_of()))


def money(amount: float, currency: int | None) -> str:
    """An amount of an espi.xsd currency: "$88.12", "88,12 US$"; a currency Babel
    does not know by number is written as its code after the amount."""
    code = ISO_4217.get(currency) if currency is not None else None
    if code is None:
        text = number(amount, 2)
        return text if currency is None else f"{text} ({currency})"
    return numbers.format_currency(amount, code, locale=locale_of())
