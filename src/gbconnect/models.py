"""Every table, imported in one place (Alembic and tests import this module)."""

from gbconnect.api.packages import BatchPackage
from gbconnect.audit.models import AuditEvent, AuditHead
from gbconnect.console.models import StaffUser
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
from gbconnect.ingest.models import ImportRun
from gbconnect.notify.models import Notification, NotificationAttempt, NotifyEvent
from gbconnect.oauth.models import (
    Authorization,
    AuthorizationCode,
    Subscription,
    Token,
    subscription_usage_point,
)
from gbconnect.ratelimit.models import RateCounter
from gbconnect.registration.models import (
    ApplicationCertificate,
    ApplicationInformation,
    ApplicationLogo,
)
from gbconnect.thirdparty_portal.models import Company, CompanyUser
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
    "ApplicationCertificate",
    "ApplicationInformation",
    "ApplicationLogo",
    "AuditEvent",
    "AuditHead",
    "Authorization",
    "AuthorizationCode",
    "BatchPackage",
    "Company",
    "CompanyUser",
    "Customer",
    "CustomerAccount",
    "CustomerAgreement",
    "CustomerResource",
    "ElectricPowerQualitySummary",
    "ImportRun",
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
    "StaffUser",
    "Subscription",
    "Token",
    "UsagePoint",
    "UsageSummary",
    "agreement_usage_point",
    "subscription_usage_point",
]
