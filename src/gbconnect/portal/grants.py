"""The customer's grants as "My authorizations" shows them, and the changes a customer
may make to one (REQ.21 FB_3 Authorization; STANDARD.md sections 2 and 3).

Each grant is told in the customer's words: the company (``client_name``, its
website), the services it covers by name, the data groups of its scope (the groups
the consent page offered, :func:`gbconnect.portal.consent.groups_of`), the history
length (scope ``HistoryLength``), the authorized period with its end shown as the
last included day (:func:`gbconnect.portal.consent.last_included_day`), and when data
was last delivered to that company (:func:`last_delivered`).

Grants are grouped as **active**, **expired** (the authorized period is over;
espi.xsd keeps status 1) and **revoked** (status 0: by the customer, the third party,
the utility, or replaced by a newer grant).

:func:`change_end` stores a new end the way consent does (the exclusive next
midnight in the utility's zone, as ``authorizedPeriod`` start plus duration) and
publishes :class:`~gbconnect.notify.events.AuthorizationChanged` in the same
transaction, so the third party is told to read the Authorization again (FB_39).
Revocation is :func:`gbconnect.oauth.revocation.revoke_authorization`, never here.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, tzinfo

from sqlalchemy import String, cast, or_, select
from sqlalchemy.orm import Session

from gbconnect.config import Settings
from gbconnect.espi import scope as espi_scope
from gbconnect.i18n import N_
from gbconnect.i18n import gettext as _
from gbconnect.notify.events import AuthorizationChanged
from gbconnect.notify.models import DELIVERED, Notification
from gbconnect.notify.outbox import publish
from gbconnect.oauth import models as om
from gbconnect.oauth.revocation import EXPIRED
from gbconnect.oauth.services import subscription_usage_point_ids
from gbconnect.portal.consent import groups_of, last_included_day, months_label
from gbconnect.portal.home import usage_point_labels

ACTIVE, ENDED, REVOKED = "active", "expired", "revoked"
"""The groups of "My authorizations", in the order shown."""

#: Who ended a grant, as the customer reads it (``revoked_by``).
_REVOKED_BY = {
    "customer": N_("by you"),
    "third party": N_("by the company"),
    "data custodian": N_("by the utility"),
    "replaced": N_("replaced by a newer authorization"),
}


@dataclass(frozen=True)
class GrantView:
    """One grant as the customer sees it."""

    id: int
    company: str
    website: str | None
    state: str
    services: list[str]
    groups: list[str]
    history: str | None
    since: date
    #: The last day included (None: until the customer takes it back).
    until: date | None
    ended: date | None
    ended_how: str | None
    last_delivered: datetime | None
    offline: bool


def state_of(auth: om.Authorization, at: int) -> str:
    """:data:`ACTIVE`, :data:`ENDED` or :data:`REVOKED` at ``at``. A grant whose
    period has not begun yet (an offline one dated ahead) counts as active: it can
    still be changed or revoked."""
    if auth.status != om.ACTIVE:
        return REVOKED
    end = auth.authorized_end
    if auth.revoked_by == EXPIRED or (end is not None and end <= at):
        return ENDED
    return ACTIVE


def history_label(scope: espi_scope.Scope) -> str | None:
    """The scope's HistoryLength in months (months or seconds in the scope, STANDARD.md
    section 2); None when the scope does not say."""
    seconds = scope.history_seconds()
    if seconds is None:
        return None
    return months_label(max(1, round(seconds / espi_scope.MONTH_SECONDS)))


def _website(uri: str | None) -> str | None:
    """The company's website, only as an http(s) link (never ``javascript:``)."""
    if uri and uri.lower().startswith(("https://", "http://")):
        return uri
    return None


def customer_grant(session: Session, customer_id: int, auth_id: int) -> om.Authorization | None:
    """The customer's own grant ``auth_id``; None for an unknown id or another
    customer's (the pages answer both 404: nothing is learnt of others)."""
    auth = session.get(om.Authorization, auth_id)
    if auth is None or auth.retail_customer_id != customer_id or auth.status == om.DENIED:
        return None
    return auth


def customer_grants(session: Session, customer_id: int) -> list[om.Authorization]:
    """The customer's grants, newest first (denied requests left out)."""
    return list(
        session.scalars(
            select(om.Authorization)
            .where(
                om.Authorization.retail_customer_id == customer_id,
                om.Authorization.status != om.DENIED,
            )
            .order_by(om.Authorization.published.desc(), om.Authorization.id.desc())
        )
    )


