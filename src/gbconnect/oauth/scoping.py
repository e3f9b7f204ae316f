"""What a token may see: usage points, data groups and time (in one place).

REQ.21 scoping, as STANDARD.md and the issue state it: a customer token sees only
the UsagePoints of its Subscription; a client token those of every active
authorization of its third party (Batch/Bulk); the admin token everything. Within
them, the granted scope decides the data groups (no gas without FB_10, no interval
cost without FB_12, no bill without FB_16, no summaries without FB_15/16, no power
quality without FB_17, no customer data without the retail-customer blocks) and the
authorization decides the time: readings from the start of its published period
(HistoryLength) to the end of its authorized period.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache

from sqlalchemy import select
from sqlalchemy.orm import Session

from gbconnect.espi import scope as espi_scope
from gbconnect.oauth import models as om
from gbconnect.oauth.guard import NOT_FOUND, Caller, GrantView
from gbconnect.oauth.services import subscription_usage_point_ids
from gbconnect.resource import now

_CUSTOMER_BLOCKS = frozenset(range(46, 72))


@dataclass(frozen=True)
class Grant:
    """What one authorization allows on its usage points."""

    blocks: frozenset[int] | None  # None: every block offered (a scope without FB)
    lo: int | None = None  # first reading start allowed
    hi: int | None = None  # readings must start before this
    subscription_id: int | None = None

    def has(self, *wanted: int) -> bool:
        return self.blocks is None or any(b in self.blocks for b in wanted)

    def service(self, kind: int) -> bool:
        """The usage point's commodity is in scope (FB_5 electricity, 10 gas, 11 water)."""
        if kind == 0:
            return self.has(4, 5, 6, 7, 8, 9, 15, 16)
        if kind == 1:
            return self.has(10)
        if kind == 2:
            return self.has(11)
        return self.has(1)

    @property
    def intervals(self) -> bool:
        return self.has(4)

    @property
    def interval_cost(self) -> bool:
        return self.has(12)

    @property
    def summaries(self) -> bool:
        return self.has(15, 16)

    @property
    def summary_cost(self) -> bool:
        return self.has(16)

    @property
    def quality(self) -> bool:
        return self.has(17)

    @property
    def customer_data(self) -> bool:
        return self.blocks is None or bool(self.blocks & _CUSTOMER_BLOCKS)


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


@lru_cache(maxsize=4096)
def _blocks_of(scope: str) -> frozenset[int] | None:
    try:
        parsed = espi_scope.parse(scope)
    except espi_scope.ScopeError:
        return frozenset()
    return parsed.function_blocks if parsed.get("FB") is not None else None


def grant_of(auth: om.Authorization) -> Grant:
    return Grant(
        blocks=_blocks_of(auth.scope),
        lo=auth.published_start,
        hi=auth.authorized_end,
        subscription_id=auth.subscription.id if auth.subscription else None,
    )


def grant_of_view(view: GrantView) -> Grant:
    """:func:`grant_of` for the grant read with the token (no ORM load)."""
    end = (
        None
        if view.authorized_duration is None
        else view.authorized_start + view.authorized_duration
    )
    return Grant(
        blocks=_blocks_of(view.scope),
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
        auth = caller.authorization
        if auth is not None and auth.is_active(t) and auth.subscription is not None:
            g = grant_of(auth)
            for up in subscription_usage_point_ids(session, auth.subscription.id):
                out.grants[up] = g
        return out
    if caller.token_class == om.CLIENT:
        auths = session.scalars(
            select(om.Authorization).where(
                om.Authorization.application_id == caller.application_id,
                om.Authorization.token_class == om.CUSTOMER,
                om.Authorization.status == om.ACTIVE,
            )
        )
        for auth in auths:
            if auth.is_active(t) and auth.subscription is not None:
                g = grant_of(auth)
                for up in subscription_usage_point_ids(session, auth.subscription.id):
                    out.grants[up] = g
    return out


def own_subscription(caller: Caller, sid: int) -> Grant:
    """The grant of a customer token over its own Subscription ``sid`` (404 for any
    other Subscription). The grant came with the token: no query."""
    view = caller.grant
    if caller.token_class != om.CUSTOMER or view is None or view.subscription_id != sid:
        raise NOT_FOUND
    return grant_of_view(view)


def subscription_of(session: Session, caller: Caller, sid: int) -> Grant:
    """The grant of Subscription ``sid`` if the caller may read it (404 otherwise)."""
    if caller.token_class == om.CUSTOMER:
        return own_subscription(caller, sid)
    sub = session.get(om.Subscription, sid)
    if sub is None:
        raise NOT_FOUND
    return grant_of(sub.authorization)
