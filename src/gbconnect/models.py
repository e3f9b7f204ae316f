"""Every table, imported in one place (Alembic and tests import this module)."""

from gbconnect.customer.models import (
    Customer,
    CustomerAccount,
    CustomerAgreement,
    CustomerResource,
    Meter,
    RetailCustomer,
    ServiceLocation,
    agreement_usage_point,
)
from gbconnect.usage.models import (
    ElectricPowerQualitySummary,
    IntervalBlock,
    LocalTimeParameters,
    MeterReading,
    ReadingType,
    UsagePoint,
    UsageSummary,
)

__all__ = [
    "Customer",
    "CustomerAccount",
    "CustomerAgreement",
    "CustomerResource",
    "ElectricPowerQualitySummary",
    "IntervalBlock",
    "LocalTimeParameters",
    "Meter",
    "MeterReading",
    "ReadingType",
    "RetailCustomer",
    "ServiceLocation",
    "UsagePoint",
    "UsageSummary",
    "agreement_usage_point",
]
