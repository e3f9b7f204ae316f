"""What a third party is notified of (REQ.21 FB_39 push notification, STANDARD.md
section 3).

A Data Custodian POSTs a ``BatchList`` of resource URIs to the third party's
``thirdPartyNotifyUri``; the third party then GETs them with its token. GBA PSH001-003
expect notifications for ApplicationInformation, Authorization and Subscription
changes; PG&E also notifies when new data is ready. Each event below is one such
reason, carrying the ids a later delivery needs to build the URIs (the event knows
no URL and no HTTP).

Events are plain frozen values: made by the service that changed the state, recorded
with its transaction (:func:`gbconnect.notify.outbox.publish`).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any


@dataclass(frozen=True)
class AuthorizationGranted:
    """A customer granted a third party access: a new Authorization and Subscription
    (REQ.21 FB_3; GBA PSH002/PSH003 notify the Authorization and the Subscription)."""

    authorization_id: int
    application_id: int
    retail_customer_id: int | None
    subscription_id: int | None


@dataclass(frozen=True)
class AuthorizationRevoked:
    """An Authorization was revoked (status 0) and every token of it ended.

    ``by`` says who: ``"customer"`` (the portal), ``"third party"`` (DELETE or PUT
    Authorization), ``"data custodian"`` (the operator, or the third party revoked),
    ``"replaced"`` (the customer authorized the same third party again).
    """

    authorization_id: int
    application_id: int
    by: str


@dataclass(frozen=True)
class AuthorizationExpired:
    """An Authorization's ``authorizedPeriod`` ended: its tokens were ended; its
    status stays 1 as espi.xsd has no "expired" status."""

    authorization_id: int
    application_id: int


@dataclass(frozen=True)
class AuthorizationChanged:
    """A customer changed an active Authorization's ``authorizedPeriod`` (its end date,
    or "until I take it back") on the portal (REQ.21 FB_3; GBA PSH002 notifies the
    Authorization): the third party reads the Authorization again."""

    authorization_id: int
    application_id: int


@dataclass(frozen=True)
class ThirdPartyStatusChanged:
    """The utility changed a third party's ``dataCustodianApplicationStatus``
    (STANDARD.md section 4: 1 review, 2 production, 3 on hold, 4 revoked; GBA PSH001
    notifies ApplicationInformation)."""

    application_id: int
    old_status: int
    new_status: int


@dataclass(frozen=True)
class ApplicationChanged:
    """A third party's ApplicationInformation changed (its own PUT through dynamic
    registration, or the utility's edit): GBA PSH001 notifies the ApplicationInformation."""

    application_id: int
    by: str


@dataclass(frozen=True)
class BatchReady:
    """An asynchronous batch (a request answered 202) was packaged: the third party is
    told the package's path under the resource base, fetched with the same token."""

    application_id: int
    path: str


@dataclass(frozen=True)
class NewData:
    """New readings were stored for these usage points (PG&E's daily "new data is
    ready" notification); delivery finds the subscriptions that cover them."""

    usage_point_ids: tuple[int, ...]


Event = (
    AuthorizationGranted
    | AuthorizationRevoked
    | AuthorizationExpired
    | AuthorizationChanged
    | ThirdPartyStatusChanged
    | ApplicationChanged
    | BatchReady
    | NewData
)
"""Any event a third party may be notified of."""

KINDS: dict[str, type[Event]] = {
    cls.__name__: cls
    for cls in (
        AuthorizationGranted,
        AuthorizationRevoked,
        AuthorizationExpired,
        AuthorizationChanged,
        ThirdPartyStatusChanged,
        ApplicationChanged,
        BatchReady,
        NewData,
    )
}
"""Event classes by the name stored in ``notify_event.kind``."""


def to_row(event: Event) -> tuple[str, dict[str, Any]]:
    """The kind and JSON payload that store ``event``."""
    payload = asdict(event)
    if isinstance(event, NewData):
        payload["usage_point_ids"] = list(event.usage_point_ids)
    return type(event).__name__, payload


def from_row(kind: str, payload: dict[str, Any]) -> Event:
    """The event stored as ``kind`` and ``payload`` (KeyError for an unknown kind)."""
    cls = KINDS[kind]
    if cls is NewData:
        return NewData(tuple(int(i) for i in payload["usage_point_ids"]))
    return cls(**payload)


__all__ = [
    "KINDS",
    "ApplicationChanged",
    "AuthorizationChanged",
    "AuthorizationExpired",
    "AuthorizationGranted",
    "AuthorizationRevoked",
    "BatchReady",
    "Event",
    "NewData",
    "ThirdPartyStatusChanged",
    "from_row",
    "to_row",
]
