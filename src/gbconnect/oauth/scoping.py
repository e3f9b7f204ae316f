"""What a token may see: usage points, data groups and time (in one place).

REQ.21 scoping, as STANDARD.md and the issue state it: a customer token sees only
the UsagePoints of its Subscription; a client token those of every active
authorization of its third party (Batch/Bulk); the admin token everything. Within
them, the granted scope decides the data groups (no gas without FB_10, no interval
cost without FB_12, no bill without FB_16, no summaries without FB_15/16, no power
quality without FB_17, no customer data without the retail-customer blocks; what each
block grants is :mod:`gbconnect.espi.blocks`) and the authorization decides the time:
readings from the start of its published period (HistoryLength) to the end of its
authorized period.

A customer token is read under its own scope: a client that narrowed its scope at
refresh (RFC 6749 section 6) sees only what the narrower scope grants, while the
Authorization keeps the scope the customer granted. A stored scope that no longer
parses is refused with 403 and logged, never read as "sees nothing".
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from functools import lru_cache

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from gbconnect.espi import blocks as fb
from gbconnect.espi import scope as espi_scope
from gbconnect.oauth import models as om
from gbconnect.oauth.guard import AccessDenied, Caller, GrantView, NotFound
from gbconnect.oauth.services import subscription_usage_point_ids
from gbconnect.resource import now

log = logging.getLogger(__name__)

_INTERVALS = fb.carrying(fb.Carries.INTERVALS)
_INTERVAL_COST = fb.carrying(fb.Carries.INTERVAL_COST)
_SUMMARIES = fb.carrying(fb.Carries.SUMMARIES)
_SUMMARY_COST = fb.carrying(fb.Carries.SUMMARY_COST)
_QUALITY = fb.carrying(fb.Carries.POWER_QUALITY)


@dataclass(frozen=True)
class Grant:
    """What one authorization allows on its usage points."""

    blocks: frozenset[int] | None  # None: every block offered (a scope without FB)
    lo: int | None = None  # first reading start allowed
    hi: int | None = None  # readings must start before this
    subscription_id: int | None = None

    def has(self, *wanted: int) -> bool:
        """Any of the ``wanted`` function blocks is granted."""
        return self.blocks is None or not self.blocks.isdisjoint(wanted)

    def _any(self, wanted: frozenset[int]) -> bool:
        return self.blocks is None or not self.blocks.isdisjoint(wanted)

    def service(self, kind: int) -> bool:
        """The usage point's commodity (ServiceKind) is in scope
        (:func:`gbconnect.espi.blocks.blocks_for_service`)."""
        return self._any(fb.blocks_for_service(kind))

    @property
    def intervals(self) -> bool:
        """MeterReading, ReadingType and IntervalBlock (FB_4)."""
        return self._any(_INTERVALS)

    @property
    def interval_cost(self) -> bool:
        """IntervalReading/cost (FB_12)."""
        return self._any(_INTERVAL_COST)

    @property
    def summaries(self) -> bool:
        """UsageSummary (FB_15/16)."""
        return self._any(_SUMMARIES)

    @property
    def summary_cost(self) -> bool:
        """UsageSummary cost (FB_16)."""
        return self._any(_SUMMARY_COST)

    @property
    def quality(self) -> bool:
        """ElectricPowerQualitySummary (FB_17)."""
        return self._any(_QUALITY)

    @property
    def customer_data(self) -> bool:
        """The retail customer's customer.xsd records (FB_46-71)."""
        return self._any(fb.CUSTOMER_RECORD_BLOCKS)


FULL = Grant(blocks=None)


@dataclass
class Visibility:
    """Usage point id -> the grant it is seen under."""

    grants: dict[int, Grant] = field(default_factory=dict)
    everything: bool = False

    def grant_for(self, usage_point_id: int) -> Grant | None:
        if self.everything:
            return FULL
        return self.grants.get(usage_point_id)


class UnreadableGrant(AccessDenied):
    """A stored grant whose scope no longer parses: refused (403), never widened or
    emptied. gbconnect stores only scopes it has parsed, so this is logged as a fault."""

    def __init__(self) -> None:
        super().__init__(
            403,
            "insufficient_scope",
            "the scope of this grant cannot be read; the customer must authorize again",
        )


