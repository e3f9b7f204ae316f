"""Customer models: the RetailCustomer who logs in, and the customer.xsd tree.

REQ.21 customer.xsd (ESPI 4.0 "Retail Customer" function blocks 51-71): Customer,
CustomerAccount, CustomerAgreement (what PG&E calls a Service ID), ServiceLocation
and Meter. Nested CIM structures (addresses, phone numbers, statuses) are kept whole
in ``details`` in document order, so nothing a utility sent is lost.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Column,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Table,
    UniqueConstraint,
    false,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from gbconnect.db import Base
from gbconnect.espi.ids import new_id
from gbconnect.resource import ResourceMixin, now

agreement_usage_point = Table(
    "agreement_usage_point",
    Base.metadata,
    Column(
        "customer_agreement_id",
        BigInteger,
        ForeignKey("customer_agreement.id", ondelete="CASCADE"),
        primary_key=True,
    ),
    Column(
        "usage_point_id",
        BigInteger,
        ForeignKey("usage_point.id", ondelete="CASCADE"),
        primary_key=True,
    ),
)
"""Which UsagePoints a service agreement covers (REQ.21 FB_57/58)."""


class RetailCustomer(Base):
    """The person who logs in at the utility and owns usage points."""

    __tablename__ = "retail_customer"

    id: Mapped[int] = mapped_column(
        BigInteger, primary_key=True, default=new_id, autoincrement=False
    )
    username: Mapped[str] = mapped_column(String(128), unique=True)
    name: Mapped[str | None] = mapped_column(String(256))
    email: Mapped[str | None] = mapped_column(String(256))
    #: argon2 hash; None until the customer sets a password.
    password_hash: Mapped[str | None] = mapped_column(String(256))
    #: A test account of the utility: the only kind that may authorize a third party
    #: not approved yet (PG&E's connectivity test does its OAuth step with test
    #: accounts; :mod:`gbconnect.portal.authorize`).
    is_test: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    #: Sessions carry the epoch they started in; "sign out everywhere" and a password
    #: reset move it on, and every older session ends (gbconnect.web.security).
    session_epoch: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    #: Base32 TOTP key (RFC 6238) when the second factor is on; kept in clear, as
    #: checking a code needs it.
    totp_secret: Mapped[str | None] = mapped_column(String(64))
    #: SHA-256 hex of each unused recovery code.
    totp_recovery: Mapped[list[str] | None] = mapped_column(JSON)
    #: The phone on the account, E.164 (``+14155550123``; gbconnect.customer.phones):
    #: guest access and one-time codes are texted to it.
    phone: Mapped[str | None] = mapped_column(String(32))
    published: Mapped[int] = mapped_column(BigInteger, default=now)
    updated: Mapped[int] = mapped_column(BigInteger, default=now)

    customers: Mapped[list[Customer]] = relationship(back_populates="retail_customer")


class SignIn(Base):
    """One sign-in to a customer's account, or a failed try (the account's recent
    sign-ins page)."""

    __tablename__ = "sign_in"
    __table_args__ = (Index("ix_sign_in_customer_at", "retail_customer_id", "at"),)

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    retail_customer_id: Mapped[int] = mapped_column(
        BigInteger, ForeignKey("retail_customer.id", ondelete="CASCADE")
    )
    at: Mapped[float] = mapped_column(Float)
    #: ok, wrong password, wrong code
    outcome: Mapped[str] = mapped_column(String(32))
    address: Mapped[str | None] = mapped_column(String(64))
    user_agent: Mapped[str | None] = mapped_column(String(256))


class OneTimeCode(Base):
    """A code texted to a phone (gbconnect.customer.one_time_codes): guest access,
    creating an online account, or confirming a new phone. Only its HMAC is kept."""

    __tablename__ = "one_time_code"
    __table_args__ = (Index("ix_one_time_code_customer_purpose", "retail_customer_id", "purpose"),)

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    retail_customer_id: Mapped[int] = mapped_column(
        BigInteger, ForeignKey("retail_customer.id", ondelete="CASCADE")
    )
    #: guest, register or phone
    purpose: Mapped[str] = mapped_column(String(16))
    #: The phone it was sent to (E.164).
    phone: Mapped[str] = mapped_column(String(32))
    code_hash: Mapped[str] = mapped_column(String(64))
    created: Mapped[float] = mapped_column(Float)
    expires: Mapped[float] = mapped_column(Float)
    attempts: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    used_at: Mapped[float | None] = mapped_column(Float)


class _Owned(ResourceMixin):
    retail_customer_id: Mapped[int] = mapped_column(
        BigInteger, ForeignKey("retail_customer.id", ondelete="CASCADE"), index=True
    )
    details: Mapped[dict[str, Any] | None] = mapped_column(JSON)


class Customer(_Owned, Base):
    """customer.xsd Customer: the organisation or person that holds accounts."""

    __tablename__ = "customer"
    __table_args__ = (UniqueConstraint("retail_customer_id", "source_key"),)

    kind: Mapped[str | None] = mapped_column(String(64))
    name: Mapped[str | None] = mapped_column(String(256))

    retail_customer: Mapped[RetailCustomer] = relationship(back_populates="customers")
    accounts: Mapped[list[CustomerAccount]] = relationship(back_populates="customer")


class CustomerAccount(_Owned, Base):
    """customer.xsd CustomerAccount: the billing account."""

    __tablename__ = "customer_account"
    __table_args__ = (UniqueConstraint("retail_customer_id", "source_key"),)

    customer_id: Mapped[int | None] = mapped_column(
        BigInteger, ForeignKey("customer.id", ondelete="CASCADE"), index=True
    )
    account_id: Mapped[str | None] = mapped_column(String(256))

    customer: Mapped[Customer | None] = relationship(back_populates="accounts")
    agreements: Mapped[list[CustomerAgreement]] = relationship(back_populates="account")


class CustomerAgreement(_Owned, Base):
    """customer.xsd CustomerAgreement: a service agreement (PG&E: a Service ID)."""

    __tablename__ = "customer_agreement"
    __table_args__ = (UniqueConstraint("retail_customer_id", "source_key"),)

    customer_account_id: Mapped[int | None] = mapped_column(
        BigInteger, ForeignKey("customer_account.id", ondelete="CASCADE"), index=True
    )
    agreement_id: Mapped[str | None] = mapped_column(String(256))
    name: Mapped[str | None] = mapped_column(String(256))
    sign_date: Mapped[int | None] = mapped_column(BigInteger)

    account: Mapped[CustomerAccount | None] = relationship(back_populates="agreements")


class ServiceLocation(_Owned, Base):
    """customer.xsd ServiceLocation: where service is delivered (FB_58)."""

    __tablename__ = "service_location"
    __table_args__ = (UniqueConstraint("retail_customer_id", "source_key"),)

    customer_agreement_id: Mapped[int | None] = mapped_column(
        BigInteger, ForeignKey("customer_agreement.id", ondelete="SET NULL"), index=True
    )
    #: One-line street address, for display; the full CIM address is in ``details``.
    address: Mapped[str | None] = mapped_column(String(512))


class Meter(_Owned, Base):
    """customer.xsd Meter (FB_60)."""

    __tablename__ = "meter"
    __table_args__ = (UniqueConstraint("retail_customer_id", "source_key"),)

    service_location_id: Mapped[int | None] = mapped_column(
        BigInteger, ForeignKey("service_location.id", ondelete="SET NULL"), index=True
    )
    usage_point_id: Mapped[int | None] = mapped_column(
        BigInteger, ForeignKey("usage_point.id", ondelete="SET NULL"), index=True
    )
    serial_number: Mapped[str | None] = mapped_column(String(256))
    form_number: Mapped[str | None] = mapped_column(String(256))


class CustomerResource(_Owned, Base):
    """The other customer.xsd resources, kept whole: EndDevice, ServiceSupplier,
    Statement, ProgramDateIdMappings."""

    __tablename__ = "customer_resource"
    __table_args__ = (UniqueConstraint("retail_customer_id", "kind", "source_key"),)

    kind: Mapped[str] = mapped_column(String(64))
