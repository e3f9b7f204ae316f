"""A third party's company and users: sign-up, the emailed confirmation link and the
password check (STANDARD.md section 7: PG&E's third parties register on a portal).

- :func:`sign_up` validates the company (legal name, kind, technical and business
  contacts) and its first user (name, email, password: argon2id through
  :func:`gbconnect.customer.services.hash_password`) and stores both, unconfirmed.
- :func:`confirmation_token` / :func:`confirm`: a link signed with itsdangerous under
  ``GBCONNECT_SECRET_KEY`` (as :mod:`gbconnect.portal.password_reset`), valid
  :data:`CONFIRM_LIFETIME` seconds and once (the user's confirmation ends it).
- :func:`authenticate` checks a password in the same time whether or not the address
  is known (a dummy hash), and only for a confirmed user.
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass

from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from gbconnect.accounts import passwords
from gbconnect.config import Settings
from gbconnect.customer.services import MIN_PASSWORD, CustomerError, hash_password
from gbconnect.errors import InputError
from gbconnect.thirdparty_portal.models import KINDS, Company, CompanyUser

#: Seconds a confirmation link works (24 hours).
CONFIRM_LIFETIME = 24 * 3600
SALT = "gbconnect.thirdparty-confirm"
EMAIL = re.compile(r"^[^@\s<>\"']{1,64}@[A-Za-z0-9.-]{1,253}\.[A-Za-z]{2,63}$")
PHONE = re.compile(r"^\+?[0-9 ()./-]{7,31}$")


class PortalInputError(InputError):
    """What a third party typed cannot be accepted; the message is the sentence shown,
    ``field`` the form field it is about."""

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field


class EmailTaken(PortalInputError):
    """A sign-up with the address of an existing user: the page answers as for a new
    one (no account enumeration) and the address's owner is told by mail."""

    def __init__(self, user: CompanyUser) -> None:
        super().__init__("An account with this email address exists already.", "email")
        self.user = user


class LinkError(PortalInputError):
    """A confirmation link that cannot be used (expired, used, forged)."""


@dataclass(frozen=True)
class SignUp:
    """What the sign-up form holds."""

    legal_name: str
    kind: str
    technical_email: str
    technical_phone: str
    business_email: str
    business_phone: str
    name: str
    email: str
    password: str
    confirm: str


def _text(value: str, field: str, label: str, limit: int) -> str:
    value = " ".join(value.split())
    if not value:
        raise PortalInputError(f"Enter {label}.", field)
    what = label[:1].upper() + label[1:]
    if len(value) > limit:
        raise PortalInputError(f"{what} is at most {limit} characters.", field)
    if any(ord(c) < 32 or 0x7F <= ord(c) < 0xA0 for c in value):
        raise PortalInputError(f"{what} holds a control character.", field)
    return value


def check_email(value: str, field: str, label: str) -> str:
    value = value.strip()
    if not EMAIL.match(value) or len(value) > 254:
        raise PortalInputError(f"{label[:1].upper() + label[1:]} is not an email address.", field)
    return value.lower()


def check_phone(value: str, field: str, label: str) -> str:
    value = value.strip()
    if not PHONE.match(value) or sum(c.isdigit() for c in value) < 7:
        raise PortalInputError(
            f"{label[:1].upper() + label[1:]} is not a phone number (digits, spaces, + ( ) - . /).",
            field,
        )
    return value


def find_user(session: Session, email: str) -> CompanyUser | None:
    email = email.strip().lower()
    if not email or len(email) > 254:
        return None
    return session.scalars(
        select(CompanyUser).where(func.lower(CompanyUser.email) == email)
    ).one_or_none()


def sign_up(session: Session, form: SignUp) -> CompanyUser:
    """Store the company and its first user, unconfirmed (the caller commits and
    sends the link). Raises :class:`PortalInputError` naming the field."""
    legal_name = _text(form.legal_name, "legal_name", "the company's legal name", 256)
    if form.kind not in KINDS:
        raise PortalInputError("Choose the kind of third party.", "kind")
    technical_email = check_email(form.technical_email, "technical_email", "the technical email")
    technical_phone = check_phone(form.technical_phone, "technical_phone", "the technical phone")
    business_email = check_email(form.business_email, "business_email", "the business email")
    business_phone = check_phone(form.business_phone, "business_phone", "the business phone")
    name = _text(form.name, "name", "your name", 256)
    email = check_email(form.email, "email", "your email address")
    if form.password != form.confirm:
        raise PortalInputError("The two passwords are not the same.", "password")
    try:
        password_hash = hash_password(form.password)
    except CustomerError:
        raise PortalInputError(
            f"The password needs at least {MIN_PASSWORD} characters.", "password"
        ) from None
    existing = find_user(session, email)
    if existing is not None:
        raise EmailTaken(existing)
    at = time.time()
    company = Company(
        legal_name=legal_name,
        kind=form.kind,
        technical_email=technical_email,
        technical_phone=technical_phone,
        business_email=business_email,
        business_phone=business_phone,
        created_at=at,
    )
    session.add(company)
    session.flush()
    user = CompanyUser(
        company_id=company.id,
        name=name,
        email=email,
        password_hash=password_hash,
        confirmed_at=None,
        created_at=at,
    )
    session.add(user)
    session.flush()
    return user


def serializer(settings: Settings) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(settings.secret_key, salt=SALT)


def confirmation_token(settings: Settings, user: CompanyUser) -> str:
    """A signed token naming ``user``; it works until the user is confirmed."""
    return serializer(settings).dumps({"u": user.id, "e": user.email})


def confirm(
    session: Session, settings: Settings, token: str, max_age: int = CONFIRM_LIFETIME
) -> CompanyUser:
    """Confirm the user a valid, unused, unexpired token names (the caller commits);
    :class:`LinkError` with the sentence to show otherwise."""
    try:
        data = serializer(settings).loads(token, max_age=max_age)
    except SignatureExpired:
        raise LinkError("This confirmation link has expired. Sign in to get a new one.") from None
    except BadSignature:
        raise LinkError("This confirmation link is not valid.") from None
    if not isinstance(data, dict) or not isinstance(data.get("u"), int):
        raise LinkError("This confirmation link is not valid.")
    user = session.get(CompanyUser, data["u"])
    if user is None or user.email != data.get("e"):
        raise LinkError("This confirmation link is not valid.")
    if user.confirmed_at is not None:
        raise LinkError("This confirmation link was already used. Sign in.")
    user.confirmed_at = time.time()
    return user


def authenticate(session: Session, email: str, password: str) -> CompanyUser | None:
    """The user whose address and password these are, or None (the same time either
    way). An unconfirmed user is returned too: the caller says to confirm first."""
    user = find_user(session, email)
    stored = user.password_hash if user is not None else None
    if not passwords.verify_password(stored, password[:1024]) or user is None:
        return None
    return user


__all__ = [
    "CONFIRM_LIFETIME",
    "LinkError",
    "PortalInputError",
    "SignUp",
    "authenticate",
    "check_email",
    "check_phone",
    "confirm",
    "confirmation_token",
    "find_user",
    "sign_up",
]
