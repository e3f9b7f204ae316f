"""The worker's side of asynchronous batches: build pending packages, purge old ones.

A Batch request answered 202 Accepted (GBA 2024 rule, STANDARD.md section 6; see
:mod:`gbconnect.api.batches`) left a pending ``batch_package`` row
(:mod:`gbconnect.api.packages`). The job engine calls, from its loop:

- :func:`run_pending_packages` to build every pending package: the feed is written by
  the very plan the synchronous request runs (:func:`gbconnect.api.usage.batch`, with
  the caller rebuilt from the row and the stored query), so the package holds the
  exact Atom feed the request would have streamed, gzip-compressed, in a file of
  ``GBCONNECT_BATCH_DIR``. The transaction that marks the package ready also
  publishes :class:`~gbconnect.notify.events.BatchReady` (REQ.21 FB_39: the third
  party is sent a ``BatchList`` naming the package URL, as PG&E notifies when an
  asynchronous batch is ready);
- :func:`purge_expired_packages` to delete the packages past their
  ``GBCONNECT_BATCH_RETENTION_DAYS`` and their files.

Two workers may run at once (PostgreSQL): a package is claimed with a lease by one
conditional UPDATE (:func:`~gbconnect.api.packages.claim`) before it is built, the
lease is renewed while it is written, and only one worker can mark it ready (a
second UPDATE conditioned on ``state = 'pending'``); a worker that died mid-build
leaves a lease that lapses, and the package is built again.
"""

from __future__ import annotations

import contextlib
import gzip
import logging
import os
import re
import secrets
import time
from collections.abc import Callable
from pathlib import Path

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session, sessionmaker
from starlette.datastructures import QueryParams

from gbconnect.api import usage
from gbconnect.api.packages import (
    FAILED,
    PENDING,
    READY,
    BatchPackage,
    claim,
    file_path,
)
from gbconnect.config import Settings
from gbconnect.notify.events import BatchReady
from gbconnect.notify.outbox import publish
from gbconnect.oauth import models as om
from gbconnect.oauth.guard import AccessDenied, Caller, GrantView
from gbconnect.registration import models as rm
from gbconnect.web.query import QueryError, parse_query
from gbconnect.web.serving import CHUNK, Call

log = logging.getLogger(__name__)

#: Seconds a worker holds a package it builds; renewed every :data:`RENEW` seconds
#: while it writes, so only a worker that stopped loses it.
LEASE = 300.0
RENEW = 60.0
#: Attempts at a package whose build failed on an unexpected error before it is
#: marked failed (a grant that ended fails it at once).
MAX_ATTEMPTS = 3
#: A file in GBCONNECT_BATCH_DIR without a row is deleted once this old (seconds).
ORPHAN_AGE = 3600.0
_FILE = re.compile(r"^(\d+)[-.]")

#: The deferrable resources: path under the resource base -> the plan's spec.
_SPECS: tuple[tuple[re.Pattern[str], Callable[[Call, re.Match[str]], usage.BatchSpec]], ...] = (
    (re.compile(r"Batch/Bulk/(\d+)"), lambda call, m: usage.bulk_spec(call, int(m[1]))),
    (
        re.compile(r"Batch/Subscription/(\d+)"),
        lambda call, m: usage.subscription_spec(call, int(m[1])),
    ),
    (
        re.compile(r"Batch/Subscription/(\d+)/UsagePoint/(\d+)"),
        lambda call, m: usage.subscription_point_spec(call, int(m[1]), int(m[2])),
    ),
)


class PackageFailed(Exception):
    """A package that cannot be built (its grant ended, its path is not deferrable)."""


def spec_of(call: Call, path: str) -> usage.BatchSpec:
    """The Batch feed ``path`` names, resolved under ``call``'s caller."""
    for pattern, resolve in _SPECS:
        m = pattern.fullmatch(path)
        if m:
            return resolve(call, m)
    raise PackageFailed(f"{path} is not a deferrable resource")


