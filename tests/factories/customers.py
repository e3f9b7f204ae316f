"""Retail customers who can sign in to the portal, with usage data if asked."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.orm import Session

from gbconnect.customer.models import RetailCustomer
from gbconnect.customer.services import create_customer
from tests.factories.usage import empty_usage_point, store_usage

PASSWORD = "correct horse battery"


@dataclass
class Customer:
    """A stored customer and the ids of its usage points."""

    row: RetailCustomer
    points: list[int]


def make_customer(
    session: Session,
    username: str,
    *,
    password: str | None = PASSWORD,
    name: str | None = None,
    days: int = 0,
    empty_points: int = 0,
) -> Customer:
    """A customer with ``days`` of electricity and gas data (:func:`store_usage`; none
    when 0) and ``empty_points`` further usage points without readings."""
    row = create_customer(session, username, password, name)
    points = store_usage(session, row, days) if days else []
    for i in range(empty_points):
        points.append(empty_usage_point(session, row, f"{username}-{i}").id)
    return Customer(row, points)
