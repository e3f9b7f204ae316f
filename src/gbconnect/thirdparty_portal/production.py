"""A third party's view of its production (issue 12, part 4): its authorizations and
its notifications.

Customers appear only as a **pseudonym**: an HMAC-SHA256 (RFC 2104) of the customer's
id under ``GBCONNECT_SECRET_KEY``, the same for one customer across the third party's
authorizations and meaningless elsewhere -- never a name, address or account number
(REQ.21 FB_13: no PII beyond what the customer granted, which the API serves).
The delivery log and its replay are :mod:`gbconnect.notify.admin`'s, limited to the
application's own notifications.
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from gbconnect.config import Settings
from gbconnect.oauth import models as om
from gbconnect.registration import models as rm

STATE_NAMES = {om.ACTIVE: "active", om.REVOKED: "revoked", om.DENIED: "denied"}
#: Authorizations listed one by one (newest first).
LISTED = 50


def pseudonym(settings: Settings, customer_id: int, application_id: int) -> str:
    """The customer as this third party sees them: 16 hex digits of an HMAC of the
    ids under the secret key (different for each application, so that two third
    parties cannot join their lists)."""
    message = f"customer:{customer_id}:application:{application_id}".encode()
    key = settings.secret_key.encode()
    return hmac.new(key, message, hashlib.sha256).hexdigest()[:16]


@dataclass(frozen=True)
class Grant:
    """One authorization as the third party's portal shows it."""

    id: int
    customer: str
    state: str
    scope: str
    authorized_start: int
    expires_at: int | None


def authorization_counts(session: Session, app: rm.ApplicationInformation) -> dict[str, int]:
    """Customer authorizations (not client tokens) by state; every state present."""
    counts = dict.fromkeys(STATE_NAMES.values(), 0)
    rows = session.execute(
        select(om.Authorization.status, func.count())
        .where(om.Authorization.application_id == app.id)
        .where(om.Authorization.retail_customer_id.is_not(None))
        .group_by(om.Authorization.status)
    ).all()
    for status, count in rows:
        counts[STATE_NAMES.get(int(status), str(status))] = int(count)
    return counts


def grants(session: Session, settings: Settings, app: rm.ApplicationInformation) -> list[Grant]:
    """The newest :data:`LISTED` customer authorizations, customers by pseudonym."""
    rows = session.scalars(
        select(om.Authorization)
        .where(om.Authorization.application_id == app.id)
        .where(om.Authorization.retail_customer_id.is_not(None))
        .order_by(om.Authorization.id.desc())
        .limit(LISTED)
    ).all()
    return [
        Grant(
            id=a.id,
            customer=pseudonym(settings, int(a.retail_customer_id or 0), app.id),
            state=STATE_NAMES.get(a.status, str(a.status)),
            scope=a.scope,
            authorized_start=a.authorized_start,
            expires_at=a.expires_at,
        )
        for a in rows
    ]


__all__ = ["LISTED", "STATE_NAMES", "Grant", "authorization_counts", "grants", "pseudonym"]