def caller_for(session: Session, package: BatchPackage, at: float) -> Caller:
    """The caller who asked for ``package``, as the token check found it then, if it
    may still read: the third party neither on hold nor revoked and the grant active
    (the rules of :func:`gbconnect.oauth.guard.caller_of`, the token aside: it may
    have expired since, and a refreshed one reads the package)."""
    if package.application_id is not None:
        app = session.get(rm.ApplicationInformation, package.application_id)
        if app is None or app.data_custodian_status in (rm.ON_HOLD, rm.REVOKED):
            raise PackageFailed("the third party may no longer read data")
    view = None
    if package.authorization_id is not None:
        auth = session.get(om.Authorization, package.authorization_id)
        if auth is None:
            raise PackageFailed("the authorization is gone")
        view = GrantView(
            auth.id,
            auth.status,
            auth.authorized_start,
            auth.authorized_duration,
            auth.published_start,
            package.scope or auth.scope,
            auth.updated,
            auth.subscription.id if auth.subscription is not None else None,
        )
        if not view.is_active(int(at)):
            raise PackageFailed("the authorization ended before the batch was made")
    return Caller(0, package.token_class, package.application_id, view, session)


def _reads(factory: sessionmaker[Session]) -> sessionmaker[Session]:
    """Sessions for the long read of a build: autocommit on PostgreSQL, as the
    request path reads (no transaction held open while gigabytes are written)."""
    bind = factory.kw.get("bind")
    if bind is not None and bind.dialect.name == "postgresql":
        return sessionmaker(
            bind=bind.execution_options(isolation_level="AUTOCOMMIT"), expire_on_commit=False
        )
    return factory


def _renew(factory: sessionmaker[Session], package_id: int) -> None:
    with factory() as session:
        session.execute(
            update(BatchPackage)
            .execution_options(synchronize_session=False)
            .where(BatchPackage.id == package_id, BatchPackage.state == PENDING)
            .values(lease_until=time.time() + LEASE)
        )
        session.commit()


def write_feed(
    factory: sessionmaker[Session], settings: Settings, package_id: int, target: Path
) -> int:
    """Write package ``package_id``'s feed, gzip-compressed, to ``target``; its size.
    Raises :class:`PackageFailed` when the caller may no longer read it."""
    last = time.monotonic()
    with _reads(factory)() as session:
        package = session.get(BatchPackage, package_id)
        if package is None:
            raise PackageFailed("the package is gone")
        caller = caller_for(session, package, time.time())
        try:
            call = Call(session, caller, parse_query(QueryParams(package.query)), settings)
            prepared = usage.batch(call, spec_of(call, package.path))
        except (AccessDenied, QueryError) as exc:
            raise PackageFailed(str(exc)) from None
        buffer: list[str] = []
        size = 0
        with (
            open(target, "wb") as raw,
            gzip.GzipFile(filename="", mode="wb", fileobj=raw, compresslevel=6) as out,
        ):
            for piece in prepared(session):
                buffer.append(piece)
                size += len(piece)
                if size >= CHUNK:
                    out.write("".join(buffer).encode())
                    buffer.clear()
                    size = 0
                    if time.monotonic() - last > RENEW:
                        _renew(factory, package_id)
                        last = time.monotonic()
            out.write("".join(buffer).encode())
    return target.stat().st_size


def _finish(
    factory: sessionmaker[Session], settings: Settings, package_id: int, name: str, size: int
) -> bool:
    """Mark the package ready and publish BatchReady, in one transaction; False when
    another worker finished it first or it was deleted meanwhile."""
    at = time.time()
    with factory() as session:
        package = session.get(BatchPackage, package_id)
        if package is None:
            return False
        done = session.execute(
            update(BatchPackage)
            .execution_options(synchronize_session=False)
            .where(BatchPackage.id == package_id, BatchPackage.state == PENDING)
            .values(
                state=READY,
                pending_key=None,
                ready_at=at,
                expires_at=at + settings.batch_retention_days * 86400.0,
                lease_until=None,
                file=name,
                size=size,
                error=None,
            )
        )
        if getattr(done, "rowcount", 0) != 1:
            session.rollback()
            return False
        if package.application_id is not None:
            publish(session, BatchReady(package.application_id, package.relative_url))
        session.commit()
        return True


def _fail(factory: sessionmaker[Session], package_id: int, error: str, final: bool) -> None:
    """Record a failed build: the package fails (``final``) or waits for another try."""
    with factory() as session:
        values: dict[str, object] = {"lease_until": None, "error": error[:500]}
        if final:
            values.update(state=FAILED, pending_key=None)
        session.execute(
            update(BatchPackage)
            .execution_options(synchronize_session=False)
            .where(BatchPackage.id == package_id, BatchPackage.state == PENDING)
            .values(**values)
        )
        session.commit()


def _remove(path: Path) -> None:
    """Delete ``path`` if it is there (a folder gone or unusable is not an error here)."""
    with contextlib.suppress(OSError):
        path.unlink()


