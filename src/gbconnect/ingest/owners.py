"""Finding or creating the RetailCustomer that imported data belongs to."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from gbconnect.customer.models import RetailCustomer

UNASSIGNED = "unassigned"
"""Username that holds imported usage points until an operator assigns them."""


def retail_customer(
    session: Session, username: str | None, name: str | None = None
) -> RetailCustomer:
    """The RetailCustomer called ``username`` (created when new)."""
    username = (username or UNASSIGNED).strip()
    found = session.scalars(
        select(RetailCustomer).where(RetailCustomer.username == username)
    ).one_or_none()
    if found is not None:
        return found
    customer = RetailCustomer(username=username, name=name)
    session.add(customer)
    session.flush()
    return customer