def last_delivered(session: Session, settings: Settings, auth: om.Authorization) -> float | None:
    """When data of this grant was last delivered to its third party (REQ.21 FB_39):
    the latest ``delivered`` notification to the application whose URIs name the
    grant's ``Batch/Subscription/{id}``, or its ``Batch/Bulk/{bulkId}`` while the grant
    was in force; None when none was. A ``LIKE`` on the stored JSON narrows the rows,
    the URI list itself decides."""
    wanted: list[str] = []
    sub = auth.subscription
    if sub is not None:
        wanted.append(settings.resource_url(f"Batch/Subscription/{sub.id}"))
    bulk = settings.resource_url(f"Batch/Bulk/{auth.application.bulk_id}")
    stmt = (
        select(Notification.finished_at, Notification.created_at, Notification.uris)
        .where(
            Notification.application_id == auth.application_id,
            Notification.state == DELIVERED,
        )
        .order_by(Notification.finished_at.desc(), Notification.id.desc())
    )
    patterns = [f'%"{_like_escape(u)}"%' for u in [*wanted, bulk]]
    text = cast(Notification.uris, String)
    stmt = stmt.where(or_(*(text.like(p, escape="\\") for p in patterns)))
    ended = auth.revoked_at
    for finished, created, uris in session.execute(stmt):
        names = set(uris or ())
        if names & set(wanted):
            return float(finished) if finished is not None else float(created)
        if (
            bulk in names
            and created >= auth.authorized_start
            and (ended is None or created <= ended)
        ):
            return float(finished) if finished is not None else float(created)
    return None


def _like_escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def grant_view(session: Session, settings: Settings, auth: om.Authorization, at: int) -> GrantView:
    """What "My authorizations" shows of ``auth`` at ``at``."""
    zone = settings.zone
    scope = espi_scope.parse(auth.scope)
    sub = auth.subscription
    ids = subscription_usage_point_ids(session, sub.id) if sub is not None else []
    labels = usage_point_labels(session, ids)
    state = state_of(auth, at)
    end = auth.authorized_end
    ended: date | None = None
    how: str | None = None
    if state == REVOKED and auth.revoked_at is not None:
        ended = _day(auth.revoked_at, zone)
        known = _REVOKED_BY.get(auth.revoked_by or "")
        how = _(known) if known else auth.revoked_by
    delivered = last_delivered(session, settings, auth)
    return GrantView(
        id=auth.id,
        company=auth.application.client_name,
        website=_website(auth.application.client_uri),
        state=state,
        services=[labels[i] for i in sorted(labels, key=lambda i: (labels[i], i))],
        groups=[_(g.label) for g in groups_of(scope)],
        history=history_label(scope),
        since=_day(auth.authorized_start, zone),
        until=None if end is None else last_included_day(end, zone),
        ended=ended,
        ended_how=how,
        last_delivered=None if delivered is None else datetime.fromtimestamp(int(delivered), zone),
        offline=auth.offline,
    )


def grouped(
    session: Session, settings: Settings, customer_id: int, at: int
) -> dict[str, list[GrantView]]:
    """The customer's grants by :data:`ACTIVE`, :data:`ENDED` and :data:`REVOKED`."""
    out: dict[str, list[GrantView]] = {ACTIVE: [], ENDED: [], REVOKED: []}
    for auth in customer_grants(session, customer_id):
        view = grant_view(session, settings, auth, at)
        out[view.state].append(view)
    return out


def change_end(session: Session, auth: om.Authorization, end: int | None, at: int) -> bool:
    """Store a new end of an active grant (``end``: the exclusive end, as
    :func:`gbconnect.portal.consent.parse_end` gives it; None: until revoked) and
    publish :class:`~gbconnect.notify.events.AuthorizationChanged` with the caller's
    transaction. False (nothing done) when the end is the same."""
    duration = None if end is None else end - auth.authorized_start
    if duration == auth.authorized_duration:
        return False
    auth.authorized_duration = duration
    auth.updated = at
    session.flush()
    publish(session, AuthorizationChanged(auth.id, auth.application_id))
    return True


def _day(epoch: int, zone: tzinfo) -> date:
    return datetime.fromtimestamp(epoch, zone).date()


__all__ = [
    "ACTIVE",
    "ENDED",
    "REVOKED",
    "GrantView",
    "change_end",
    "customer_grant",
    "customer_grants",
    "grant_view",
    "grouped",
    "history_label",
    "last_delivered",
    "state_of",
]
