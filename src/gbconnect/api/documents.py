"""ESPI content for the Connect My Data resources of FB_3: ApplicationInformation,
Authorization and ServiceStatus (espi.xsd element order is strict)."""

from __future__ import annotations

from typing import Any

from gbconnect.config import Settings
from gbconnect.espi.atom import ESPI, element, entry, escape
from gbconnect.oauth import models as om
from gbconnect.oauth.scoping import shows_customer_data
from gbconnect.registration import models as rm


def application_information(app: rm.ApplicationInformation, settings: Settings) -> str:
    """espi.xsd ApplicationInformation. The client secret and registration access
    token are never readable again after registration: those elements are empty."""
    parts = [
        f'<ApplicationInformation xmlns="{ESPI}">',
        element("dataCustodianId", settings.data_custodian_id),
        element("dataCustodianApplicationStatus", app.data_custodian_status),
        element("thirdPartyApplicationDescription", app.description),
        element("thirdPartyApplicationStatus", app.third_party_status),
        element("thirdPartyApplicationType", app.application_type),
        element("thirdPartyApplicationUse", app.application_use),
        element("authorizationServerUri", settings.site_url().rstrip("/")),
        element("thirdPartyNotifyUri", app.notify_uri or ""),
        element("authorizationServerAuthorizationEndpoint", settings.site_url("oauth/authorize")),
        element("authorizationServerTokenEndpoint", settings.site_url("oauth/token")),
        element("dataCustodianBulkRequestURI", settings.resource_url(f"Batch/Bulk/{app.bulk_id}")),
        element("dataCustodianResourceEndpoint", settings.public_resource_base),
        element("thirdPartyUserPortalScreenURI", app.portal_uri),
        "<client_secret></client_secret>",
        element("logo_uri", app.logo_uri),
        element("client_name", app.client_name),
        element("client_uri", app.client_uri),
        *(element("redirect_uri", u) for u in app.redirect_uris),
        element("client_id", app.client_id),
        element("tos_uri", app.tos_uri),
        element("policy_uri", app.policy_uri),
        element("software_id", app.software_id or "gbconnect-registered"),
        element("software_version", app.software_version or "1"),
        element("client_id_issued_at", app.client_id_issued_at),
        element("client_secret_expires_at", app.client_secret_expires_at),
        *(element("contacts", c) for c in app.contacts or ()),
        element("token_endpoint_auth_method", app.token_endpoint_auth_method),
        *(element("scope", s) for s in app.scopes),
        *(element("grant_types", g) for g in app.grant_types),
        element("response_types", "code"),
        element(
            "registration_client_uri", settings.resource_url(f"ApplicationInformation/{app.id}")
        ),
        "<registration_access_token></registration_access_token>",
        "</ApplicationInformation>",
    ]
    return "".join(parts)


def _period(name: str, start: int | None, duration: int | None) -> str:
    if start is None:
        return ""
    return f"<{name}><duration>{duration or 0}</duration><start>{start}</start></{name}>"


def authorization_of(
    auth: Any, settings: Settings, *, bulk_id: int | None, subscription_id: int | None
) -> str:
    """espi.xsd Authorization of ``auth`` (the ORM object or a row of its columns),
    its third party's ``bulk_id`` (a client_credentials grant's) and its
    ``subscription_id``. "Until revoked" is an authorizedPeriod of duration 0 (no
    end), as OpenESPI and PG&E write it. ``customerResourceURI`` names the customer
    records the grant shows, ``Customer/{subscriptionId}`` (read with the customer's
    access token, or the admin token); a grant without a retail-customer block, and a
    client_credentials one, have none to name, so the element is left out
    (minOccurs 0)."""
    if auth.token_class == om.CLIENT:
        resource = settings.resource_url(f"Batch/Bulk/{bulk_id}")
    elif subscription_id is not None:
        resource = settings.resource_url(f"Batch/Subscription/{subscription_id}")
    else:
        resource = settings.resource_url(f"Authorization/{auth.id}")
    customer = (
        settings.resource_url(f"Customer/{subscription_id}")
        if subscription_id is not None
        and shows_customer_data(auth.scope, f"Authorization {auth.id}")
        else None
    )
    return "".join(
        [
            f'<Authorization xmlns="{ESPI}">',
            _period("authorizedPeriod", auth.authorized_start, auth.authorized_duration),
            _period("publishedPeriod", auth.published_start, auth.published_duration),
            element("status", auth.status),
            element("expires_at", auth.expires_at or 0),
            element("grant_type", auth.grant_type),
            element("scope", auth.scope),
            element("token_type", "Bearer"),
            element("resourceURI", resource),
            element("authorizationURI", settings.resource_url(f"Authorization/{auth.id}")),
            element("customerResourceURI", customer),
            "</Authorization>",
        ]
    )


def authorization_entry(
    settings: Settings, auth: Any, *, bulk_id: int | None, subscription_id: int | None
) -> str:
    """The Atom entry of an Authorization (:func:`authorization_of`)."""
    return entry(
        self_href=settings.resource_url(f"Authorization/{auth.id}"),
        up_href=settings.resource_url("Authorization"),
        title=auth.title,
        published=auth.published,
        updated=auth.updated,
        content=authorization_of(auth, settings, bulk_id=bulk_id, subscription_id=subscription_id),
    )


def service_status(up: bool = True) -> str:
    """espi.xsd ServiceStatus: currentStatus 1 when the service is up."""
    status = 1 if up else 0
    return f'<ServiceStatus xmlns="{ESPI}"><currentStatus>{status}</currentStatus></ServiceStatus>'


__all__ = [
    "application_information",
    "authorization_entry",
    "authorization_of",
    "escape",
    "service_status",
]
