"""The packages of asynchronous batches: the table and what is done to one row.

Since 2024 the GBA lets any resource GET answer 202 Accepted (STANDARD.md section 6);
the Data Custodian then notifies the third party (REQ.21 FB_39, a ``BatchList``) when
the answer is ready, as PG&E does for its asynchronous bulk requests (section 3).
A ``batch_package`` row is one such deferred answer (migration 0005):

- **who asked**: the token class, the third party and the grant of the token that
  made the request (and its own scope, which a narrowing refresh may have made
  narrower than the grant's). Only a token of the same class, the same third party
  and, for a customer token, the same Authorization and scope reads the package
  (a refreshed token reads it); anyone else gets 404, as for any resource of
  someone else (:func:`readable_by`);
- **what was asked**: ``path`` under the resource base (``Batch/Bulk/5``) and the
  normalised query (``published-min=...``): the feed is built from them exactly as
  the synchronous request would have built it (:mod:`gbconnect.api.packaging`).
  ``pending_key`` (a digest of who and what) is set while the package is pending
  and unique: a second request for the same resource finds the pending package
  instead of making another, even when both arrive at once;
- **its state**: ``pending`` (waiting for a worker; ``lease_until`` set while a
  worker builds it, so that two workers never build the same package and a crashed
  worker's package is taken up again), ``ready`` (the gzip file is written) or
  ``failed`` (the grant ended before the feed was built, or the build failed);
- **its times** (epoch seconds with fractions, like the notification tables):
  created, ready, and expires (``GBCONNECT_BATCH_RETENTION_DAYS`` after it was made
  ready, or after the request for a package no worker took up);
- **its bytes**: a gzip file named ``file`` in ``GBCONNECT_BATCH_DIR``, not a column:
  a bulk feed can be gigabytes, which a database row serves badly (PostgreSQL reads a
  ``bytea`` whole into memory) while a file streams from disk and is deleted in
  constant time. Several servers must share that folder (docs/batches.md).
"""

from __future__ import annotations

import hashlib
from pathlib import Path

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    select,
    update,
)
from sqlalchemy.orm import Mapped, Session, mapped_column

from gbconnect.config import Settings
from gbconnect.db import Base
from gbconnect.espi.ids import new_id
from gbconnect.oauth import models as om
from gbconnect.oauth.guard import Caller

PENDING, READY, FAILED = "pending", "ready", "failed"
STATES = (PENDING, READY, FAILED)
DAY = 86400.0
#: The GBA's words for a second request while the first is pending (STANDARD.md
#: section 6: its tester counts this 400 as a 202).
DUPLICATE_TEXT = "An unprocessed batch request for the same resource already exists"


class BatchPackage(Base):
    """One deferred Batch answer: who asked for what, its state and its gzip file."""

    __tablename__ = "batch_package"
    __table_args__ = (
        CheckConstraint("state IN ('pending', 'ready', 'failed')", name="state"),
        Index("ix_batch_package_due", "state", "created_at"),
    )

    #: Random (FB_13: ids carry no meaning and at least 48 bits).
    id: Mapped[int] = mapped_column(
        BigInteger, primary_key=True, default=new_id, autoincrement=False
    )
    token_class: Mapped[str] = mapped_column(String(2))
    #: The third party (None for the Data Custodian's own admin token).
    application_id: Mapped[int | None] = mapped_column(
        BigInteger, ForeignKey("application_information.id", ondelete="CASCADE"), index=True
    )
    #: The grant of the token (a customer token's Authorization; a client token's).
    authorization_id: Mapped[int | None] = mapped_column(
        BigInteger, ForeignKey("authorization.id", ondelete="CASCADE"), index=True
    )
    #: The token's own scope when it asked (a customer token reads under it).
    scope: Mapped[str] = mapped_column(String(2048), default="")
    #: The resource, relative to the resource base (``Batch/Bulk/5``).
    path: Mapped[str] = mapped_column(String(1024))
    #: The query, normalised (parameters sorted), as the feed is built with it.
    query: Mapped[str] = mapped_column(String(2048), default="")
    #: Digest of who asked for what, while pending (None once ready or failed).
    pending_key: Mapped[str | None] = mapped_column(String(64), unique=True)
    state: Mapped[str] = mapped_column(String(16), default=PENDING)
    created_at: Mapped[float] = mapped_column(Float)
    ready_at: Mapped[float | None] = mapped_column(Float)
    expires_at: Mapped[float] = mapped_column(Float, index=True)
    #: Set while a worker builds the package; another takes it only once this passed.
    lease_until: Mapped[float | None] = mapped_column(Float)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    #: The gzip file's name in GBCONNECT_BATCH_DIR, and its size in bytes.
    file: Mapped[str | None] = mapped_column(String(255))
    size: Mapped[int | None] = mapped_column(BigInteger)
    error: Mapped[str | None] = mapped_column(String(500))

    @property
    def relative_url(self) -> str:
        """The package's path under the resource base (what BatchReady carries)."""
        return package_path(self.id)


