"""Download My Data: a customer's usage as ESPI XML or as the gbconnect CSV.

``gbconnect export`` uses it, and so will the customer portal. The XML is the
Batch/RetailCustomer feed of the API (same writer, same links); the CSV is the layout
of docs/csv.md, which ``gbconnect ingest`` reads back.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import UTC, datetime

from sqlalchemy.orm import Session

from gbconnect.api import feeds
from gbconnect.config import Settings
from gbconnect.errors import InputError
from gbconnect.espi.atom import feed
from gbconnect.oauth.scoping import FULL
from gbconnect.resource import now
from gbconnect.usage import blocks as codec
from gbconnect.usage import models as um
from gbconnect.usage.points import customer_usage_point_ids
from gbconnect.web.query import FeedQuery

#: ReadingType uom -> (CSV unit, scale from the stored value at powerOfTenMultiplier 0).
CSV_UNITS = {72: ("kWh", 1e-3), 169: ("therm", 1.0), 42: ("m3", 1.0), 128: ("gal", 1.0)}
CSV_FLOWS = {1: "forward", 19: "reverse", 4: "net"}
#: AccumulationKind of the readings the CSV carries: deltaData (4), or unstated.
CSV_KINDS = (None, 4)


class ExportError(InputError):
    """An export that cannot be made (unknown customer, foreign usage point)."""


def usage_point_ids(session: Session, customer_id: int, wanted: Sequence[int] = ()) -> list[int]:
    """The customer's usage points (by id), or those of ``wanted``; a usage point of
    someone else in ``wanted`` is an :class:`ExportError`."""
    owned = customer_usage_point_ids(session, customer_id)
    if not wanted:
        return owned
    foreign = [i for i in wanted if i not in owned]
    if foreign:
        raise ExportError(f"usage point {foreign[0]} does not belong to this customer")
    return [i for i in owned if i in set(wanted)]


def export_xml(
    session: Session,
    settings: Settings,
    customer_id: int,
    up_ids: Sequence[int],
    lo: int | None = None,
    hi: int | None = None,
) -> Iterator[str]:
    """The ESPI feed of these usage points, readings starting in [lo, hi)."""
    paths = feeds.Paths(
        settings.public_resource_base, settings.resource_url(f"RetailCustomer/{customer_id}")
    )
    query = FeedQuery(published_min=lo, published_max=hi)

    def entries() -> Iterator[str]:
        for up_id in up_ids:
            up = session.get(um.UsagePoint, up_id)
            if up is not None:
                yield from feeds.usage_point_tree(session, up, FULL, paths, query)

    yield from feed(
        self_href=settings.resource_url(f"Batch/RetailCustomer/{customer_id}/UsagePoint"),
        title="Green Button Download My Data",
        updated=now(),
        entries=entries(),
    )


def _number(value: float) -> str:
    text = f"{value:.6f}".rstrip("0").rstrip(".")
    return text if text not in ("", "-0") else "0"


def export_csv(
    session: Session,
    customer_id: int,
    up_ids: Sequence[int],
    lo: int | None = None,
    hi: int | None = None,
) -> Iterator[str]:
    """docs/csv.md rows for the usage points' interval data in [lo, hi)."""
    yield "usage_point,start,duration,value,unit,flow,cost,quality\n"
    for up_id in up_ids:
        up = session.get(um.UsagePoint, up_id)
        if up is None:
            continue
        name = (up.title or f"UP-{up.id}").replace(",", " ").replace('"', "'")
        for mr in feeds.meter_readings(session, up_id):
            rt = mr.reading_type
            # The CSV carries interval quantities (deltaData, AccumulationKind 4) only:
            # a register's cumulative reads would be read back as consumption.
            if rt is None or rt.uom not in CSV_UNITS or rt.accumulation_behaviour not in CSV_KINDS:
                continue
            unit, scale = CSV_UNITS[rt.uom]
            scale *= 10.0 ** (rt.power_of_ten_multiplier or 0)
            flow = CSV_FLOWS.get(rt.flow_direction or 1, "forward")
            for row in feeds.block_rows(session, mr.id, lo, hi, FeedQuery()):
                r = codec.decode(row.data)
                lines = []
                for i, start in enumerate(r.starts):
                    value = r.values[i]
                    if (
                        value is None
                        or (lo is not None and start < lo)
                        or (hi is not None and start >= hi)
                    ):
                        continue
                    cost = r.costs[i] if r.costs is not None else None
                    quality = r.qualities[i][0] if r.qualities and r.qualities[i] else ""
                    stamp = datetime.fromtimestamp(start, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
                    lines.append(
                        f"{name},{stamp},{r.durations[i]},{_number(value * scale)},{unit},{flow},"
                        f"{'' if cost is None else _number(cost / 100000)},{quality}\n"
                    )
                yield "".join(lines)
