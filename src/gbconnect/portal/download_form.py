"""What the customer asked for on the Download My Data page, read and checked.

Green Button Download My Data (NAESB REQ.21 ESPI; the RetailCustomer receives the
same usage feed a third party would, FB_1/FB_3/FB_4): the customer picks services,
a period and a format. :func:`read_choice` turns the page's query parameters into a
:class:`DownloadChoice`, or refuses them:

- a service that is not one of the customer's own (someone else's, unknown, or not a
  number at all) is :class:`UnknownService`: the page answers 404, exactly as for a
  service that does not exist, so that nothing reveals another customer's;
- anything else the customer can fix (no service, a date that cannot be read, the
  start after the end, an unknown format) is a :class:`ChoiceError` carrying a
  sentence the customer understands and the field it is about.

Dates are whole days in the utility's time zone (``GBCONNECT_TIMEZONE``, the zone
IntervalBlocks are cut in), both ends included: "from 1 May to 3 May" is readings
starting from local midnight of 1 May up to, not including, local midnight of 4 May.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from gbconnect.i18n import N_
from gbconnect.i18n import gettext as _

#: The formats offered: key -> (label, file extension, media type).
FORMATS: dict[str, tuple[str, str, str]] = {
    "xml": (N_("Green Button XML (ESPI)"), "xml", "application/atom+xml"),
    "csv": (N_("Spreadsheet (CSV)"), "csv", "text/csv; charset=utf-8"),
}
#: Dates the page accepts (a browser's date picker stays well inside).
FIRST_YEAR, LAST_YEAR = 1900, 2999


class UnknownService(LookupError):
    """A service id that is not one of the customer's: answered as "not found"."""


class ChoiceError(ValueError):
    """A choice the customer can correct: ``message`` is shown on the form, next to
    ``field`` (``service``, ``from``, ``to`` or ``format``)."""

    def __init__(self, message: str, field: str) -> None:
        super().__init__(message)
        self.message = message
        self.field = field


@dataclass
class Typed:
    """What the customer typed, as typed: the form is shown again with it."""

    services: list[str] = field(default_factory=list)
    date_from: str = ""
    date_to: str = ""
    fmt: str = "xml"


@dataclass(frozen=True)
class DownloadChoice:
    """A checked request: the usage points (the customer's own, in id order), the
    reading-start window ``[lo, hi)`` in epoch seconds (``None``: unbounded) and the
    format key of :data:`FORMATS`."""

    usage_points: list[int]
    lo: int | None
    hi: int | None
    fmt: str
    first_day: date | None = None
    last_day: date | None = None

    @property
    def media_type(self) -> str:
        return FORMATS[self.fmt][2]

    def filename(self, username: str) -> str:
        """``GreenButton_<user>_<from>_<to>.<ext>``: ASCII letters, digits, ``-`` and
        ``_`` only, safe in a ``Content-Disposition`` header as it stands."""
        user = "".join(c if c.isascii() and (c.isalnum() or c in "-_") else "-" for c in username)
        first = self.first_day.isoformat() if self.first_day else "start"
        last = self.last_day.isoformat() if self.last_day else "latest"
        return f"GreenButton_{user[:40] or 'customer'}_{first}_{last}.{FORMATS[self.fmt][1]}"


def typed_of(params: Mapping[str, str], services: Sequence[str]) -> Typed:
    """The query parameters as typed (lengths bounded: they are shown again)."""
    return Typed(
        services=[s[:24] for s in services[:10_000]],
        date_from=params.get("from", "")[:32].strip(),
        date_to=params.get("to", "")[:32].strip(),
        fmt=params.get("format", "xml")[:16].strip().lower() or "xml",
    )


def _service_ids(typed: Typed, owned: Sequence[int]) -> list[int]:
    wanted: set[int] = set()
    for text in typed.services:
        if not text.isascii() or not text.isdigit() or int(text) not in owned:
            raise UnknownService(text)
        wanted.add(int(text))
    if not wanted:
        raise ChoiceError(_("Choose at least one service to download."), "service")
    return [i for i in owned if i in wanted]


def _day(text: str, name: str) -> date | None:
    if not text:
        return None
    try:
        day = date.fromisoformat(text)
    except ValueError:
        unread = (
            N_(
                "We could not read the start date “%(text)s”. Pick it in the calendar or "
                "type it as year-month-day, for example 2024-05-31."
            )
            if name == "from"
            else N_(
                "We could not read the end date “%(text)s”. Pick it in the calendar or "
                "type it as year-month-day, for example 2024-05-31."
            )
        )
        raise ChoiceError(_(unread, text=text), name) from None
    if not FIRST_YEAR <= day.year <= LAST_YEAR:
        outside = (
            N_("The start date must be between %(first)s and %(last)s.")
            if name == "from"
            else N_("The end date must be between %(first)s and %(last)s.")
        )
        raise ChoiceError(_(outside, first=FIRST_YEAR, last=LAST_YEAR), name)
    return day


def _midnight(day: date, zone: ZoneInfo) -> int:
    return int(datetime.combine(day, time(), tzinfo=zone).timestamp())


def read_choice(typed: Typed, owned: Sequence[int], zone: ZoneInfo) -> DownloadChoice:
    """Check ``typed`` against the customer's usage points ``owned``; raises
    :class:`UnknownService` or :class:`ChoiceError`."""
    ids = _service_ids(typed, owned)
    first = _day(typed.date_from, "from")
    last = _day(typed.date_to, "to")
    if first is not None and last is not None and first > last:
        raise ChoiceError(
            _(
                "The start date (%(first)s) is after the end date (%(last)s). "
                "Choose a start on or before the end.",
                first=first.isoformat(),
                last=last.isoformat(),
            ),
            "from",
        )
    if typed.fmt not in FORMATS:
        raise ChoiceError(
            _("Choose one of the formats offered: Green Button XML or a spreadsheet (CSV)."),
            "format",
        )
    lo = _midnight(first, zone) if first is not None else None
    hi = _midnight(last + timedelta(days=1), zone) if last is not None else None
    return DownloadChoice(ids, lo, hi, typed.fmt, first, last)


__all__ = [
    "FORMATS",
    "ChoiceError",
    "DownloadChoice",
    "Typed",
    "UnknownService",
    "read_choice",
    "typed_of",
]