def package_path(package_id: int) -> str:
    """``Batch/Package/{id}``: where a package is fetched, under the resource base."""
    return f"Batch/Package/{package_id}"


def _owner(
    token_class: str, application_id: int | None, authorization_id: int | None, scope: str
) -> str:
    if token_class == om.CUSTOMER:
        return f"A:{authorization_id}:{scope}"
    if token_class == om.CLIENT:
        return f"C:{application_id}"
    return f"{token_class}:"


def owner_of(caller: Caller) -> str:
    """Who may read what ``caller`` asks for: a customer token's Authorization under
    the token's own scope (a refreshed token of the same scope reads it; one narrowed
    by its refresh does not read what the wider one asked for), a client token's third
    party, or the Data Custodian's admin."""
    grant = caller.grant
    authorization = grant.id if grant is not None else None
    scope = grant.scope if grant is not None else ""
    return _owner(caller.token_class, caller.application_id, authorization, scope)


def package_owner(package: BatchPackage) -> str:
    """Who may read ``package`` (:func:`owner_of` the caller that asked for it)."""
    return _owner(
        package.token_class, package.application_id, package.authorization_id, package.scope
    )


def readable_by(package: BatchPackage, caller: Caller) -> bool:
    """Whether ``caller`` may read ``package`` (the same token class, third party and,
    for a customer token, Authorization and scope as the request that made it)."""
    return owner_of(caller) == package_owner(package)


def digest_of(owner: str, path: str, query: str) -> str:
    """The ``pending_key`` of ``owner``'s request for ``path?query``."""
    return hashlib.sha256(f"{owner}\n{path}\n{query}".encode()).hexdigest()


def pending_for(session: Session, key: str) -> BatchPackage | None:
    """The pending package of this key, if any."""
    stmt = select(BatchPackage).where(
        BatchPackage.pending_key == key, BatchPackage.state == PENDING
    )
    return session.scalars(stmt).one_or_none()


def new_package(
    caller: Caller, path: str, query: str, settings: Settings, at: float
) -> BatchPackage:
    """A pending package for ``caller``'s request of ``path?query`` (not yet added)."""
    grant = caller.grant.id if caller.grant is not None else None
    owner = owner_of(caller)
    scope = caller.grant.scope if caller.grant is not None else ""
    return BatchPackage(
        id=new_id(),
        token_class=caller.token_class,
        application_id=caller.application_id,
        authorization_id=grant,
        scope=scope,
        path=path,
        query=query,
        pending_key=digest_of(owner, path, query),
        state=PENDING,
        created_at=at,
        expires_at=at + settings.batch_retention_days * DAY,
        attempts=0,
    )


def claim(session: Session, package_id: int, at: float, lease: float) -> bool:
    """Take a pending package for ``lease`` seconds, if no other worker holds it: one
    conditional UPDATE, which on SQLite and PostgreSQL alike only one of two workers
    can win (the loser's WHERE no longer matches once the winner committed)."""
    taken = session.execute(
        update(BatchPackage)
        .execution_options(synchronize_session=False)
        .where(
            BatchPackage.id == package_id,
            BatchPackage.state == PENDING,
            (BatchPackage.lease_until.is_(None)) | (BatchPackage.lease_until < at),
        )
        .values(lease_until=at + lease, attempts=BatchPackage.attempts + 1)
    )
    return bool(getattr(taken, "rowcount", 0) == 1)


def file_path(settings: Settings, name: str) -> Path:
    """Where the file ``name`` of a package lives (GBCONNECT_BATCH_DIR)."""
    return Path(settings.batch_dir) / name


def file_name(package_id: int) -> str:
    """The gzip file of package ``package_id``."""
    return f"{package_id}.xml.gz"


__all__ = [
    "DUPLICATE_TEXT",
    "FAILED",
    "PENDING",
    "READY",
    "STATES",
    "BatchPackage",
    "claim",
    "digest_of",
    "file_name",
    "file_path",
    "new_package",
    "owner_of",
    "package_owner",
    "package_path",
    "pending_for",
    "readable_by",
]
