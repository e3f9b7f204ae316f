"""customer.xsd content (REQ.21 retail customer blocks, FB_51-60): Customer,
CustomerAccount, CustomerAgreement, ServiceLocation and Meter.

Nested CIM structures are stored whole (``details``, see the importer) and written
back in the strict order of customer.xsd: each type's flattened sequence (its base
types' elements first) is listed here; an element this table does not know keeps
its stored place at the end.
"""

from __future__ import annotations

from typing import Any

from gbconnect.customer import models as cm
from gbconnect.espi.atom import escape

CUSTOMER_NS = "http://naesb.org/espi/customer"

_DOCUMENT = (
    "type",
    "authorName",
    "createdDateTime",
    "lastModifiedDateTime",
    "revisionNumber",
    "electronicAddress",
    "subject",
    "title",
    "docStatus",
    "status",
    "comment",
)
ORDER: dict[str, tuple[str, ...]] = {
    "Customer": (
        "Organisation",
        "kind",
        "specialNeed",
        "vip",
        "pucNumber",
        "status",
        "priority",
        "locale",
        "customerName",
    ),
    "CustomerAccount": (
        *_DOCUMENT,
        "billingCycle",
        "budgetBill",
        "lastBillAmount",
        "notifications",
        "contactInfo",
        "accountId",
    ),
    "CustomerAgreement": (
        *_DOCUMENT,
        "signDate",
        "validityInterval",
        "loadMgmt",
        "isPrePay",
        "shutOffDateTime",
        "DemandResponseProgram",
        "PricingStructures",
        "currency",
        "futureStatus",
        "agreementId",
    ),
    "ServiceLocation": (
        "type",
        "mainAddress",
        "secondaryAddress",
        "phone1",
        "phone2",
        "electronicAddress",
        "geoInfoReference",
        "direction",
        "status",
        "positionPoints",
        "accessMethod",
        "siteAccessProblem",
        "needsInspection",
        "UsagePoints",
        "outageBlock",
    ),
    "Meter": (
        "type",
        "utcNumber",
        "serialNumber",
        "lotNumber",
        "purchasePrice",
        "critical",
        "electronicAddress",
        "lifecycle",
        "acceptanceTest",
        "initialCondition",
        "initialLossOfLife",
        "status",
        "isVirtual",
        "isPan",
        "installCode",
        "amrSystem",
        "formNumber",
        "MeterMultipliers",
        "intervalLength",
    ),
    "StreetAddress": ("streetDetail", "townDetail", "status", "postalCode", "poBox"),
    "StreetDetail": (
        "number",
        "name",
        "suffix",
        "prefix",
        "type",
        "code",
        "buildingName",
        "suiteNumber",
        "addressGeneral",
        "addressGeneral2",
        "addressGeneral3",
        "withinTownLimits",
    ),
    "TownDetail": ("code", "section", "name", "county", "stateOrProvince", "country"),
    "TelephoneNumber": (
        "countryCode",
        "areaCode",
        "cityCode",
        "localNumber",
        "ext",
        "dialOut",
        "internationalPrefix",
        "ituPhone",
    ),
    "ElectronicAddress": ("lan", "mac", "email1", "email2", "web", "radio", "userID", "password"),
    "Status": ("value", "dateTime", "remark", "reason"),
    "Organisation": (
        "streetAddress",
        "postalAddress",
        "phone1",
        "phone2",
        "electronicAddress",
        "organisationName",
    ),
    "PositionPoint": ("xPosition", "yPosition", "zPosition"),
    "AccountNotification": ("methodKind", "time", "note", "customerNotificationKind"),
    "MeterMultiplier": ("kind", "value"),
    "DateTimeInterval": ("duration", "start"),
    "Priority": ("rank", "type", "justification"),
}
#: Element name -> its complex type, for nested stored data.
TYPE_OF = {
    "mainAddress": "StreetAddress",
    "secondaryAddress": "StreetAddress",
    "streetAddress": "StreetAddress",
    "postalAddress": "StreetAddress",
    "streetDetail": "StreetDetail",
    "townDetail": "TownDetail",
    "phone1": "TelephoneNumber",
    "phone2": "TelephoneNumber",
    "electronicAddress": "ElectronicAddress",
    "status": "Status",
    "docStatus": "Status",
    "futureStatus": "Status",
    "Organisation": "Organisation",
    "contactInfo": "Organisation",
    "positionPoints": "PositionPoint",
    "notifications": "AccountNotification",
    "MeterMultipliers": "MeterMultiplier",
    "validityInterval": "DateTimeInterval",
    "priority": "Priority",
}


def _ordered(keys: list[str], order: tuple[str, ...]) -> list[str]:
    rank = {k: i for i, k in enumerate(order)}
    return sorted(keys, key=lambda k: rank.get(k, len(order)))


def _xml(name: str, value: Any) -> str:
    if isinstance(value, list):
        return "".join(_xml(name, v) for v in value)
    if isinstance(value, dict):
        order = ORDER.get(TYPE_OF.get(name, ""), ())
        inner = "".join(_xml(k, value[k]) for k in _ordered(list(value), order))
        return f"<{name}>{inner}</{name}>"
    return f"<{name}>{escape(value)}</{name}>"


def _resource(kind: str, fields: dict[str, Any]) -> str:
    body = "".join(
        _xml(k, fields[k]) for k in _ordered(list(fields), ORDER[kind]) if fields[k] is not None
    )
    return f'<{kind} xmlns="{CUSTOMER_NS}">{body}</{kind}>'


def _details(row: Any) -> dict[str, Any]:
    d = row.details
    return dict(d) if isinstance(d, dict) else {}


def customer(c: cm.Customer) -> str:
    fields = _details(c)
    fields.setdefault("kind", c.kind)
    fields.setdefault("customerName", c.name)
    return _resource("Customer", fields)


def customer_account(a: cm.CustomerAccount) -> str:
    fields = _details(a)
    fields.setdefault("accountId", a.account_id)
    return _resource("CustomerAccount", fields)


def customer_agreement(a: cm.CustomerAgreement) -> str:
    fields = _details(a)
    fields.setdefault("signDate", a.sign_date)
    fields.setdefault("agreementId", a.agreement_id)
    return _resource("CustomerAgreement", fields)


def service_location(loc: cm.ServiceLocation) -> str:
    return _resource("ServiceLocation", _details(loc))


def meter(m: cm.Meter) -> str:
    fields = _details(m)
    fields.setdefault("serialNumber", m.serial_number)
    fields.setdefault("formNumber", m.form_number)
    return _resource("Meter", fields)
