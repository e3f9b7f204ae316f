"""Import of the customer.xsd resources (REQ.21 retail customer blocks, FB_51-60).

Customer, CustomerAccount, CustomerAgreement, ServiceLocation and Meter are stored
whole in ``details`` and, for queries and display, in the columns
:data:`gbconnect.espi.schema.CUSTOMER_COLUMNS` names; each is tied to its parent
(Customer <- CustomerAccount <- CustomerAgreement <- ServiceLocation <- Meter) by its
Atom ``up`` or ``self`` link. A ServiceLocation's ``UsagePoints`` hrefs tie its
agreement to the UsagePoints it serves. EndDevice, ServiceSupplier, Statement,
ProgramDateIdMappings and espi.xsd's ProgramIdMappings are kept whole.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import insert, select

from gbconnect.customer import models as cm
from gbconnect.customer.phones import phone_in_details
from gbconnect.espi.namespaces import CUSTOMER
from gbconnect.espi.schema import CUSTOMER_COLUMNS, TIME
from gbconnect.espi.times import parse_timestamp
from gbconnect.espi.xmlreader import Entry, element_to_data
from gbconnect.ingest.espi.feed import (
    ImportContext,
    entry_times,
    href_key,
    parent_candidates,
    self_key,
)

C = f"{{{CUSTOMER}}}"

#: Resource -> (model, its parent's kind, the column holding the parent's id).
_TREE: dict[str, tuple[type[Any], str | None, str | None]] = {
    "Customer": (cm.Customer, None, None),
    "CustomerAccount": (cm.CustomerAccount, "Customer", "customer_id"),
    "CustomerAgreement": (cm.CustomerAgreement, "CustomerAccount", "customer_account_id"),
    "ServiceLocation": (cm.ServiceLocation, "CustomerAgreement", "customer_agreement_id"),
    "Meter": (cm.Meter, "ServiceLocation", "service_location_id"),
}
#: Resources kept whole, without columns of their own.
WHOLE = ("EndDevice", "ServiceSupplier", "Statement", "ProgramDateIdMappings")


@dataclass
class CustomerResources:
    """The customer.xsd resources of one file (see :mod:`gbconnect.ingest.espi.importer`).

    ``usage_point_id(key)`` finds a UsagePoint of this file or of the store.
    """

    ctx: ImportContext
    usage_point_id: Callable[[str], int | None]
    _location_usage_points: dict[int, list[str]] = field(default_factory=dict)

    def feed(self, entry: Entry, name: str) -> bool:
        """Import ``entry`` if it is a customer.xsd resource named ``name``."""
        if name in _TREE:
            self._typed(entry, name)
        elif name in WHOLE:
            self.whole(entry, name)
        else:
            return False
        self.ctx.summary.customer_records += 1
        return True

    def _typed(self, entry: Entry, kind: str) -> None:
        p = entry.payload
        model, parent_kind, parent_column = _TREE[kind]
        values: dict[str, Any] = {}
        for f in CUSTOMER_COLUMNS[kind]:
            text = p.findtext(C + f.element)
            if f.kind == TIME:
                values[f.column] = (
                    parse_timestamp(text, f.element) if text and text.strip() else None
                )
            else:
                values[f.column] = (text or "").strip()[: f.width] or None
        if parent_kind is not None and parent_column is not None:
            values[parent_column] = self.ctx.find(parent_kind, parent_candidates(entry))
        if kind == "ServiceLocation":
            main = p.find(C + "mainAddress")
            address = None
            if main is not None:
                address = ", ".join(t.strip() for t in main.itertext() if t.strip())[:512] or None
            values["address"] = address
        details = element_to_data(p)
        values["details"] = details if isinstance(details, dict) else None
        key = self_key(entry)
        owner = {"retail_customer_id": self.ctx.owner.id}
        obj = self.ctx.upsert(model, owner, key, entry, values)
        if key is not None:
            self.ctx.table(kind)[key] = obj.id
        if kind == "Customer" and self.ctx.owner.phone is None:
            self.ctx.owner.phone = phone_in_details(values["details"])  # guest access
        if kind == "ServiceLocation":
            hrefs = [
                href_key(t) for el in p.iter(C + "UsagePoints") for t in el.itertext() if t.strip()
            ]
            if hrefs:
                self._location_usage_points[obj.id] = hrefs

    def whole(self, entry: Entry, kind: str) -> None:
        """A resource kept whole (:class:`~gbconnect.customer.models.CustomerResource`)."""
        details = element_to_data(entry.payload)
        published, updated = entry_times(entry, self.ctx.now)
        key = self_key(entry)
        session = self.ctx.session
        existing = None
        if key is not None:
            existing = session.scalars(
                select(cm.CustomerResource).where(
                    cm.CustomerResource.retail_customer_id == self.ctx.owner.id,
                    cm.CustomerResource.kind == kind,
                    cm.CustomerResource.source_key == key,
                )
            ).one_or_none()
        if existing is None:
            session.add(
                cm.CustomerResource(
                    retail_customer_id=self.ctx.owner.id,
                    kind=kind,
                    source_key=key,
                    title=entry.title,
                    details=details if isinstance(details, dict) else None,
                    published=published,
                    updated=updated,
                )
            )
        elif existing.details != details:
            existing.details = details if isinstance(details, dict) else None
            existing.updated = max(updated, existing.updated + 1)

    def finish(self) -> None:
        """Tie each ServiceLocation's agreement to the UsagePoints it names."""
        session = self.ctx.session
        link = cm.agreement_usage_point
        for loc_id, hrefs in self._location_usage_points.items():
            loc = session.get(cm.ServiceLocation, loc_id)
            if loc is None or loc.customer_agreement_id is None:
                continue
            for href in hrefs:
                up_id = self.usage_point_id(href)
                if up_id is None:
                    continue
                exists = session.execute(
                    select(link).where(
                        link.c.customer_agreement_id == loc.customer_agreement_id,
                        link.c.usage_point_id == up_id,
                    )
                ).first()
                if exists is None:
                    session.execute(
                        insert(link).values(
                            customer_agreement_id=loc.customer_agreement_id, usage_point_id=up_id
                        )
                    )
