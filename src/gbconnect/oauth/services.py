"""Grants and tokens: creating and finding them (REQ.21 Authorization, FB_3).

Services take a session and return model objects or None; they raise typed errors for
invalid input and never build HTTP responses (DESIGN.md habits). Ending grants and
tokens is :mod:`gbconnect.oauth.revocation`'s (its functions are importable from here
too).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from gbconnect.audit import Actor, record
from gbconnect.audit.record import CUSTOMER
from gbconnect.config import Settings
from gbconnect.customer.models import RetailCustomer
from gbconnect.errors import InputError
from gbconnect.espi import scope as espi_scope
from gbconnect.notify.events import AuthorizationGranted
from gbconnect.notify.outbox import publish
from gbconnect.oauth import models as om
from gbconnect.oauth.revocation import (
    end_tokens,
    expire_authorizations,
    revoke_authorization,
)
from gbconnect.oauth.secrets import digest, new_secret
from gbconnect.registration import models as rm
from gbconnect.resource import now
from gbconnect.usage import points
from gbconnect.usage.models import UsagePoint

CLIENT_SCOPE = "FB=34_35"
"""The scope of a client access token (bulk; STANDARD.md section 2)."""


class GrantError(InputError):
    """A grant that cannot be made as asked (unknown usage point, bad period, ...)."""


def issue_token(
    session: Session,
    *,
    kind: str,
    token_class: str,
    application_id: int | None,
    authorization_id: int | None,
    scope: str,
    lifetime: int | None,
    code_id: int | None = None,
) -> tuple[str, om.Token]:
    """A new token; returns its value (shown once) and the stored row (hash only)."""
    value = new_secret()
    t = now()
    row = om.Token(
        token_hash=digest(value),
        kind=kind,
        token_class=token_class,
        application_id=application_id,
        authorization_id=authorization_id,
        scope=scope,
        issued_at=t,
        expires_at=None if lifetime is None else t + lifetime,
        code_id=code_id,
    )
    session.add(row)
    session.flush()
    return value, row


def find_token(session: Session, value: str | None, kind: str | None = None) -> om.Token | None:
    """The stored token whose value is ``value`` (any state), or None."""
    if not value or len(value) > 512:
        return None
    stmt = select(om.Token).where(om.Token.token_hash == digest(value))
    if kind is not None:
        stmt = stmt.where(om.Token.kind == kind)
    return session.scalars(stmt).one_or_none()


def token_is_usable(session: Session, token: om.Token, at: int) -> bool:
    """Live, its application neither held nor revoked, its authorization active."""
    if not token.is_live(at):
        return False
    app = token.application
    if app is not None and app.data_custodian_status in (rm.ON_HOLD, rm.REVOKED):
        return token.token_class == om.REGISTRATION and app.data_custodian_status == rm.ON_HOLD
    auth = token.authorization
    return auth is None or auth.is_active(at)


def may_authorize(app: rm.ApplicationInformation, customer: RetailCustomer) -> bool:
    """Whether ``customer`` may authorize ``app``: any customer once the utility has
    approved it (``dataCustodianApplicationStatus`` 2, production); before that only a
    test customer (:attr:`RetailCustomer.is_test`), as PG&E's connectivity test does
    its OAuth step with test accounts. The consent pages and the token endpoint both
    ask (STANDARD.md sections 4 and 7)."""
    return app.data_custodian_status == rm.PRODUCTION or customer.is_test


revoke_tokens = end_tokens
"""Older name of :func:`gbconnect.oauth.revocation.end_tokens`."""


def customer_usage_points(session: Session, customer: RetailCustomer) -> list[UsagePoint]:
    """The customer's usage points, ordered by id (:mod:`gbconnect.usage.points`)."""
    return points.customer_usage_points(session, customer.id)


@dataclass
class GrantRequest:
    """What the customer chose on the consent page (or the operator, offline)."""

    scope: espi_scope.Scope
    usage_point_ids: Sequence[int]
    end: int | None  # None: until revoked
    start: int | None = None


