"""The records behind a grant: Authorization, Subscription, codes and tokens.

REQ.21 espi.xsd ``Authorization`` (FB_3) records what a customer (or the utility, for
a client_credentials grant) allowed: status 0 revoked, 1 active, 2 denied; the
authorized period (None duration: "until I revoke"); the granted scope. A customer
grant has a ``Subscription`` naming the UsagePoints chosen on the consent page.

Tokens and codes are stored only as SHA-256 hashes of their value (FB_13): a stolen
database copy yields no usable credential.
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    Column,
    ForeignKey,
    Integer,
    String,
    Table,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from gbconnect.db import Base
from gbconnect.registration.models import ApplicationInformation
from gbconnect.resource import ResourceMixin

REVOKED, ACTIVE, DENIED = 0, 1, 2

#: Token classes (STANDARD.md section 1): customer access, client access,
#: registration, data custodian admin, upload; and the initial access token the
#: utility hands a third party for dynamic registration (RFC 7591 section 3).
CUSTOMER, CLIENT, REGISTRATION, ADMIN, UPLOAD = "A", "C", "R", "DC", "U"
INITIAL = "I"

subscription_usage_point = Table(
    "subscription_usage_point",
    Base.metadata,
    Column(
        "subscription_id",
        BigInteger,
        ForeignKey("subscription.id", ondelete="CASCADE"),
        primary_key=True,
    ),
    Column(
        "usage_point_id",
        BigInteger,
        ForeignKey("usage_point.id", ondelete="CASCADE"),
        primary_key=True,
    ),
)


class Authorization(ResourceMixin, Base):
    """espi.xsd Authorization."""

    __tablename__ = "authorization"
    __table_args__ = (
        CheckConstraint("status IN (0, 1, 2)", name="status"),
        CheckConstraint("authorized_duration IS NULL OR authorized_duration >= 0", name="duration"),
    )

    application_id: Mapped[int] = mapped_column(
        BigInteger, ForeignKey("application_information.id", ondelete="CASCADE"), index=True
    )
    #: None for a client_credentials (or registration) authorization.
    retail_customer_id: Mapped[int | None] = mapped_column(
        BigInteger, ForeignKey("retail_customer.id", ondelete="CASCADE"), index=True
    )
    status: Mapped[int] = mapped_column(default=ACTIVE)
    grant_type: Mapped[str] = mapped_column(String(32))
    token_class: Mapped[str] = mapped_column(String(2))
    scope: Mapped[str] = mapped_column(String(2048))
    authorized_start: Mapped[int]
    #: None: until revoked.
    authorized_duration: Mapped[int | None]
    published_start: Mapped[int | None]
    published_duration: Mapped[int | None]
    #: When the newest access token of the grant expires (espi.xsd expires_at).
    expires_at: Mapped[int | None]
    #: Offline (paper) authorization entered by an operator (FB_40).
    offline: Mapped[bool] = mapped_column(default=False)
    revoked_at: Mapped[int | None]
    revoked_by: Mapped[str | None] = mapped_column(String(32))

    application: Mapped[ApplicationInformation] = relationship()
    subscription: Mapped[Subscription | None] = relationship(
        back_populates="authorization", uselist=False
    )

    @property
    def authorized_end(self) -> int | None:
        if self.authorized_duration is None:
            return None
        return self.authorized_start + self.authorized_duration

    def is_active(self, at: int) -> bool:
        """Active and inside its authorized period at ``at``."""
        end = self.authorized_end
        return self.status == ACTIVE and self.authorized_start <= at and (end is None or at < end)


class Subscription(ResourceMixin, Base):
    """espi.xsd Subscription: the UsagePoints one customer authorization covers."""

    __tablename__ = "subscription"

    authorization_id: Mapped[int] = mapped_column(
        BigInteger, ForeignKey("authorization.id", ondelete="CASCADE"), unique=True
    )
    retail_customer_id: Mapped[int] = mapped_column(
        BigInteger, ForeignKey("retail_customer.id", ondelete="CASCADE"), index=True
    )
    application_id: Mapped[int] = mapped_column(
        BigInteger, ForeignKey("application_information.id", ondelete="CASCADE"), index=True
    )

    authorization: Mapped[Authorization] = relationship(back_populates="subscription")


class AuthorizationCode(Base):
    """An authorization code (RFC 6749 section 4.1.2), one use, short-lived."""

    __tablename__ = "oauth_code"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    code_hash: Mapped[str] = mapped_column(String(64), unique=True)
    application_id: Mapped[int] = mapped_column(
        BigInteger, ForeignKey("application_information.id", ondelete="CASCADE")
    )
    authorization_id: Mapped[int] = mapped_column(
        BigInteger, ForeignKey("authorization.id", ondelete="CASCADE")
    )
    retail_customer_id: Mapped[int] = mapped_column(
        BigInteger, ForeignKey("retail_customer.id", ondelete="CASCADE")
    )
    redirect_uri: Mapped[str] = mapped_column(String(1024))
    scope: Mapped[str] = mapped_column(String(2048))
    code_challenge: Mapped[str | None] = mapped_column(String(128))
    code_challenge_method: Mapped[str | None] = mapped_column(String(8))
    issued_at: Mapped[int]
    expires_at: Mapped[int]
    #: Set at the first exchange; a second exchange revokes what the first issued.
    used_at: Mapped[int | None]


class Token(Base):
    """An access or refresh token of any class (A, C, R, DC, U)."""

    __tablename__ = "oauth_token"
    __table_args__ = (
        CheckConstraint("kind IN ('access', 'refresh')", name="kind"),
        CheckConstraint("token_class IN ('A', 'C', 'R', 'DC', 'U', 'I')", name="class"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    kind: Mapped[str] = mapped_column(String(8))
    token_class: Mapped[str] = mapped_column(String(2))
    application_id: Mapped[int | None] = mapped_column(
        BigInteger, ForeignKey("application_information.id", ondelete="CASCADE"), index=True
    )
    authorization_id: Mapped[int | None] = mapped_column(
        BigInteger, ForeignKey("authorization.id", ondelete="CASCADE"), index=True
    )
    #: The authorization code this token was issued from (RFC 6749 section 4.1.2).
    code_id: Mapped[int | None] = mapped_column(
        Integer, ForeignKey("oauth_code.id", ondelete="SET NULL"), index=True
    )
    scope: Mapped[str] = mapped_column(String(2048))
    issued_at: Mapped[int]
    #: None: does not expire (registration, admin and upload tokens until revoked).
    expires_at: Mapped[int | None]
    revoked_at: Mapped[int | None]
    #: RFC 8705 section 3: the ``x5t#S256`` thumbprint of the client certificate an
    #: access token was issued over; such a token is usable with that certificate only.
    cnf_thumbprint: Mapped[str | None] = mapped_column(String(43))

    application: Mapped[ApplicationInformation | None] = relationship()
    authorization: Mapped[Authorization | None] = relationship()

    def is_live(self, at: int) -> bool:
        return self.revoked_at is None and (self.expires_at is None or at < self.expires_at)
