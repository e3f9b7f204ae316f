"""What the signed-in customer's home (``/account``) shows: their name, their services
by service agreement and address, and their latest bill.

The services follow the customer.xsd records (REQ.21 FB_51 Retail Customer, FB_57
CustomerAgreement, FB_58 ServiceLocation; STANDARD.md section 5): each service
agreement (PG&E's Service ID) with the addresses of its service locations and the
usage points it covers (``agreement_usage_point``); usage points no agreement covers
are listed as "Other services", with the address their Meter names when there is one.
Only what exists is shown: a customer imported without customer records sees their
usage points alone.

The latest bill is the newest UsageSummary (REQ.21 FB_15/16) of the customer's usage
points carrying ``billLastPeriod`` (hundred-thousandths of the currency) with its
billing period, the last day shown as the last included day.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, tzinfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from gbconnect.customer import models as cm
from gbconnect.espi import blocks as fb
from gbconnect.i18n import N_, formats
from gbconnect.i18n import gettext as _
from gbconnect.usage.models import UsagePoint, UsageSummary
from gbconnect.usage.points import customer_usage_points

SERVICE_KINDS = {
    fb.ELECTRICITY: N_("Electricity"),
    fb.GAS: N_("Natural gas"),
    fb.WATER: N_("Water"),
}
"""espi.xsd ServiceKind, named as the consent page names it."""

#: espi.xsd cost values are hundred-thousandths of the currency (REQ.21 FB_12/16).
_COST_UNIT = 100_000


def usage_point_label(up: UsagePoint) -> str:
    """A usage point by name: its service and its title ("Electricity · Home")."""
    kind = _(SERVICE_KINDS.get(up.service_kind, N_("Service")))
    return f"{kind} · {up.title}" if up.title else kind


def usage_point_labels(session: Session, ids: Iterable[int]) -> dict[int, str]:
    """:func:`usage_point_label` of each usage point among ``ids`` that exists."""
    wanted = list(ids)
    if not wanted:
        return {}
    rows = session.scalars(select(UsagePoint).where(UsagePoint.id.in_(wanted)))
    return {up.id: usage_point_label(up) for up in rows}


def display_name(session: Session, customer: cm.RetailCustomer) -> str | None:
    """The customer's name, never their login: the name they were enrolled with, else
    the name of their customer.xsd Customer record; None when neither exists."""
    if customer.name and customer.name.strip():
        return customer.name.strip()
    name = session.scalars(
        select(cm.Customer.name)
        .where(cm.Customer.retail_customer_id == customer.id, cm.Customer.name.is_not(None))
        .order_by(cm.Customer.id)
        .limit(1)
    ).first()
    return name.strip() if name and name.strip() else None


@dataclass
class Service:
    """One service agreement (or "Other services"): its addresses and usage points."""

    label: str
    service_id: str | None
    addresses: list[str] = field(default_factory=list)
    usage_points: list[str] = field(default_factory=list)


def _address(location: cm.ServiceLocation) -> str | None:
    """The one-line address of a service location, with its town when recorded."""
    if not location.address:
        return location.title
    town = ((location.details or {}).get("mainAddress") or {}).get("townDetail") or {}
    if not isinstance(town, dict):
        return location.address
    parts = [str(town[k]) for k in ("name", "stateOrProvince", "code") if town.get(k)]
    return f"{location.address}, {' '.join(parts)}" if parts else location.address


def services(session: Session, customer_id: int) -> list[Service]:
    """The customer's services by service agreement and address (module docstring)."""
    points = customer_usage_points(session, customer_id)
    by_id = {up.id: up for up in points}
    agreements = list(
        session.scalars(
            select(cm.CustomerAgreement)
            .where(cm.CustomerAgreement.retail_customer_id == customer_id)
            .order_by(cm.CustomerAgreement.id)
        )
    )
    locations = list(
        session.scalars(
            select(cm.ServiceLocation)
            .where(cm.ServiceLocation.retail_customer_id == customer_id)
            .order_by(cm.ServiceLocation.id)
        )
    )
    links = session.execute(
        select(
            cm.agreement_usage_point.c.customer_agreement_id,
            cm.agreement_usage_point.c.usage_point_id,
        ).where(cm.agreement_usage_point.c.customer_agreement_id.in_([a.id for a in agreements]))
    ).all()
    out: list[Service] = []
    placed: set[int] = set()
    for a in agreements:
        label = a.name or a.title or _("Service agreement")
        service = Service(label, a.agreement_id)
        for loc in locations:
            text = _address(loc) if loc.customer_agreement_id == a.id else None
            if text and text not in service.addresses:
                service.addresses.append(text)
        ids = sorted(u for aid, u in links if aid == a.id and u in by_id)
        service.usage_points = [usage_point_label(by_id[u]) for u in ids]
        placed.update(ids)
        out.append(service)
    rest = [up for up in points if up.id not in placed]
    if rest:
        other = Service(_("Other services"), None)
        metered = dict(
            session.execute(
                select(cm.Meter.usage_point_id, cm.Meter.service_location_id).where(
                    cm.Meter.retail_customer_id == customer_id,
                    cm.Meter.usage_point_id.in_([up.id for up in rest]),
                )
            ).all()
        )
        where = {loc.id: loc for loc in locations}
        for up in rest:
            other.usage_points.append(usage_point_label(up))
            found = where.get(metered.get(up.id) or 0)
            text = _address(found) if found is not None else None
            if text and text not in other.addresses:
                other.addresses.append(text)
        out.append(other)
    return out


@dataclass(frozen=True)
class Bill:
    """The latest bill: its amount as text, its billing period and its service."""

    amount: str
    first_day: date | None
    last_day: date | None
    service: str


def money(value: int, currency: int | None) -> str:
    """``value`` hundred-thousandths of ``currency`` as the customer's language writes
    it ($88.12, 88,12 US$)."""
    return formats.money(value / _COST_UNIT, currency)


def latest_bill(session: Session, customer_id: int, zone: tzinfo) -> Bill | None:
    """The newest UsageSummary of the customer's usage points with a bill amount
    (by billing period, then by when it was issued); None when there is none."""
    row = session.execute(
        select(UsageSummary, UsagePoint)
        .join(UsagePoint, UsagePoint.id == UsageSummary.usage_point_id)
        .where(
            UsagePoint.retail_customer_id == customer_id,
            UsageSummary.bill_last_period.is_not(None),
        )
        .order_by(
            UsageSummary.billing_period_start.desc().nulls_last(),
            UsageSummary.status_timestamp.desc().nulls_last(),
            UsageSummary.id.desc(),
        )
        .limit(1)
    ).first()
    if row is None:
        return None
    summary, up = row
    assert summary.bill_last_period is not None
    start, duration = summary.billing_period_start, summary.billing_period_duration
    first = datetime.fromtimestamp(start, zone).date() if start is not None else None
    last = (
        datetime.fromtimestamp(start + duration - 1, zone).date()
        if start is not None and duration
        else None
    )
    return Bill(
        money(summary.bill_last_period, summary.currency), first, last, usage_point_label(up)
    )


__all__ = [
    "SERVICE_KINDS",
    "Bill",
    "Service",
    "display_name",
    "latest_bill",
    "money",
    "services",
    "usage_point_label",
    "usage_point_labels",
]