@lru_cache(maxsize=4096)
def _blocks_of(scope: str) -> frozenset[int] | None:
    """The function blocks a scope grants, None for every block offered (a scope
    without ``FB``); parsed once per scope string. Raises ScopeError."""
    parsed = espi_scope.parse(scope)
    if parsed.get("FB") is None:
        return None
    return fb.with_current_numbers(parsed.function_blocks)


def _granted(scope: str, what: str) -> frozenset[int] | None:
    try:
        return _blocks_of(scope)
    except espi_scope.ScopeError as exc:
        log.error("%s has a scope that does not parse (%s): %r", what, exc, scope)
        raise UnreadableGrant() from None


def shows_customer_data(scope: str, what: str) -> bool:
    """Whether ``scope`` holds a retail-customer block (FB_51 and after): what
    ``grant_of(auth).customer_data`` says of an Authorization of that scope."""
    grant = Grant(blocks=_granted(scope, what), lo=None, hi=None, subscription_id=None)
    return grant.customer_data


def grant_of(auth: om.Authorization) -> Grant:
    """The grant of an Authorization under the scope the customer granted (the ORM
    path: Batch/Bulk with client tokens, the admin)."""
    return Grant(
        blocks=_granted(auth.scope, f"Authorization {auth.id}"),
        lo=auth.published_start,
        hi=auth.authorized_end,
        subscription_id=auth.subscription.id if auth.subscription else None,
    )


def grant_of_view(view: GrantView) -> Grant:
    """The grant read with the token (no ORM load), under the token's own scope
    (:attr:`GrantView.scope`: narrower than the Authorization's after a narrowing
    refresh)."""
    end = (
        None
        if view.authorized_duration is None
        else view.authorized_start + view.authorized_duration
    )
    return Grant(
        blocks=_granted(view.scope, f"a token of Authorization {view.id}"),
        lo=view.published_start,
        hi=end,
        subscription_id=view.subscription_id,
    )


def visibility(session: Session, caller: Caller) -> Visibility:
    if caller.token_class == om.ADMIN:
        return Visibility(everything=True)
    out = Visibility()
    t = now()
    if caller.token_class == om.CUSTOMER:
        view = caller.grant
        if view is not None and view.is_active(t) and view.subscription_id is not None:
            g = grant_of_view(view)
            for up in subscription_usage_point_ids(session, view.subscription_id):
                out.grants[up] = g
        return out
    if caller.token_class == om.CLIENT:
        # Two statements for any number of grants (a Bulk of thousands of customers):
        # the active authorizations with their subscriptions, then every usage point
        # of those subscriptions.
        mine = (
            om.Authorization.application_id == caller.application_id,
            om.Authorization.token_class == om.CUSTOMER,
            om.Authorization.status == om.ACTIVE,
        )
        auths = session.scalars(
            select(om.Authorization)
            .where(*mine)
            .options(selectinload(om.Authorization.subscription))
        )
        by_subscription = {
            auth.subscription.id: grant_of(auth)
            for auth in auths
            if auth.is_active(t) and auth.subscription is not None
        }
        sup = om.subscription_usage_point.c
        points = session.execute(
            select(sup.subscription_id, sup.usage_point_id)
            .join(om.Subscription, om.Subscription.id == sup.subscription_id)
            .join(om.Authorization, om.Authorization.id == om.Subscription.authorization_id)
            .where(*mine)
        )
        for sid, up in points:
            shown = by_subscription.get(sid)
            if shown is not None:
                out.grants[up] = shown
    return out


def own_subscription(caller: Caller, sid: int) -> Grant:
    """The grant of a customer token over its own Subscription ``sid`` (404 for any
    other Subscription). The grant came with the token: no query."""
    view = caller.grant
    if caller.token_class != om.CUSTOMER or view is None or view.subscription_id != sid:
        raise NotFound()
    return grant_of_view(view)


def subscription_of(session: Session, caller: Caller, sid: int) -> Grant:
    """The grant of Subscription ``sid`` if the caller may read it (404 otherwise)."""
    if caller.token_class == om.CUSTOMER:
        return own_subscription(caller, sid)
    sub = session.get(om.Subscription, sid)
    if sub is None:
        raise NotFound()
    return grant_of(sub.authorization)
