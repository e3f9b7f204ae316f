"""ApplicationInformation: a third party's registration (REQ.21 espi.xsd, FB_3/FB_36).

One row per OAuth client. Its client secret is stored only as a SHA-256 hash
(FB_13); the registration access token lives in ``oauth_token`` like every token.
Status codes are those of espi.xsd: ``dataCustodianApplicationStatus`` 1 review,
2 production, 3 on hold, 4 revoked; ``thirdPartyApplicationStatus`` 1 development,
2 review/test, 3 production, 4 retired.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    CheckConstraint,
    Float,
    ForeignKey,
    Integer,
    LargeBinary,
    String,
    Text,
)
from sqlalchemy.orm import Mapped, mapped_column

from gbconnect.db import Base
from gbconnect.espi.ids import new_id
from gbconnect.resource import ResourceMixin

REVIEW, PRODUCTION, ON_HOLD, REVOKED = 1, 2, 3, 4
STATUS_NAMES = {REVIEW: "review", PRODUCTION: "production", ON_HOLD: "on hold", REVOKED: "revoked"}


class ApplicationInformation(ResourceMixin, Base):
    """A registered third-party application and its OAuth client."""

    __tablename__ = "application_information"
    __table_args__ = (
        CheckConstraint("data_custodian_status BETWEEN 1 AND 4", name="dc_status"),
        CheckConstraint("third_party_status BETWEEN 1 AND 4", name="tp_status"),
    )

    client_id: Mapped[str] = mapped_column(String(64), unique=True)
    #: SHA-256 hex of the client secret; None for a public client (PKCE only).
    client_secret_hash: Mapped[str | None] = mapped_column(String(64))
    client_id_issued_at: Mapped[int]
    client_secret_expires_at: Mapped[int] = mapped_column(default=0)
    client_name: Mapped[str] = mapped_column(String(256))
    redirect_uris: Mapped[list[str]] = mapped_column(JSON)
    notify_uri: Mapped[str | None] = mapped_column(String(1024))
    #: The scopes this client may ask for (each an ESPI scope string); a request
    #: must fall within one of them.
    scopes: Mapped[list[str]] = mapped_column(JSON)
    grant_types: Mapped[list[str]] = mapped_column(JSON)
    response_types: Mapped[list[str]] = mapped_column(JSON)
    token_endpoint_auth_method: Mapped[str] = mapped_column(String(32))
    data_custodian_status: Mapped[int] = mapped_column(default=REVIEW)
    third_party_status: Mapped[int] = mapped_column(default=1)
    #: Why the utility last changed ``data_custodian_status`` (approval, hold,
    #: revocation), in words the third party reads on its portal.
    status_reason: Mapped[str | None] = mapped_column(String(512))
    application_type: Mapped[int] = mapped_column(default=1)  # 1 web 2 desktop 3 mobile 4 device
    application_use: Mapped[int | None]
    bulk_id: Mapped[int] = mapped_column(BigInteger, unique=True, default=new_id)
    #: espi.xsd ``thirdPartyApplicationDescription`` (String256): what the application
    #: does, as customers read it in the utility's list of companies.
    description: Mapped[str | None] = mapped_column(String(256))
    logo_uri: Mapped[str | None] = mapped_column(String(1024))
    client_uri: Mapped[str | None] = mapped_column(String(1024))
    tos_uri: Mapped[str | None] = mapped_column(String(1024))
    policy_uri: Mapped[str | None] = mapped_column(String(1024))
    portal_uri: Mapped[str | None] = mapped_column(String(1024))
    software_id: Mapped[str | None] = mapped_column(String(256))
    software_version: Mapped[str | None] = mapped_column(String(64))
    contacts: Mapped[list[str] | None] = mapped_column(JSON)
    #: The key of the HMAC-SHA256 signature of this third party's notifications
    #: (gbconnect.notify.signing). Kept in clear, since signing needs it; made at the
    #: first notification and shown to the third party only. After a rotation the
    #: previous key also signs until ``notify_secret_previous_until``.
    notify_secret: Mapped[str | None] = mapped_column(String(64))
    notify_secret_previous: Mapped[str | None] = mapped_column(String(64))
    notify_secret_previous_until: Mapped[float | None] = mapped_column(Float)
    #: The third-party portal's company that registered it (None: registered by the
    #: operator's CLI or by RFC 7591 dynamic registration). No foreign key: SQLite
    #: cannot add one to this table without copying it (migration 0013).
    company_id: Mapped[int | None] = mapped_column(BigInteger, index=True)
    #: PG&E's connectivity test (gbconnect.thirdparty_portal.connectivity): when it was
    #: last passed, the fingerprint of the URIs it was passed with (redirect, notify
    #: and portal URIs: a change clears the pass) and the report of its steps.
    connectivity_passed_at: Mapped[float | None] = mapped_column(Float)
    connectivity_fingerprint: Mapped[str | None] = mapped_column(String(64))
    connectivity_report: Mapped[dict[str, Any] | None] = mapped_column(JSON)

    @property
    def is_public(self) -> bool:
        return self.client_secret_hash is None


class ApplicationLogo(Base):
    """The logo customers see beside a company's name, kept by the utility: pages
    load nothing from another server, so a logo is served from here
    (:mod:`gbconnect.registration.logos`), fetched from the third party's ``logo_uri``
    or set by the utility from a file."""

    __tablename__ = "application_logo"

    application_id: Mapped[int] = mapped_column(
        BigInteger, ForeignKey("application_information.id", ondelete="CASCADE"), primary_key=True
    )
    #: image/png, image/jpeg, image/gif or image/webp, read from the bytes themselves.
    content_type: Mapped[str | None] = mapped_column(String(32))
    data: Mapped[bytes | None] = mapped_column(LargeBinary)
    #: Where it came from: the ``logo_uri`` fetched, or ``file`` when set by hand.
    source: Mapped[str] = mapped_column(String(1024))
    #: When it was last fetched or tried (epoch seconds), and why the try failed.
    checked_at: Mapped[float] = mapped_column(Float)
    error: Mapped[str | None] = mapped_column(String(512))


class ApplicationCertificate(Base):
    """A client certificate registered to an application (PG&E: every API call but
    browser redirects uses mutual TLS with a CA-issued certificate, RSA 2048 or more,
    SHA-2). ``thumbprint`` is RFC 8705 section 3.1's ``x5t#S256``: the base64url
    SHA-256 of the certificate's DER, unpadded (43 characters); it is what the API
    compares, and one certificate belongs to one application only. Never deleted:
    revocation sets ``revoked_at`` (gbconnect.registration.certificates)."""

    __tablename__ = "application_certificate"
    __table_args__ = (
        CheckConstraint("not_before < not_after", name="validity"),
        CheckConstraint("length(thumbprint) = 43", name="thumbprint_length"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    application_id: Mapped[int] = mapped_column(
        BigInteger, ForeignKey("application_information.id", ondelete="CASCADE"), index=True
    )
    thumbprint: Mapped[str] = mapped_column(String(43), unique=True)
    subject: Mapped[str] = mapped_column(String(1024))
    issuer: Mapped[str] = mapped_column(String(1024))
    #: The serial number in hexadecimal (up to 20 octets, RFC 5280 section 4.1.2.2).
    serial: Mapped[str] = mapped_column(String(64))
    not_before: Mapped[int] = mapped_column(BigInteger)
    not_after: Mapped[int] = mapped_column(BigInteger)
    added_at: Mapped[int] = mapped_column(BigInteger)
    revoked_at: Mapped[int | None] = mapped_column(BigInteger)
    #: ``uploaded`` by the utility or third party, or ``issued`` by the utility's CA.
    source: Mapped[str] = mapped_column(String(16), default="uploaded")
    pem: Mapped[str] = mapped_column(Text)
