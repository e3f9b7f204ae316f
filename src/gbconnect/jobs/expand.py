"""From committed events to notifications: who is told what (REQ.21 FB_39).

Each ``notify_event`` row (written with the change, :mod:`gbconnect.notify.outbox`)
becomes at most one ``BatchList`` per third party, naming the resources it can fetch
with its own tokens (STANDARD.md section 3; GBA PSH001-PSH003):

- an authorization granted: its ``Authorization`` and its ``Batch/Subscription``;
- an authorization revoked, expired or changed (its end date, by the customer): its
  ``Authorization``;
- an ApplicationInformation changed: the ``ApplicationInformation``;
- an asynchronous batch ready: the package's URL;
- new data for usage points: per third party with an active authorization covering
  them, its ``Batch/Bulk/{bulkId}`` when it was registered for Bulk (FB_35), else the
  ``Batch/Subscription`` of each authorization concerned (at most
  :data:`MAX_URIS` per BatchList). One import is one event: never one POST per usage
  point.

A third party on hold or revoked, or without a notify URI, is told nothing; putting
it on hold or revoking it cancels its queued notifications.
"""

from __future__ import annotations

import logging
import uuid
from collections import defaultdict
from collections.abc import Iterable, Sequence
from typing import cast

from sqlalchemy import Table, or_, select, update
from sqlalchemy.orm import Session

from gbconnect.config import Settings
from gbconnect.espi import scope as espi_scope
from gbconnect.notify import events as ev
from gbconnect.notify.admin import cancel_queued
from gbconnect.notify.models import QUEUED, Notification, NotifyEvent
from gbconnect.oauth import models as om
from gbconnect.registration import models as rm

_log = logging.getLogger(__name__)

#: Resource URIs in one BatchList at most; more are sent in several.
MAX_URIS = 1000
#: Usage point ids per query (SQLite allows 32766 bound parameters).
_CHUNK = 5000
#: The Bulk function block (REQ.21 FB_35).
_BULK = 35


def expand_pending(session: Session, settings: Settings, now: float, limit: int = 200) -> int:
    """Turn up to ``limit`` unexpanded events into notifications, in the caller's
    transaction; returns how many events were taken. Two workers never take the same
    event: the first statement marks the batch (``SKIP LOCKED`` on PostgreSQL)."""
    pending = (
        select(NotifyEvent.id)
        .where(NotifyEvent.expanded_at.is_(None))
        .order_by(NotifyEvent.id)
        .limit(limit)
    )
    if session.get_bind().dialect.name == "postgresql":
        pending = pending.with_for_update(skip_locked=True)
    taken = session.execute(
        update(NotifyEvent)
        .where(NotifyEvent.id.in_(pending.scalar_subquery()), NotifyEvent.expanded_at.is_(None))
        .values(expanded_at=now)
        .returning(NotifyEvent.id, NotifyEvent.kind, NotifyEvent.payload)
    ).all()
    rows: list[dict[str, object]] = []
    apps = load_applications(session, (p.get("application_id") for _, _, p in taken))
    for event_id, kind, payload in sorted(taken):
        try:
            event = ev.from_row(kind, payload)
        except (KeyError, TypeError, ValueError):
            _log.error("notify_event %s: unknown event %r, left out", event_id, kind)
            continue
        for app_id, uris in targets(session, settings, event, now, apps).items():
            for start in range(0, len(uris), MAX_URIS):
                rows.append(
                    {
                        "application_id": app_id,
                        "event_id": event_id,
                        "reason": kind,
                        "uris": uris[start : start + MAX_URIS],
                        "idempotency_key": uuid.uuid4().hex,
                        "state": QUEUED,
                        "attempts": 0,
                        "created_at": now,
                        "next_attempt_at": now,
                    }
                )
    if rows:
        session.connection().execute(cast(Table, Notification.__table__).insert(), rows)
    return len(taken)