def grant_customer_authorization(
    session: Session,
    settings: Settings,
    app: rm.ApplicationInformation,
    customer: RetailCustomer,
    request: GrantRequest,
    *,
    grant_type: str = "authorization_code",
    offline: bool = False,
    actor: Actor | None = None,
) -> om.Authorization:
    """Create the Authorization and Subscription of a customer grant, recorded in the
    audit log (``consent.granted``, or ``authorization.offline`` for paper) by
    ``actor``.

    A customer who authorizes the same third party again replaces the old grant: its
    Authorization is revoked with its tokens. The published period starts
    HistoryLength before now (REQ.21 scope HistoryLength).

    An offline (paper, REQ.21 FB_40) authorization negotiates no code and issues no
    customer token: the third party reads it with its client_credentials token (its
    ``resourceURI``, Batch/Subscription), so its espi.xsd ``grant_type`` is
    ``client_credentials`` (of espi.xsd GrantType's three values, the one true of it).
    """
    if offline:
        grant_type = "client_credentials"
    owned = {up.id for up in customer_usage_points(session, customer)}
    chosen = list(dict.fromkeys(request.usage_point_ids))
    if not chosen:
        raise GrantError("choose at least one service to share")
    foreign = [i for i in chosen if i not in owned]
    if foreign:
        raise GrantError("a chosen service does not belong to this customer")
    t = now()
    start = request.start if request.start is not None else t
    if request.end is not None and request.end <= start:
        raise GrantError("the authorization must end after it starts")
    history = request.scope.history_seconds()
    for old in session.scalars(
        select(om.Authorization).where(
            om.Authorization.application_id == app.id,
            om.Authorization.retail_customer_id == customer.id,
            om.Authorization.status == om.ACTIVE,
        )
    ):
        revoke_authorization(session, old, "replaced")
    auth = _new_authorization(
        session,
        app,
        f"{app.client_name} authorization",
        t,
        retail_customer_id=customer.id,
        grant_type=grant_type,
        token_class=om.CUSTOMER,
        scope=str(request.scope),
        authorized_start=start,
        authorized_duration=None if request.end is None else request.end - start,
        published_start=None if history is None else t - history,
        published_duration=None if history is None else history,
        offline=offline,
    )
    # The title reaches the third party: no login, name or email (REQ.21 FB_13).
    auth.title = f"{auth.title} {auth.id}"[:256]
    sub = om.Subscription(
        authorization_id=auth.id,
        retail_customer_id=customer.id,
        application_id=app.id,
        published=t,
        updated=t,
    )
    session.add(sub)
    session.flush()
    session.execute(
        om.subscription_usage_point.insert(),
        [{"subscription_id": sub.id, "usage_point_id": i} for i in chosen],
    )
    publish(session, AuthorizationGranted(auth.id, app.id, customer.id, sub.id))
    record(
        session,
        "authorization.offline" if offline else "consent.granted",
        actor or Actor(CUSTOMER, f"customer {customer.id}"),
        ("authorization", auth.id),
        {
            "client_id": app.client_id,
            "customer": customer.id,
            "scope": auth.scope,
            "usage_points": len(chosen),
            "end": request.end,
        },
    )
    return auth


def client_authorization(session: Session, app: rm.ApplicationInformation) -> om.Authorization:
    """The Authorization behind a third party's client_credentials tokens (one per
    third party, reused; REQ.21: client tokens get Authorization resources too)."""
    auth = session.scalars(
        select(om.Authorization).where(
            om.Authorization.application_id == app.id,
            om.Authorization.token_class == om.CLIENT,
            om.Authorization.status == om.ACTIVE,
        )
    ).first()
    if auth is None:
        t = now()
        auth = _new_authorization(
            session,
            app,
            f"{app.client_name} (client access)",
            t,
            retail_customer_id=None,
            grant_type="client_credentials",
            token_class=om.CLIENT,
            scope=CLIENT_SCOPE,
            authorized_start=t,
        )
    return auth


def _new_authorization(
    session: Session,
    app: rm.ApplicationInformation,
    title: str,
    at: int,
    **fields: object,
) -> om.Authorization:
    """An active Authorization of ``app``, published at ``at``; ``fields`` are its
    espi.xsd values (grant type, token class, scope, periods)."""
    auth = om.Authorization(
        application_id=app.id,
        status=om.ACTIVE,
        title=title[:256],
        published=at,
        updated=at,
        **fields,
    )
    session.add(auth)
    session.flush()
    return auth


def subscription_usage_point_ids(session: Session, subscription_id: int) -> list[int]:
    return list(
        session.scalars(
            select(om.subscription_usage_point.c.usage_point_id).where(
                om.subscription_usage_point.c.subscription_id == subscription_id
            )
        )
    )


def authorizations_of(
    session: Session, application_id: int | None = None, customer_id: int | None = None
) -> list[om.Authorization]:
    stmt = select(om.Authorization).order_by(om.Authorization.published, om.Authorization.id)
    if application_id is not None:
        stmt = stmt.where(om.Authorization.application_id == application_id)
    if customer_id is not None:
        stmt = stmt.where(om.Authorization.retail_customer_id == customer_id)
    return list(session.scalars(stmt))


__all__ = [
    "CLIENT_SCOPE",
    "GrantError",
    "GrantRequest",
    "client_authorization",
    "customer_usage_points",
    "expire_authorizations",
    "find_token",
    "grant_customer_authorization",
    "issue_token",
    "may_authorize",
    "revoke_authorization",
    "revoke_tokens",
    "token_is_usable",
]