def build_package(factory: sessionmaker[Session], settings: Settings, package_id: int) -> bool:
    """Claim and build one pending package; True when this call finished it (ready or
    failed), False when another worker holds it."""
    with factory() as session:
        if not claim(session, package_id, time.time(), LEASE):
            session.rollback()
            return False
        session.commit()
        attempts = session.scalar(
            select(BatchPackage.attempts).where(BatchPackage.id == package_id)
        )
    folder = Path(settings.batch_dir)
    name = f"{package_id}-{secrets.token_hex(4)}.xml.gz"
    tmp = folder / f"{name}.tmp"
    try:
        folder.mkdir(parents=True, exist_ok=True)
        size = write_feed(factory, settings, package_id, tmp)
        os.replace(tmp, folder / name)
    except PackageFailed as exc:
        _remove(tmp)
        log.info("batch package %s failed: %s", package_id, exc)
        _fail(factory, package_id, str(exc), final=True)
        return True
    except Exception as exc:  # a fault: logged, retried up to MAX_ATTEMPTS
        _remove(tmp)
        log.exception("batch package %s could not be built", package_id)
        final = (attempts or 0) >= MAX_ATTEMPTS
        _fail(factory, package_id, f"internal error: {type(exc).__name__}", final=final)
        return final
    if not _finish(factory, settings, package_id, name, size):
        _remove(folder / name)
        return False
    return True


def run_pending_packages(factory: sessionmaker[Session], settings: Settings) -> int:
    """Build every pending package no other worker holds (oldest first); the number
    finished by this call (made ready, or failed because the grant ended). Each ready
    package is published as :class:`~gbconnect.notify.events.BatchReady` in the
    transaction that marks it ready (:func:`gbconnect.notify.outbox.publish`)."""
    finished = 0
    tried: set[int] = set()
    while True:
        at = time.time()
        due = select(BatchPackage.id).where(
            BatchPackage.state == PENDING,
            BatchPackage.expires_at > at,
            (BatchPackage.lease_until.is_(None)) | (BatchPackage.lease_until < at),
        )
        if tried:  # a fault freed them for the next call, not for this one
            due = due.where(BatchPackage.id.notin_(tried))
        with factory() as session:
            todo = session.scalars(
                due.order_by(BatchPackage.created_at, BatchPackage.id).limit(100)
            ).all()
        if not todo:
            return finished
        for package_id in todo:
            tried.add(package_id)
            if build_package(factory, settings, package_id):
                finished += 1


def purge_expired_packages(
    factory: sessionmaker[Session], settings: Settings, now: float | None = None
) -> int:
    """Delete the packages that expired by ``now`` (epoch seconds; the current time
    when omitted), ready, failed or never built, and their files, and any file of
    GBCONNECT_BATCH_DIR older than an hour whose package is gone (its third party or
    grant was deleted); the number of packages deleted."""
    at = time.time() if now is None else now
    with factory() as session:
        rows = session.execute(
            select(BatchPackage.id, BatchPackage.file).where(BatchPackage.expires_at <= at)
        ).all()
        ids = [r.id for r in rows]
        for i in range(0, len(ids), 500):
            session.execute(delete(BatchPackage).where(BatchPackage.id.in_(ids[i : i + 500])))
        session.commit()
    for row in rows:
        if row.file:
            file_path(settings, row.file).unlink(missing_ok=True)
    _sweep(factory, settings, at)
    return len(ids)


def _sweep(factory: sessionmaker[Session], settings: Settings, at: float) -> None:
    """Delete old files whose package row is gone."""
    folder = Path(settings.batch_dir)
    if not folder.is_dir():
        return
    found: dict[int, list[Path]] = {}
    for entry in folder.iterdir():
        m = _FILE.match(entry.name)
        if m and entry.is_file():
            found.setdefault(int(m[1]), []).append(entry)
    if not found:
        return
    with factory() as session:
        known: set[int] = set()
        ids = sorted(found)
        for i in range(0, len(ids), 500):
            chunk = ids[i : i + 500]
            known.update(session.scalars(select(BatchPackage.id).where(BatchPackage.id.in_(chunk))))
    for package_id, paths in found.items():
        if package_id in known:
            continue
        for p in paths:
            try:
                if at - p.stat().st_mtime > ORPHAN_AGE:
                    p.unlink(missing_ok=True)
            except FileNotFoundError:
                pass


__all__ = [
    "LEASE",
    "PackageFailed",
    "build_package",
    "caller_for",
    "purge_expired_packages",
    "run_pending_packages",
    "spec_of",
]
