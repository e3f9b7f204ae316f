"""Customer accounts: passwords (argon2id, RFC 9106) and login checks.

The login here is the one the portals use. A customer without a password (imported
data, not yet enrolled) cannot log in.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from gbconnect.accounts import passwords
from gbconnect.customer.models import RetailCustomer
from gbconnect.errors import InputError
from gbconnect.i18n import gettext as _

MIN_PASSWORD = 10

DEMO_PASSWORD = "green-button-demo"
"""The password ``gbconnect demo`` gives its demo customer (development only)."""


class CustomerError(InputError):
    """Customer data that cannot be accepted."""


def hash_password(password: str) -> str:
    if len(password) < MIN_PASSWORD:
        raise CustomerError(_("the password needs at least %(num)s characters", num=MIN_PASSWORD))
    return passwords.hash_password(password)


def find_customer(session: Session, username: str) -> RetailCustomer | None:
    return session.scalars(
        select(RetailCustomer).where(RetailCustomer.username == username.strip())
    ).one_or_none()


def create_customer(
    session: Session,
    username: str,
    password: str | None,
    name: str | None = None,
    email: str | None = None,
    *,
    is_test: bool | None = None,
) -> RetailCustomer:
    """A new RetailCustomer; an existing username gets the password set instead
    (imported customers enrol this way). ``is_test`` marks (or unmarks) a test account
    of the utility, the only kind that may authorize a third party not approved yet;
    None leaves an existing customer as it is (a new one is real)."""
    username = username.strip()
    if not username or len(username) > 128 or any(c.isspace() for c in username):
        raise CustomerError(_("a username is 1 to 128 characters without spaces"))
    customer = find_customer(session, username)
    if customer is None:
        customer = RetailCustomer(username=username)
        session.add(customer)
    if password is not None:
        customer.password_hash = hash_password(password)
    if name is not None:
        customer.name = name
    if email is not None:
        customer.email = email
    if is_test is not None:
        customer.is_test = is_test
    session.flush()
    return customer


def authenticate(session: Session, username: str, password: str) -> RetailCustomer | None:
    """The customer whose credentials these are, or None (same time either way)."""
    customer = find_customer(session, username) if username and len(username) <= 128 else None
    stored = customer.password_hash if customer is not None else None
    if not passwords.verify_password(stored, password) or customer is None or stored is None:
        return None
    if passwords.needs_rehash(stored):
        customer.password_hash = passwords.hash_password(password)
    return customer
