"""The ``staff_user`` table: the utility's people who use the console.

Three roles, each including the one before: a **viewer** reads every console page, an
**operator** also acts (approves, holds or revokes third parties, resends
notifications, records paper authorizations), an **administrator** also manages
staff accounts. The role is a CHECK constraint, not only a Python value.
"""

from __future__ import annotations

from sqlalchemy import JSON, BigInteger, CheckConstraint, Float, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from gbconnect.db import Base

VIEWER, OPERATOR, ADMINISTRATOR = "viewer", "operator", "administrator"
#: The roles, weakest first: a role may do what every role before it may.
ROLES = (VIEWER, OPERATOR, ADMINISTRATOR)


def may(role: str, needed: str) -> bool:
    """Whether ``role`` includes ``needed`` (an unknown role includes nothing)."""
    if role not in ROLES or needed not in ROLES:
        return False
    return ROLES.index(role) >= ROLES.index(needed)


class StaffUser(Base):
    """One staff account: email (its sign-in name), role, password (argon2id) and the
    optional second factor (:mod:`gbconnect.accounts.totp`). Disabled accounts stay
    (the audit log names them) but cannot sign in; ``session_epoch`` moves on when an
    account is disabled or its role changes, ending its sessions."""

    __tablename__ = "staff_user"
    __table_args__ = (
        CheckConstraint("role IN ('viewer', 'operator', 'administrator')", name="role"),
    )

    id: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True
    )
    email: Mapped[str] = mapped_column(String(256), unique=True)
    name: Mapped[str] = mapped_column(String(256))
    password_hash: Mapped[str] = mapped_column(String(256))
    role: Mapped[str] = mapped_column(String(16))
    totp_secret: Mapped[str | None] = mapped_column(String(64))
    totp_recovery: Mapped[list[str] | None] = mapped_column(JSON)
    session_epoch: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    created_at: Mapped[float] = mapped_column(Float)
    disabled_at: Mapped[float | None] = mapped_column(Float)


__all__ = ["ADMINISTRATOR", "OPERATOR", "ROLES", "VIEWER", "StaffUser", "may"]
