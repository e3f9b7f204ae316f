"""The streaming, hardened Green Button parser of the SDK (REQ.21 espi.xsd and
customer.xsd in Atom feeds)."""

from __future__ import annotations

from gbconnect.client.parser.errors import FeedError
from gbconnect.client.parser.feed import FeedStats, parse, readings
from gbconnect.client.parser.localtime import LocalTime
from gbconnect.client.parser.model import (
    CustomerRecord,
    MeterReading,
    Reading,
    ReadingType,
    UsagePoint,
    UsageSummary,
)

__all__ = [
    "CustomerRecord",
    "FeedError",
    "FeedStats",
    "LocalTime",
    "MeterReading",
    "Reading",
    "ReadingType",
    "UsagePoint",
    "UsageSummary",
    "parse",
    "readings",
]
