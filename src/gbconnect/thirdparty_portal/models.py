"""A third party's company and its users (the third-party portal; STANDARD.md section 7:
PG&E's four kinds of third party).

A company signs up with its legal name, its kind and its technical and business
contacts; its first user confirms their email address before the first sign-in.
Passwords are argon2id hashes (:func:`gbconnect.customer.services.hash_password`); the
optional second factor is a TOTP key with recovery-code digests
(:mod:`gbconnect.accounts.totp`). Applications point at their company through
``application_information.company_id`` (None for those registered by the operator's
CLI or by RFC 7591 dynamic registration).
"""

from __future__ import annotations

from sqlalchemy import JSON, BigInteger, CheckConstraint, Float, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from gbconnect.db import Base

STANDARD, SELF_ACCESS, EE_FINANCING, CCA = "standard", "self-access", "ee-financing", "cca"
#: PG&E's kinds of third party (STANDARD.md section 7), as the sign-up form names them.
KINDS = {
    STANDARD: "Standard third party",
    SELF_ACCESS: "Self-access (a customer reading their own data)",
    EE_FINANCING: "Energy-efficiency financing",
    CCA: "Community choice aggregator",
}


class Company(Base):
    """A third party's company, as it signed up."""

    __tablename__ = "company"
    __table_args__ = (
        CheckConstraint("kind IN ('standard', 'self-access', 'ee-financing', 'cca')", name="kind"),
    )

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    legal_name: Mapped[str] = mapped_column(String(256))
    kind: Mapped[str] = mapped_column(String(16))
    technical_email: Mapped[str] = mapped_column(String(254))
    technical_phone: Mapped[str] = mapped_column(String(32))
    business_email: Mapped[str] = mapped_column(String(254))
    business_phone: Mapped[str] = mapped_column(String(32))
    created_at: Mapped[float] = mapped_column(Float)


class CompanyUser(Base):
    """A person who signs in for a company (its email address is its sign-in name)."""

    __tablename__ = "company_user"

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    company_id: Mapped[int] = mapped_column(
        BigInteger, ForeignKey("company.id", ondelete="CASCADE"), index=True
    )
    name: Mapped[str] = mapped_column(String(256))
    #: Lower-cased; the sign-in name.
    email: Mapped[str] = mapped_column(String(254), unique=True)
    password_hash: Mapped[str] = mapped_column(String(256))
    #: When the emailed link was followed (epoch seconds); None: cannot sign in yet.
    confirmed_at: Mapped[float | None] = mapped_column(Float)
    #: Moved on by a password change: older sessions end.
    session_epoch: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    totp_secret: Mapped[str | None] = mapped_column(String(64))
    totp_recovery: Mapped[list[str] | None] = mapped_column(JSON)
    created_at: Mapped[float] = mapped_column(Float)


__all__ = ["CCA", "EE_FINANCING", "KINDS", "SELF_ACCESS", "STANDARD", "Company", "CompanyUser"]
