"""Staff accounts: creating, finding, signing in and disabling them.

Passwords are argon2id (RFC 9106) through :func:`gbconnect.customer.services.hash_password`;
a sign-in check takes the same time whether the account exists, is disabled or not
(a dummy hash is verified when there is nothing to verify against). Service functions
return None for "absent" and raise :class:`StaffError` for "invalid"; the caller
commits.
"""

from __future__ import annotations

import re
import time

from sqlalchemy import select
from sqlalchemy.orm import Session

from gbconnect.accounts import passwords
from gbconnect.console.models import ROLES, StaffUser
from gbconnect.customer.services import CustomerError, hash_password
from gbconnect.errors import InputError

_EMAIL = re.compile(r"^[^@\s]{1,64}@[^@\s]{1,190}\.[^@\s]{1,63}$")


class StaffError(InputError):
    """A staff account that cannot be created or changed as asked."""


def normal_email(email: str) -> str:
    """The form an email is kept and looked up in (trimmed, lower case)."""
    return email.strip().lower()


def find_staff(session: Session, email: str) -> StaffUser | None:
    email = normal_email(email)
    if not email or len(email) > 256:
        return None
    return session.scalars(select(StaffUser).where(StaffUser.email == email)).one_or_none()


def list_staff(session: Session) -> list[StaffUser]:
    return list(session.scalars(select(StaffUser).order_by(StaffUser.email)))


def check_role(role: str) -> str:
    if role not in ROLES:
        raise StaffError(f"the role must be one of {', '.join(ROLES)}")
    return role


def create_staff(session: Session, email: str, name: str, role: str, password: str) -> StaffUser:
    """A new staff account (:class:`StaffError` when the email is malformed or taken,
    the name empty, the role unknown or the password too short)."""
    email = normal_email(email)
    if not _EMAIL.match(email):
        raise StaffError("the email address is not valid")
    name = name.strip()
    if not name or len(name) > 256:
        raise StaffError("a name of 1 to 256 characters is needed")
    check_role(role)
    if find_staff(session, email) is not None:
        raise StaffError(f"there is already a staff account for {email}")
    try:
        digest = hash_password(password)
    except CustomerError as exc:
        raise StaffError(str(exc)) from None
    staff = StaffUser(
        email=email, name=name, role=role, password_hash=digest, created_at=time.time()
    )
    session.add(staff)
    session.flush()
    return staff


def authenticate_staff(session: Session, email: str, password: str) -> StaffUser | None:
    """The enabled staff account whose credentials these are, or None (same time
    either way)."""
    staff = find_staff(session, email) if len(password) <= 1024 else None
    stored = staff.password_hash if staff is not None else None
    if not passwords.verify_password(stored, password):
        return None
    if staff is None or stored is None or staff.disabled_at is not None:
        return None
    if passwords.needs_rehash(stored):
        staff.password_hash = passwords.hash_password(password)
    return staff


def disable_staff(session: Session, staff: StaffUser) -> bool:
    """Disable ``staff`` (its sessions end at their next request); False when it was
    already disabled."""
    if staff.disabled_at is not None:
        return False
    staff.disabled_at = time.time()
    staff.session_epoch += 1
    session.flush()
    return True


def enable_staff(session: Session, staff: StaffUser) -> bool:
    if staff.disabled_at is None:
        return False
    staff.disabled_at = None
    session.flush()
    return True


def set_role(session: Session, staff: StaffUser, role: str) -> bool:
    """Change the role (its sessions end: they carried the old one); False when
    unchanged."""
    check_role(role)
    if staff.role == role:
        return False
    staff.role = role
    staff.session_epoch += 1
    session.flush()
    return True


__all__ = [
    "StaffError",
    "authenticate_staff",
    "check_role",
    "create_staff",
    "disable_staff",
    "enable_staff",
    "find_staff",
    "list_staff",
    "normal_email",
    "set_role",
]
