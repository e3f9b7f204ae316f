"""Finding usage points: the one place "a customer's usage points" is asked.

REQ.21 FB_1: a UsagePoint belongs to one RetailCustomer; every list of them that
gbconnect serves or shows is ordered by id, so that feeds, exports and pages agree.
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import select
from sqlalchemy.orm import Session

from gbconnect.usage.models import UsagePoint


def customer_usage_points(session: Session, customer_id: int) -> list[UsagePoint]:
    """The usage points of RetailCustomer ``customer_id``, ordered by id."""
    return list(
        session.scalars(
            select(UsagePoint)
            .where(UsagePoint.retail_customer_id == customer_id)
            .order_by(UsagePoint.id)
        )
    )


def customer_usage_point_ids(session: Session, customer_id: int) -> list[int]:
    """The ids of :func:`customer_usage_points`, without loading the rows."""
    return list(
        session.scalars(
            select(UsagePoint.id)
            .where(UsagePoint.retail_customer_id == customer_id)
            .order_by(UsagePoint.id)
        )
    )


def usage_points_by_id(session: Session, ids: Iterable[int]) -> list[UsagePoint]:
    """The usage points among ``ids`` that exist, ordered by id."""
    wanted = list(ids)
    if not wanted:
        return []
    return list(
        session.scalars(select(UsagePoint).where(UsagePoint.id.in_(wanted)).order_by(UsagePoint.id))
    )
