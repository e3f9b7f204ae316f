"""What each ESPI function block means (REQ.21 section 5 "function blocks"; STANDARD.md
section 5): the one table the consent page, the resource server's scoping, third-party
registration and the authorization server read.

A Data Custodian declares the blocks it offers; a scope's ``FB=`` list names the blocks
a third party asks for (:mod:`gbconnect.espi.scope`). For the data a grant lets a third
party read, a block is described by

* the **data group** it belongs to, as the consent page explains it to a customer
  (electricity usage, natural gas, water, interval cost, bills, power quality,
  account details); unticking a group removes its blocks;
* the **service kinds** whose usage points it puts in scope (espi.xsd ServiceKind:
  0 electricity, 1 gas, 2 water). FB_4 (interval metering), FB_5-9 (electricity
  intervals, demand, net metering, forward and reverse, registers) and FB_15/16
  (usage summaries) carry electricity, FB_10 natural gas, FB_11 water; a service kind
  with no block of its own (heat, sewerage...) is carried by FB_1 (common);
* what it **carries** into a feed beyond the usage point itself
  (:class:`Carries`): interval data (FB_4), interval cost (FB_12), usage summaries
  (FB_15/16) with their cost (FB_16), power quality (FB_17), the retail customer's
  customer.xsd records (FB_46-71);
* whether it is a **metering** block (FB_4, 18, 19, 29): it means something only with
  a commodity's usage, so the consent page keeps it while any usage group is kept and
  drops it with the last one.

Blocks that grant no data (FB_3 core, FB_13 security, FB_14/31 OAuth, FB_32-35 REST
and bulk, FB_36 registration, FB_37-41 and 44 protocol features) are in the table with
their name only. A block the table does not know grants nothing beyond its number.

The retail customer blocks had other numbers before ESPI 4.0 ("older numbering:
46-50", STANDARD.md section 5), and certified scopes still use them (PG&E's ends in
``_46_47``). :data:`OLDER_NUMBERS` maps each to its current block; a scope naming the
older number is offered when the current one is (:func:`not_offered`) and grants what
the current one grants (:func:`with_current_numbers`). The mapping follows the order of
the customer.xsd records: 46 common (Customer, now 51), 47 account and agreement (now
57), 48 service location (now 58), 49 meter (now 60), 50 billing (now 56).

FB_38 "on-demand requests" is what ``GET Batch/Subscription/{id}`` and
``GET Batch/Bulk/{bulkId}`` already do: the data is answered at once (200) whenever
the third party asks, with no scheduled delivery needed.

FB_39 (push notification) is offered: a ``BatchList`` is POSTed to the third party's
``thirdPartyNotifyUri`` when its data, authorizations or registration change
(:mod:`gbconnect.jobs`).
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

ELECTRICITY = 0
"""espi.xsd ServiceKind ``electricity``."""
GAS = 1
"""espi.xsd ServiceKind ``gas``."""
WATER = 2
"""espi.xsd ServiceKind ``water``."""


class Carries(enum.Enum):
    """What a block adds to a feed beyond the usage point (STANDARD.md section 5)."""

    INTERVALS = "MeterReading, ReadingType and IntervalBlock"
    INTERVAL_COST = "IntervalReading/cost with ReadingType/currency"
    SUMMARIES = "UsageSummary"
    SUMMARY_COST = "UsageSummary billLastPeriod, costAdditionalLastPeriod and currency"
    POWER_QUALITY = "ElectricPowerQualitySummary"
    CUSTOMER_RECORDS = "retail customer records (customer.xsd)"


@dataclass(frozen=True)
class FunctionBlock:
    """One function block of REQ.21 section 5."""

    number: int
    name: str
    #: The key of its data group on the consent page (:data:`DATA_GROUPS`), if any.
    group: str | None = None
    #: The ServiceKinds whose usage points it puts in scope.
    services: frozenset[int] = frozenset()
    #: What it adds to a feed beyond the usage point.
    carries: frozenset[Carries] = frozenset()
    #: Means something only with a commodity's usage (kept with any usage group).
    metering: bool = False
    #: Carries the usage points of service kinds that have no block of their own.
    other_services: bool = False

    @property
    def customer_record(self) -> bool:
        """A retail customer (customer.xsd) block."""
        return Carries.CUSTOMER_RECORDS in self.carries


@dataclass(frozen=True)
class DataGroup:
    """A kind of data as the consent page names it, and the blocks that make it up."""

    key: str
    label: str
    blocks: frozenset[int]
    #: A commodity's usage (electricity, gas, water): metering blocks go with these.
    usage: bool = False


_E = frozenset({ELECTRICITY})
_INTERVALS = frozenset({Carries.INTERVALS})
_SUMMARIES = frozenset({Carries.SUMMARIES})
_CUSTOMER = frozenset({Carries.CUSTOMER_RECORDS})

#: Names of the retail customer blocks (STANDARD.md section 5, "51-71").
_CUSTOMER_NAMES = {
    51: "Retail customer: common",
    53: "Retail customer: connect",
    55: "Retail customer: demographic",
    56: "Retail customer: billing",
    57: "Retail customer: account and agreement",
    58: "Retail customer: service location (referencing its UsagePoints)",
    60: "Retail customer: meter",
    61: "Retail customer: end device",
    64: "Retail customer: security",
    67: "Retail customer: bulk",
    71: "Retail customer: billing statement",
}


#: The retail customer blocks' numbers before ESPI 4.0 and their current blocks
#: (STANDARD.md section 5, "older numbering: 46-50"; see the module docstring).
OLDER_NUMBERS: dict[int, int] = {46: 51, 47: 57, 48: 58, 49: 60, 50: 56}


def _customer_block(n: int) -> FunctionBlock:
    if n in OLDER_NUMBERS:
        current = OLDER_NUMBERS[n]
        name = f"{_CUSTOMER_NAMES[current]} (older number of FB_{current})"
    else:
        name = _CUSTOMER_NAMES.get(n, f"Retail customer (customer.xsd, FB_{n})")
    return FunctionBlock(n, name, group="account", carries=_CUSTOMER)


#: Every function block the project knows, by number (REQ.21 section 5).
TABLE: dict[int, FunctionBlock] = {
    b.number: b
    for b in (
        FunctionBlock(
            1,
            "Common: feed and entry ids, titles, dates, UsagePoint, LocalTimeParameters",
            other_services=True,
        ),
        FunctionBlock(
            3,
            "Core Connect My Data: ApplicationInformation, Authorization, "
            "Batch/Subscription, ReadServiceStatus",
        ),
        FunctionBlock(
            4,
            "Interval metering: MeterReading, ReadingType, IntervalBlock",
            services=_E,
            carries=_INTERVALS,
            metering=True,
        ),
        FunctionBlock(5, "Electricity interval data", group="electric", services=_E),
        FunctionBlock(6, "Demand", group="electric", services=_E),
        FunctionBlock(7, "Net metering", group="electric", services=_E),
        FunctionBlock(8, "Forward and reverse energy", group="electric", services=_E),
        FunctionBlock(9, "Register values", group="electric", services=_E),
        FunctionBlock(10, "Natural gas", group="gas", services=frozenset({GAS})),
        FunctionBlock(11, "Water", group="water", services=frozenset({WATER})),
        FunctionBlock(
            12,
            "Cost of interval data",
            group="cost",
            carries=frozenset({Carries.INTERVAL_COST}),
        ),
        FunctionBlock(13, "Security and privacy"),
        FunctionBlock(14, "OAuth with pre-negotiated scope"),
        FunctionBlock(15, "UsageSummary", group="billing", services=_E, carries=_SUMMARIES),
        FunctionBlock(
            16,
            "UsageSummary with cost",
            group="billing",
            services=_E,
            carries=frozenset({Carries.SUMMARIES, Carries.SUMMARY_COST}),
        ),
        FunctionBlock(
            17,
            "ElectricPowerQualitySummary",
            group="quality",
            carries=frozenset({Carries.POWER_QUALITY}),
        ),
        FunctionBlock(18, "Multiple UsagePoints per authorization", metering=True),
        FunctionBlock(19, "Partial updates (IntervalBlocks without the whole tree)", metering=True),
        FunctionBlock(26, "Bill line items (costAdditionalDetailLastPeriod)", group="billing"),
        FunctionBlock(27, "UsageSummary demands and previous-day values", group="billing"),
        FunctionBlock(28, "UsageSummary billToDate", group="billing"),
        FunctionBlock(29, "Temperature interval data", metering=True),
        FunctionBlock(31, "OAuth without pre-negotiated scope"),
        FunctionBlock(32, "Resource-level REST"),
        FunctionBlock(33, "Management REST"),
        FunctionBlock(34, "SFTP bulk (being removed in ESPI 4.1)"),
        FunctionBlock(35, "REST bulk"),
        FunctionBlock(36, "Dynamic third-party registration (RFC 7591/7592)"),
        FunctionBlock(37, "Query parameters"),
        FunctionBlock(
            38,
            "On-demand requests: GET Batch/Subscription and Batch/Bulk answer at once",
        ),
        FunctionBlock(39, "Push notification"),
        FunctionBlock(40, "Offline (paper) authorization"),
        FunctionBlock(41, "Manage Authorization"),
        FunctionBlock(44, "Manage ApplicationInformation"),
        *(_customer_block(n) for n in range(46, 72)),
    )
}


def N_(message: str) -> str:
    """Mark a label for the translation catalogs; the portal translates it where it
    is shown (espi imports nothing of the application, so it is not gbconnect.i18n's)."""
    return message


_GROUP_LABELS = (
    ("electric", N_("Electricity usage, interval by interval"), True),
    ("gas", N_("Natural gas usage"), True),
    ("water", N_("Water usage"), True),
    ("cost", N_("What each interval cost"), False),
    ("billing", N_("Bills and billing summaries"), False),
    ("quality", N_("Power quality summaries"), False),
    ("account", N_("Account details: your name, address, accounts and meters"), False),
)

#: The data groups of the consent page, in the order it shows them.
DATA_GROUPS: tuple[DataGroup, ...] = tuple(
    DataGroup(key, label, frozenset(n for n, b in TABLE.items() if b.group == key), usage)
    for key, label, usage in _GROUP_LABELS
)


def carrying(what: Carries) -> frozenset[int]:
    """The blocks that carry ``what`` into a feed."""
    return frozenset(n for n, b in TABLE.items() if what in b.carries)


#: The retail customer blocks (FB_46-71: customer.xsd records).
CUSTOMER_RECORD_BLOCKS = carrying(Carries.CUSTOMER_RECORDS)
#: The blocks of a commodity's usage (FB_5-11).
USAGE_BLOCKS: frozenset[int] = frozenset(n for g in DATA_GROUPS if g.usage for n in g.blocks)
#: Metering blocks, kept while any usage block is kept (FB_4, 18, 19, 29).
METERING_BLOCKS = frozenset(n for n, b in TABLE.items() if b.metering)
#: The blocks that share data on their own: usage, summaries, power quality, customer
#: records. Interval cost (FB_12) and the billing extensions (FB_26-28) only add to them.
DATA_BLOCKS = (
    USAGE_BLOCKS
    | carrying(Carries.SUMMARIES)
    | carrying(Carries.POWER_QUALITY)
    | CUSTOMER_RECORD_BLOCKS
)

_BY_SERVICE: dict[int, frozenset[int]] = {
    kind: frozenset(n for n, b in TABLE.items() if kind in b.services)
    for kind in sorted({k for b in TABLE.values() for k in b.services})
}
_OTHER_SERVICES = frozenset(n for n, b in TABLE.items() if b.other_services)


def blocks_for_service(kind: int) -> frozenset[int]:
    """The blocks any one of which puts a usage point of ServiceKind ``kind`` in scope
    (FB_4-9 and 15/16 electricity, FB_10 gas, FB_11 water, FB_1 any other kind)."""
    return _BY_SERVICE.get(kind, _OTHER_SERVICES)


def block(number: int) -> FunctionBlock | None:
    """The block ``number``, or None when the table does not know it."""
    return TABLE.get(number)


def group(key: str) -> DataGroup | None:
    """The data group ``key``, or None."""
    return next((g for g in DATA_GROUPS if g.key == key), None)


def with_current_numbers(blocks: frozenset[int]) -> frozenset[int]:
    """``blocks`` with the current number of each older retail customer number
    (:data:`OLDER_NUMBERS`) added: what a scope naming them grants."""
    return blocks | {OLDER_NUMBERS[n] for n in blocks if n in OLDER_NUMBERS}


def current_numbers(blocks: frozenset[int]) -> frozenset[int]:
    """``blocks`` with each older retail customer number replaced by its current one:
    how two scopes' blocks are compared."""
    return frozenset(OLDER_NUMBERS.get(n, n) for n in blocks)


def not_offered(asked: frozenset[int], offered: frozenset[int]) -> list[int]:
    """The asked blocks a Data Custodian does not offer, in order (REQ.21: a requested
    scope stays inside the declared function blocks). An older retail customer number
    is offered when its current block is (:data:`OLDER_NUMBERS`)."""
    known = with_current_numbers(offered)
    return sorted(n for n in asked if n not in known and OLDER_NUMBERS.get(n) not in offered)


__all__ = [
    "CUSTOMER_RECORD_BLOCKS",
    "DATA_BLOCKS",
    "DATA_GROUPS",
    "ELECTRICITY",
    "GAS",
    "METERING_BLOCKS",
    "OLDER_NUMBERS",
    "TABLE",
    "USAGE_BLOCKS",
    "WATER",
    "Carries",
    "DataGroup",
    "FunctionBlock",
    "block",
    "blocks_for_service",
    "carrying",
    "current_numbers",
    "group",
    "not_offered",
    "with_current_numbers",
]
