"""The ESPI elements gbconnect reads and writes, and the model fields they map to.

One table per resource, in the strict ``xs:sequence`` order of espi.xsd and
customer.xsd (STANDARD.md: "``xs:sequence`` order is strict"), so that the importer
(:mod:`gbconnect.ingest.espi`) and the writers (:mod:`gbconnect.usage.xml`,
:mod:`gbconnect.customer.xml`) cannot disagree on a name, a column or an order.

A :class:`Field` says how one element is kept:

- ``INT``, ``TEXT``, ``TIME`` (``TimeType``), ``HEX8`` (a ``dst*Rule``): one column;
- ``CATEGORY``: ``<ServiceCategory><kind>`` in one integer column;
- ``RATIO`` (``RationalNumber``): ``{column}_numerator`` and ``{column}_denominator``;
- ``INTERVAL`` (``DateTimeInterval``): ``{column}_start`` and ``{column}_duration``;
- ``STRUCT``: a nested CIM structure stored whole in its own JSON column;
- ``STRUCTS``: a repeated one, stored as a JSON list;
- ``KEYED``: a nested structure stored whole under its element name in a JSON
  dict column (``measurements``, ``details``).

Structures stored whole keep the reader's order (``element_to_data``); they are
written back in schema order by :func:`stored_xml`, which looks their complex type
up in a :class:`Vocabulary`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from gbconnect.espi.atom import escape
from gbconnect.espi.namespaces import CUSTOMER, ESPI

INT = "int"
TEXT = "text"
TIME = "time"
HEX8 = "hex8"
CATEGORY = "category"
RATIO = "ratio"
INTERVAL = "interval"
STRUCT = "struct"
STRUCTS = "structs"
KEYED = "keyed"

INT64_MIN = -(2**63)
INT64_MAX = 2**63 - 1


@dataclass(frozen=True, slots=True)
class Field:
    """One child element of a resource and where its value is kept."""

    element: str
    column: str
    kind: str = INT
    #: Range an integer must fall in (the reader refuses the file otherwise).
    lo: int = INT64_MIN
    hi: int = INT64_MAX
    #: Longest text kept (TEXT); None keeps it whole.
    width: int | None = None
    #: A cost element (REQ.21 FB_12, FB_16): written only when the grant includes cost.
    cost: bool = False
    #: Written when the column is empty (the schema requires the element).
    default: int | str | None = None
    #: Column written when this one is empty (``statusTimeStamp`` falls back to ``updated``).
    fallback: str | None = None
    #: The writer falls back on the column when stored details lack the element.
    written: bool = True


def by_element(fields: tuple[Field, ...]) -> dict[str, Field]:
    """A table indexed by element name, for a reader."""
    return {f.element: f for f in fields}


# -- espi.xsd --------------------------------------------------------------------------

#: UsagePoint (REQ.21 FB_1); the elements after serviceDeliveryPoint are kept in ``details``.
USAGE_POINT: tuple[Field, ...] = (
    Field("roleFlags", "role_flags", TEXT),
    Field("ServiceCategory", "service_kind", CATEGORY, lo=0, hi=65535, default=0),
    Field("status", "status", INT, lo=0, hi=255),
    Field("serviceDeliveryPoint", "service_delivery_point", STRUCT),
    *(
        Field(name, "details", KEYED)
        for name in (
            "amiBillingReady",
            "checkBilling",
            "connectionState",
            "estimatedLoad",
            "grounded",
            "isSdp",
            "isVirtual",
            "minimalUsageExpected",
            "nominalServiceVoltage",
            "outageRegion",
            "phaseCode",
            "ratedCurrent",
            "ratedPower",
            "readCycle",
            "readRoute",
            "serviceDeliveryRemark",
            "servicePriority",
            "pnodeRefs",
            "aggregateNodeRefs",
        )
    ),
)
#: Names real files use for a UsagePoint child instead of the schema's.
USAGE_POINT_ALIASES = {"ServiceDeliveryPoint": "serviceDeliveryPoint"}

#: ReadingType (REQ.21 FB_4); ``currency`` is a cost element (FB_12).
READING_TYPE: tuple[Field, ...] = (
    Field("accumulationBehaviour", "accumulation_behaviour"),
    Field("commodity", "commodity"),
    Field("consumptionTier", "consumption_tier"),
    Field("currency", "currency", cost=True),
    Field("dataQualifier", "data_qualifier"),
    Field("defaultQuality", "default_quality"),
    Field("flowDirection", "flow_direction"),
    Field("intervalLength", "interval_length"),
    Field("kind", "kind"),
    Field("phase", "phase"),
    Field("powerOfTenMultiplier", "power_of_ten_multiplier"),
    Field("timeAttribute", "time_attribute"),
    Field("tou", "tou"),
    Field("uom", "uom"),
    Field("cpp", "cpp"),
    Field("interharmonic", "interharmonic", RATIO),
    Field("measuringPeriod", "measuring_period"),
    Field("argument", "argument", RATIO),
)

#: LocalTimeParameters (espi.xsd TimeConfiguration, REQ.21 FB_1): every element required.
LOCAL_TIME_PARAMETERS: tuple[Field, ...] = (
    Field("dstEndRule", "dst_end_rule", HEX8, default="00000000"),
    Field("dstOffset", "dst_offset", default=0),
    Field("dstStartRule", "dst_start_rule", HEX8, default="00000000"),
    Field("tzOffset", "tz_offset", default=0),
)

#: SummaryMeasurement elements of UsageSummary, stored whole by name in ``measurements``.
SUMMARY_MEASUREMENTS = (
    "overallConsumptionLastPeriod",
    "currentBillingPeriodOverAllConsumption",
    "currentDayLastYearNetConsumption",
    "currentDayNetConsumption",
    "currentDayOverallConsumption",
    "peakDemand",
    "previousDayLastYearOverallConsumption",
    "previousDayNetConsumption",
    "previousDayOverallConsumption",
)

#: UsageSummary (REQ.21 FB_15; the bill and its line items are FB_16 cost elements).
USAGE_SUMMARY: tuple[Field, ...] = (
    Field("billingPeriod", "billing_period", INTERVAL),
    Field("billLastPeriod", "bill_last_period", cost=True),
    Field("billToDate", "bill_to_date", cost=True),
    Field("costAdditionalLastPeriod", "cost_additional_last_period", cost=True),
    Field("costAdditionalDetailLastPeriod", "line_items", STRUCTS, cost=True),
    Field("currency", "currency", cost=True),
    *(Field(name, "measurements", KEYED) for name in SUMMARY_MEASUREMENTS),
    Field("qualityOfReading", "quality_of_reading"),
    Field("ratchetDemand", "measurements", KEYED),
    Field("ratchetDemandPeriod", "details", KEYED),
    Field("statusTimeStamp", "status_timestamp", TIME, fallback="updated"),
    Field("commodity", "commodity"),
    Field("tariffProfile", "tariff_profile", TEXT, width=256),
    Field("readCycle", "read_cycle", TEXT, width=256),
    Field("tariffRiderRefs", "details", KEYED),
    Field("billingChargeSource", "details", KEYED),
)

#: ElectricPowerQualitySummary (REQ.21 FB_17); summaryInterval is required.
QUALITY_SUMMARY: tuple[Field, ...] = (
    Field("flickerPlt", "flicker_plt"),
    Field("flickerPst", "flicker_pst"),
    Field("harmonicVoltage", "harmonic_voltage"),
    Field("longInterruptions", "long_interruptions"),
    Field("mainsVoltage", "mains_voltage"),
    Field("measurementProtocol", "measurement_protocol"),
    Field("powerFrequency", "power_frequency"),
    Field("rapidVoltageChanges", "rapid_voltage_changes"),
    Field("shortInterruptions", "short_interruptions"),
    Field("summaryInterval", "summary_interval", INTERVAL, default=0),
    Field("supplyVoltageDips", "supply_voltage_dips"),
    Field("supplyVoltageImbalance", "supply_voltage_imbalance"),
    Field("supplyVoltageVariations", "supply_voltage_variations"),
    Field("tempOvervoltage", "temp_overvoltage"),
)


@dataclass(frozen=True, slots=True)
class Vocabulary:
    """The complex types of one schema that gbconnect stores whole."""

    namespace: str
    #: Complex type (or resource) -> its flattened element sequence, base types first.
    order: Mapping[str, tuple[str, ...]]
    #: Element name -> its complex type.
    type_of: Mapping[str, str]


_SUMMARY_MEASUREMENT = ("powerOfTenMultiplier", "timeStamp", "uom", "value", "readingTypeRef")
_DATE_TIME_INTERVAL = ("duration", "start")

ESPI_TYPES = Vocabulary(
    ESPI,
    order={
        "SummaryMeasurement": _SUMMARY_MEASUREMENT,
        "LineItem": (
            "amount",
            "rounding",
            "dateTime",
            "note",
            "measurement",
            "itemKind",
            "unitCost",
            "itemPeriod",
        ),
        "DateTimeInterval": _DATE_TIME_INTERVAL,
        "ServiceDeliveryPoint": ("name", "tariffProfile", "customerAgreement", "tariffRiderRefs"),
    },
    type_of={
        **dict.fromkeys(
            (
                *SUMMARY_MEASUREMENTS,
                "ratchetDemand",
                "estimatedLoad",
                "nominalServiceVoltage",
                "ratedCurrent",
                "ratedPower",
                "measurement",
            ),
            "SummaryMeasurement",
        ),
        "costAdditionalDetailLastPeriod": "LineItem",
        "itemPeriod": "DateTimeInterval",
        "ratchetDemandPeriod": "DateTimeInterval",
        "serviceDeliveryPoint": "ServiceDeliveryPoint",
        "ServiceDeliveryPoint": "ServiceDeliveryPoint",
    },
)

# -- customer.xsd ------------------------------------------------------------------------

#: customer.xsd Document, the base of CustomerAccount and CustomerAgreement.
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
#: IdentifiedObject's deprecated ``name``, first in every resource.
_IDENTIFIED = ("name",)

CUSTOMER_TYPES = Vocabulary(
    CUSTOMER,
    order={
        "Customer": (
            *_IDENTIFIED,
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
            *_IDENTIFIED,
            *_DOCUMENT,
            "billingCycle",
            "budgetBill",
            "lastBillAmount",
            "notifications",
            "contactInfo",
            "accountId",
        ),
        "CustomerAgreement": (
            *_IDENTIFIED,
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
            *_IDENTIFIED,
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
            *_IDENTIFIED,
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
        "ElectronicAddress": (
            "lan",
            "mac",
            "email1",
            "email2",
            "web",
            "radio",
            "userID",
            "password",
        ),
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
        "DateTimeInterval": _DATE_TIME_INTERVAL,
        "Priority": ("rank", "type", "justification"),
        "DemandResponseProgram": (
            "programName",
            "enrollmentStatus",
            "programDescription",
            "programDate",
            "capacityReservationLevel",
            "DRProgramNomination",
        ),
        "ProgramDate": ("programDate", "programDateDescription"),
        "SummaryMeasurement": _SUMMARY_MEASUREMENT,
    },
    type_of={
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
        "DemandResponseProgram": "DemandResponseProgram",
        "programDate": "ProgramDate",
        "capacityReservationLevel": "SummaryMeasurement",
        "DRProgramNomination": "SummaryMeasurement",
    },
)

#: customer.xsd elements also kept in a column (for queries and display). The whole
#: resource is stored in ``details``; the writer falls back on a ``written`` column
#: when the stored details lack its element.
CUSTOMER_COLUMNS: dict[str, tuple[Field, ...]] = {
    "Customer": (
        Field("kind", "kind", TEXT, width=64),
        Field("customerName", "name", TEXT, width=256),
    ),
    "CustomerAccount": (Field("accountId", "account_id", TEXT, width=256),),
    "CustomerAgreement": (
        Field("name", "name", TEXT, width=256, written=False),
        Field("signDate", "sign_date", TIME),
        Field("agreementId", "agreement_id", TEXT, width=256),
    ),
    "ServiceLocation": (),
    "Meter": (
        Field("serialNumber", "serial_number", TEXT, width=256),
        Field("formNumber", "form_number", TEXT, width=256),
    ),
}


# -- structures stored whole, written back -----------------------------------------------


def schema_ordered(keys: list[str], order: tuple[str, ...]) -> list[str]:
    """``keys`` in ``order``; a key the order does not know keeps its place after them."""
    rank = {k: i for i, k in enumerate(order)}
    return sorted(keys, key=lambda k: rank.get(k, len(order)))


def stored_xml(vocabulary: Vocabulary, name: str, value: object, type_name: str = "") -> str:
    """Data stored whole (see ``element_to_data``) back to elements in schema order.

    A list is the element repeated; a dict is a structure whose children are sorted
    by the sequence of its complex type (``type_name``, else looked up by ``name``).
    """
    if isinstance(value, list):
        return "".join(stored_xml(vocabulary, name, v, type_name) for v in value)
    if isinstance(value, Mapping):
        order = vocabulary.order.get(type_name or vocabulary.type_of.get(name, ""), ())
        inner = "".join(
            stored_xml(vocabulary, k, value[k]) for k in schema_ordered(list(value), order)
        )
        return f"<{name}>{inner}</{name}>"
    return f"<{name}>{escape(value)}</{name}>"
