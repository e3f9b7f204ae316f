"""customer.xsd content (REQ.21 retail customer blocks, FB_51-60): Customer,
CustomerAccount, CustomerAgreement, ServiceLocation and Meter.

Nested CIM structures are stored whole (``details``, see the importer) and written
back in the strict order of customer.xsd that :data:`gbconnect.espi.schema.CUSTOMER_TYPES`
lists (each type's flattened sequence, its base types' elements first); an element
the table does not know keeps its stored place at the end. An element also kept in a
column (:data:`gbconnect.espi.schema.CUSTOMER_COLUMNS`) is written from that column
when the stored details lack it.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from gbconnect.customer import models as cm
from gbconnect.espi.namespaces import CUSTOMER
from gbconnect.espi.schema import CUSTOMER_COLUMNS, CUSTOMER_TYPES, schema_ordered, stored_xml


def _resource(kind: str, row: Any, extra: dict[str, Any] | None = None) -> str:
    fields: dict[str, Any] = dict(row.details) if isinstance(row.details, dict) else {}
    fields.update(extra or {})
    for f in CUSTOMER_COLUMNS[kind]:
        if f.written:
            fields.setdefault(f.element, getattr(row, f.column))
    order = CUSTOMER_TYPES.order[kind]
    body = "".join(
        stored_xml(CUSTOMER_TYPES, k, fields[k])
        for k in schema_ordered(list(fields), order)
        if fields[k] is not None
    )
    return f'<{kind} xmlns="{CUSTOMER}">{body}</{kind}>'


def customer(c: cm.Customer) -> str:
    return _resource("Customer", c)


def customer_account(a: cm.CustomerAccount) -> str:
    return _resource("CustomerAccount", a)


def customer_agreement(a: cm.CustomerAgreement) -> str:
    return _resource("CustomerAgreement", a)


def service_location(loc: cm.ServiceLocation, usage_points: Sequence[str] = ()) -> str:
    """customer.xsd ServiceLocation; ``usage_points``, the hrefs of the UsagePoints
    delivering service there (FB_58), are written as its ``UsagePoints`` element (a
    sequence of ``UsagePoint`` URIs), in place of any stored one."""
    extra = {"UsagePoints": {"UsagePoint": list(usage_points)}} if usage_points else None
    return _resource("ServiceLocation", loc, extra)


def meter(m: cm.Meter) -> str:
    return _resource("Meter", m)
