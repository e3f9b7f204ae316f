"""Grants and tokens without the browser: operator tokens (admin, upload) and a
customer's authorization of a third party with its access token (REQ.21 FB_32/FB_33,
RFC 6749 section 1.4)."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy.orm import Session

from gbconnect.config import Settings
from gbconnect.customer.models import RetailCustomer
from gbconnect.espi import scope as espi_scope
from gbconnect.oauth import models as om
from gbconnect.oauth import services
from gbconnect.registration.models import ApplicationInformation

#: The scope of the operator's tokens (FB_33: the Data Custodian's own access).
OPERATOR_SCOPE = "FB=33"


def operator_token(session: Session, token_class: str = om.ADMIN) -> str:
    """A token of the Data Custodian's own (``om.ADMIN`` or ``om.UPLOAD``) that never
    expires; returns its value."""
    value, _ = services.issue_token(
        session,
        kind="access",
        token_class=token_class,
        application_id=None,
        authorization_id=None,
        scope=OPERATOR_SCOPE,
        lifetime=None,
    )
    return value


def grant(
    session: Session,
    settings: Settings,
    app: ApplicationInformation,
    customer: RetailCustomer,
    usage_point_ids: Sequence[int],
    *,
    scope: str = "FB=1_3_4_5_13_14",
    end: int | None = None,
    lifetime: int = 3600,
) -> tuple[om.Authorization, str]:
    """The customer's authorization of ``app`` for ``usage_point_ids``, as the consent
    page makes it, and a customer access token on it; returns both."""
    auth = services.grant_customer_authorization(
        session,
        settings,
        app,
        customer,
        services.GrantRequest(
            scope=espi_scope.parse(scope), usage_point_ids=list(usage_point_ids), end=end
        ),
    )
    token, _ = services.issue_token(
        session,
        kind="access",
        token_class=om.CUSTOMER,
        application_id=app.id,
        authorization_id=auth.id,
        scope=auth.scope,
        lifetime=lifetime,
    )
    return auth, token


def client_token(session: Session, app: ApplicationInformation, lifetime: int = 86400) -> str:
    """A client access token of ``app`` (client_credentials, FB_34/FB_35: its Bulk and
    Authorizations); returns its value."""
    value, _ = services.issue_token(
        session,
        kind="access",
        token_class=om.CLIENT,
        application_id=app.id,
        authorization_id=services.client_authorization(session, app).id,
        scope="FB=34_35",
        lifetime=lifetime,
    )
    return value


def customer_token(session: Session, auth: om.Authorization, lifetime: int = 86400) -> str:
    """A customer access token on ``auth`` under its scope; returns its value."""
    value, _ = services.issue_token(
        session,
        kind="access",
        token_class=om.CUSTOMER,
        application_id=auth.application_id,
        authorization_id=auth.id,
        scope=auth.scope,
        lifetime=lifetime,
    )
    return value