def targets(
    session: Session, settings: Settings, event: ev.Event, now: float, apps: Apps | None = None
) -> dict[int, list[str]]:
    """The resource URIs each third party (application id) is to be sent for ``event``
    (``apps``: applications already read)."""
    apps = {} if apps is None else apps

    def _if_listening(app_id: int, uris: list[str]) -> dict[int, list[str]]:
        app = apps.get(app_id) or session.get(rm.ApplicationInformation, app_id)
        return {app_id: uris} if listening(app) else {}

    url = settings.resource_url
    if isinstance(event, ev.NewData):
        return _new_data(session, settings, event.usage_point_ids, now)
    if isinstance(event, ev.ThirdPartyStatusChanged):
        if event.new_status in (rm.ON_HOLD, rm.REVOKED):
            why = _held(event.new_status)
            count = cancel_queued(session, event.application_id, why, now)
            if count:
                _log.info(
                    "cancelled %d queued notification(s) of application %s: %s",
                    count,
                    event.application_id,
                    why,
                )
            return {}
        uris = [url(f"ApplicationInformation/{event.application_id}")]
        return _if_listening(event.application_id, uris)
    if isinstance(event, ev.ApplicationChanged):
        uris = [url(f"ApplicationInformation/{event.application_id}")]
        return _if_listening(event.application_id, uris)
    if isinstance(event, ev.AuthorizationGranted):
        uris = [url(f"Authorization/{event.authorization_id}")]
        if event.subscription_id is not None:
            uris.append(url(f"Batch/Subscription/{event.subscription_id}"))
        return _if_listening(event.application_id, uris)
    if isinstance(
        event, ev.AuthorizationRevoked | ev.AuthorizationExpired | ev.AuthorizationChanged
    ):
        uris = [url(f"Authorization/{event.authorization_id}")]
        return _if_listening(event.application_id, uris)
    if isinstance(event, ev.BatchReady):
        return _if_listening(event.application_id, [url(event.path)])
    return {}


Apps = dict[int, rm.ApplicationInformation]


def load_applications(session: Session, ids: Iterable[object]) -> Apps:
    """These applications by id, read in one query (not one per notification)."""
    wanted = sorted({i for i in ids if isinstance(i, int)})
    out: Apps = {}
    for start in range(0, len(wanted), _CHUNK):
        chunk = wanted[start : start + _CHUNK]
        for app in session.scalars(
            select(rm.ApplicationInformation).where(rm.ApplicationInformation.id.in_(chunk))
        ):
            out[app.id] = app
    return out


def listening(app: rm.ApplicationInformation | None) -> bool:
    """Whether a third party is notified at all: it has a notify URI and the utility
    has not put it on hold or revoked it."""
    return (
        app is not None
        and bool(app.notify_uri)
        and app.data_custodian_status in (rm.REVIEW, rm.PRODUCTION)
    )


def _held(status: int) -> str:
    return f"third party {rm.STATUS_NAMES.get(status, str(status))}"


def _bulk(app: rm.ApplicationInformation) -> bool:
    for text in app.scopes or ():
        try:
            if _BULK in espi_scope.parse(text).function_blocks:
                return True
        except espi_scope.ScopeError:
            continue
    return False


def _chunks(ids: Sequence[int]) -> Iterable[Sequence[int]]:
    for start in range(0, len(ids), _CHUNK):
        yield ids[start : start + _CHUNK]


def _new_data(
    session: Session, settings: Settings, usage_point_ids: Sequence[int], now: float
) -> dict[int, list[str]]:
    sup = om.subscription_usage_point
    auth = om.Authorization
    ended = auth.authorized_start + auth.authorized_duration
    subscriptions: dict[int, set[int]] = defaultdict(set)
    for chunk in _chunks(sorted(set(usage_point_ids))):
        rows = session.execute(
            select(om.Subscription.application_id, om.Subscription.id)
            .join(sup, sup.c.subscription_id == om.Subscription.id)
            .join(auth, auth.id == om.Subscription.authorization_id)
            .where(
                sup.c.usage_point_id.in_(chunk),
                auth.status == om.ACTIVE,
                or_(auth.authorized_duration.is_(None), ended > int(now)),
            )
            .distinct()
        )
        for app_id, sub_id in rows:
            subscriptions[app_id].add(sub_id)
    return data_uris(session, settings, subscriptions)


def data_uris(
    session: Session, settings: Settings, subscriptions: dict[int, set[int]]
) -> dict[int, list[str]]:
    """For each listening third party (application id -> its subscriptions concerned),
    the URIs that serve their data: its Bulk URL when registered for Bulk (FB_35),
    else each ``Batch/Subscription``."""
    out: dict[int, list[str]] = {}
    apps = load_applications(session, subscriptions)
    for app_id, subs in sorted(subscriptions.items()):
        app = apps.get(app_id)
        if app is None or not listening(app):
            continue
        if _bulk(app):
            out[app_id] = [settings.resource_url(f"Batch/Bulk/{app.bulk_id}")]
        else:
            out[app_id] = [settings.resource_url(f"Batch/Subscription/{s}") for s in sorted(subs)]
    return out


__all__ = [
    "MAX_URIS",
    "data_uris",
    "expand_pending",
    "listening",
    "load_applications",
    "targets",
]
