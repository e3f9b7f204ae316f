"""Every table, imported in one place (Alembic and tests import this module)."""

from gbconnect.api.packages import BatchPackage
from gbconnect.audit.models import AuditEvent, AuditHead
from gbconnect.customer.models import (
    Customer,
    CustomerAccount,
    CustomerAgreement,
    CustomerResource,
    Meter,
    RetailCustomer,
    ServiceLocation,
    SignIn,
    agreement_usage_point,
)
from gbconnect.notify.models import Notification, NotificationAttempt, NotifyEvent
from gbconnect.oauth.models import (
    Authorization,
    AuthorizationCode,
    Subscription,
    Token,
    subscription_usage_point,
)
from gbconnect.ratelimit.models import RateCounter
from gbconnect.registration.models import ApplicationInformation, ApplicationLogo
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
    "ApplicationInformation",
    "ApplicationLogo",
    "AuditEvent",
    "AuditHead",
    "Authorization",
    "AuthorizationCode",
    "BatchPackage",
    "Customer",
    "CustomerAccount",
    "CustomerAgreement",
    "CustomerResource",
    "ElectricPowerQualitySummary",
    "IntervalBlock",
    "LocalTimeParameters",
    "Meter",
    "MeterReading",
    "Notification",
    "NotificationAttempt",
    "NotifyEvent",
    "RateCounter",
    "ReadingType",
    "RetailCustomer",
    "ServiceLocation",
    "SignIn",
    "Subscription",
    "Token",
    "UsagePoint",
    "UsageSummary",
    "agreement_usage_point",
    "subscription_usage_point",
]
