"""Our own export imported again: its hrefs name the stored resources themselves.

A customer's Download My Data (``gbconnect export``, the Batch/RetailCustomer feed)
writes each resource under our resource base with our ids: ``.../RetailCustomer/
{customer}/UsagePoint/{id}``, ``.../UsagePoint/{id}/MeterReading/{id}``,
``.../ReadingType/{id}``, ``.../LocalTimeParameters/{id}`` (REQ.21 section 2 URIs).
Imported again for the same customer, an entry whose ``self`` href is one of these,
under our base, updates the resource it names instead of adding a copy: the identity
of a usage point survives export and import.
"""

from __future__ import annotations

import re
from typing import Any

from sqlalchemy.orm import Session

from gbconnect.usage import models as um

_UP = r"RetailCustomer/(?P<customer>\d+)/UsagePoint/(?P<up>\d+)"
#: Model name -> the trailing path of its href in our export.
_PATHS: dict[str, re.Pattern[str]] = {
    "UsagePoint": re.compile(rf"(?P<base>.*?)/?{_UP}$"),
    "MeterReading": re.compile(rf"(?P<base>.*?)/?{_UP}/MeterReading/(?P<id>\d+)$"),
    "UsageSummary": re.compile(rf"(?P<base>.*?)/?{_UP}/UsageSummary/(?P<id>\d+)$"),
    "ElectricPowerQualitySummary": re.compile(
        rf"(?P<base>.*?)/?{_UP}/ElectricPowerQualitySummary/(?P<id>\d+)$"
    ),
    "ReadingType": re.compile(r"(?P<base>.*?)/?ReadingType/(?P<id>\d+)$"),
    "LocalTimeParameters": re.compile(r"(?P<base>.*?)/?LocalTimeParameters/(?P<id>\d+)$"),
}


def own_resource(
    session: Session,
    model: type[Any],
    key: str,
    base: str,
    customer_id: int,
    scope: dict[str, Any],
) -> Any | None:
    """The stored resource that ``key`` (a self href's path) names when it is one of
    our own hrefs under ``base`` (our resource base's path) for ``customer_id``, and it
    belongs there; None otherwise."""
    pattern = _PATHS.get(model.__name__)
    m = pattern.fullmatch(key) if pattern is not None else None
    if m is None or m.group("base").strip("/") != base.strip("/"):
        return None
    groups = m.groupdict()
    if groups.get("customer") is not None and int(groups["customer"]) != customer_id:
        return None
    wanted = int(groups["id"]) if groups.get("id") is not None else int(groups["up"])
    obj = session.get(model, wanted)
    if obj is None:
        return None
    if groups.get("up") is not None and model is not um.UsagePoint:
        if obj.usage_point_id != int(groups["up"]):
            return None
        up = session.get(um.UsagePoint, obj.usage_point_id)
        if up is None or up.retail_customer_id != customer_id:
            return None
    elif obj.retail_customer_id != customer_id:
        return None
    if any(getattr(obj, col) != val for col, val in scope.items()):
        return None
    return obj
