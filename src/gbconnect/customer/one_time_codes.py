"""One-time codes texted to a customer's phone (guest access, creating an online
account, confirming a new phone; NIST SP 800-63B section 5.1.3, out-of-band
authenticators).

- A code is six random digits (:mod:`secrets`), good for :data:`LIFETIME` seconds and
  once; only its HMAC-SHA256 under ``GBCONNECT_SECRET_KEY`` is stored, bound to the
  account and the purpose.
- At most :data:`MAX_TRIES` wrong tries per code; at most :data:`MAX_PER_HOUR` codes
  per account and purpose in an hour (:class:`TooManyCodes`, with a sentence).
- A new code voids the older unused ones of the same purpose: only the newest counts.
- :func:`check` says what happened (:class:`Outcome`), so a page can say it.
"""

from __future__ import annotations

import enum
import hashlib
import hmac
import secrets
import time
from dataclasses import dataclass

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from gbconnect.customer.models import OneTimeCode
from gbconnect.customer.phones import N_

#: Seconds a code works.
LIFETIME = 600
#: Wrong tries a code allows.
MAX_TRIES = 5
#: Codes one account may be sent for one purpose in an hour.
MAX_PER_HOUR = 3
PURPOSES = ("guest", "register", "phone")
TOO_MANY_CODES = N_(
    "We already sent %(count)s codes in the last hour. Use the newest one, or wait an "
    "hour and ask again."
)


class Outcome(enum.Enum):
    """What a typed code turned out to be."""

    OK = "ok"
    WRONG = "wrong"
    EXPIRED = "expired"
    USED = "used"
    TOO_MANY_TRIES = "too many tries"


#: What a customer is told for each outcome but OK.
MESSAGES: dict[Outcome, str] = {
    Outcome.WRONG: N_("That code is not right. Check the text message and try again."),
    Outcome.EXPIRED: N_("That code has expired. Ask for a new one."),
    Outcome.USED: N_("That code was already used. Ask for a new one."),
    Outcome.TOO_MANY_TRIES: N_("Too many wrong tries for this code. Ask for a new one."),
}


class TooManyCodes(ValueError):
    """The account was sent :data:`MAX_PER_HOUR` codes for this purpose within the
    hour; pages show ``_(TOO_MANY_CODES, count=MAX_PER_HOUR)``."""


@dataclass(frozen=True)
class Checked:
    """The outcome of a check, and the phone the code was sent to (OK only)."""

    outcome: Outcome
    phone: str | None = None

    @property
    def ok(self) -> bool:
        return self.outcome is Outcome.OK

    @property
    def message(self) -> str:
        """The sentence for a customer (empty when OK): an English message id the
        page translates, ``_(checked.message)``."""
        return "" if self.ok else MESSAGES[self.outcome]


def _digest(secret_key: str, customer_id: int, purpose: str, code: str) -> str:
    text = f"{customer_id}:{purpose}:{code}".encode()
    return hmac.new(secret_key.encode(), text, hashlib.sha256).hexdigest()


def issue(
    session: Session,
    secret_key: str,
    customer_id: int,
    purpose: str,
    phone: str,
    *,
    now: float | None = None,
) -> str:
    """A new code for ``customer_id``, to be texted to ``phone`` (the caller commits
    and sends it); :class:`TooManyCodes` past the hourly limit."""
    if purpose not in PURPOSES:
        raise ValueError(f"unknown purpose {purpose!r}")
    at = time.time() if now is None else now
    sent = session.scalar(
        select(func.count())
        .select_from(OneTimeCode)
        .where(
            OneTimeCode.retail_customer_id == customer_id,
            OneTimeCode.purpose == purpose,
            OneTimeCode.created > at - 3600,
        )
    )
    if (sent or 0) >= MAX_PER_HOUR:
        raise TooManyCodes(TOO_MANY_CODES % {"count": MAX_PER_HOUR})
    session.execute(
        update(OneTimeCode)
        .where(
            OneTimeCode.retail_customer_id == customer_id,
            OneTimeCode.purpose == purpose,
            OneTimeCode.used_at.is_(None),
            OneTimeCode.expires > at,
        )
        .values(expires=at)
    )
    code = f"{secrets.randbelow(10**6):06d}"
    session.add(
        OneTimeCode(
            retail_customer_id=customer_id,
            purpose=purpose,
            phone=phone,
            code_hash=_digest(secret_key, customer_id, purpose, code),
            created=at,
            expires=at + LIFETIME,
            attempts=0,
        )
    )
    session.flush()
    return code


def check(
    session: Session,
    secret_key: str,
    customer_id: int,
    purpose: str,
    typed: str,
    *,
    now: float | None = None,
) -> Checked:
    """Whether ``typed`` is the newest code of ``customer_id`` for ``purpose``: a
    right one is used up, a wrong one counts a try (the caller commits)."""
    at = time.time() if now is None else now
    row = session.scalars(
        select(OneTimeCode)
        .where(OneTimeCode.retail_customer_id == customer_id, OneTimeCode.purpose == purpose)
        .order_by(OneTimeCode.created.desc(), OneTimeCode.id.desc())
        .limit(1)
    ).first()
    code = "".join(typed.split())
    if row is None:
        return Checked(Outcome.WRONG)
    if row.used_at is not None:
        return Checked(Outcome.USED)
    if row.attempts >= MAX_TRIES:
        return Checked(Outcome.TOO_MANY_TRIES)
    if row.expires <= at:
        return Checked(Outcome.EXPIRED)
    right = len(code) == 6 and code.isdigit()
    digest = _digest(secret_key, customer_id, purpose, code if right else "")
    if not (right and hmac.compare_digest(digest, row.code_hash)):
        session.execute(
            update(OneTimeCode)
            .where(OneTimeCode.id == row.id)
            .values(attempts=OneTimeCode.attempts + 1)
            .execution_options(synchronize_session=False)
        )
        return Checked(Outcome.WRONG)
    # Used once even when two requests bring the code at the same moment.
    taken = session.execute(
        update(OneTimeCode)
        .where(OneTimeCode.id == row.id, OneTimeCode.used_at.is_(None))
        .values(used_at=at)
        .execution_options(synchronize_session=False)
    )
    if getattr(taken, "rowcount", 0) != 1:
        return Checked(Outcome.USED)
    return Checked(Outcome.OK, row.phone)


__all__ = [
    "LIFETIME",
    "MAX_PER_HOUR",
    "MAX_TRIES",
    "MESSAGES",
    "TOO_MANY_CODES",
    "Checked",
    "Outcome",
    "TooManyCodes",
    "check",
    "issue",
]
