"""``gbconnect notify ...``: the notifications POSTed to third parties (REQ.21 FB_39),
seen and acted on by the operator (GBA PSH004: a failed POST is detected).

``status`` sums the jobs up, ``list`` and ``show`` read them and their delivery log,
``resend`` queues a delivered or dead one again as a new job, ``replay`` queues dead
ones again under their own idempotency key, ``purge`` applies the log's retention and
``secret`` prints (or rotates) a third party's signing key. Every command takes
``--json`` (stable keys, times as epoch seconds); an unknown id or client, or a job in
the wrong state, ends the command with one line and exit status 1.
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from typing import Any

import click
from sqlalchemy import select
from sqlalchemy.orm import Session

from gbconnect.audit import Actor, record
from gbconnect.cli.context import JSON, database_session, out
from gbconnect.cli.thirdparty import app_or_fail
from gbconnect.espi.times import iso
from gbconnect.notify import admin
from gbconnect.notify.models import STATES, Notification, NotificationAttempt
from gbconnect.registration import models as rm
from gbconnect.registration import signing_keys

#: A notification id as the store holds it (BIGINT); larger is refused before any query.
NOTIFICATION_ID = click.IntRange(1, 2**63 - 1)


def _when(epoch: float | None) -> str:
    return "-" if epoch is None else iso(int(epoch))


def _clients(session: Session, ids: Iterable[int]) -> dict[int, str]:
    """Client ids by ApplicationInformation id."""
    wanted = set(ids)
    if not wanted:
        return {}
    rows = session.execute(
        select(rm.ApplicationInformation.id, rm.ApplicationInformation.client_id).where(
            rm.ApplicationInformation.id.in_(wanted)
        )
    )
    return {app_id: client_id for app_id, client_id in rows}


def _job_data(job: Notification, client_id: str | None) -> dict[str, Any]:
    return {
        "id": job.id,
        "application_information_id": job.application_id,
        "client_id": client_id,
        "reason": job.reason,
        "state": job.state,
        "attempts": job.attempts,
        "uris": list(job.uris),
        "idempotency_key": job.idempotency_key,
        "created_at": job.created_at,
        "next_attempt_at": job.next_attempt_at,
        "lease_until": job.lease_until,
        "lease_owner": job.lease_owner,
        "finished_at": job.finished_at,
        "last_status": job.last_status,
        "last_error": job.last_error,
    }


def _attempt_data(attempt: NotificationAttempt) -> dict[str, Any]:
    return {
        "at": attempt.at,
        "outcome": attempt.outcome,
        "status": attempt.status,
        "latency_ms": attempt.latency_ms,
        "error": attempt.error,
    }


def _job_line(data: dict[str, Any]) -> str:
    error = f"  {data['last_error']}" if data["last_error"] else ""
    return (
        f"{data['id']:>8}  {data['state']:<9}  {data['attempts']:>3}  "
        f"{_when(data['created_at'])}  {data['client_id']}  {data['reason']}{error}"
    )


@click.group()
def notify() -> None:
    """Notifications to third parties (REQ.21 FB_39): what waits, what failed."""


@notify.command("status")
@JSON
@click.pass_context
def notify_status(ctx: click.Context, as_json: bool) -> None:
    """Jobs per state, the oldest waiting, the last hour's attempts, per third party."""
    with database_session(ctx) as (session, _):
        got = admin.status(session, time.time())
        clients = _clients(session, (a.application_id for a in got.applications))
    data: dict[str, Any] = {
        "counts": got.counts,
        "due": got.due,
        "leased": got.leased,
        "oldest_queued_age_seconds": got.oldest_queued_age,
        "attempts_last_hour": got.attempts_last_hour,
        "applications": [
            {
                "application_information_id": a.application_id,
                "client_id": clients.get(a.application_id),
                "queued": a.queued,
                "dead": a.dead,
                "last_error": a.last_error,
                "last_error_at": a.last_error_at,
            }
            for a in got.applications
        ],
    }
    age = got.oldest_queued_age
    lines = [
        ", ".join(f"{state} {got.counts[state]}" for state in STATES)
        + f" (due now {got.due}, being delivered {got.leased})",
        f"oldest queued: {'none' if age is None else f'{age:.0f} s ago'}",
        "attempts in the last hour: "
        + ", ".join(f"{k} {v}" for k, v in got.attempts_last_hour.items()),
    ]
    for app in data["applications"]:
        error = f"  last error {_when(app['last_error_at'])}: {app['last_error']}"
        lines.append(
            f"{app['client_id']}  queued {app['queued']}  dead {app['dead']}"
            + (error if app["last_error"] else "")
        )
    out(as_json, data, "\n".join(lines))


@notify.command("list")
@click.option("--state", type=click.Choice(STATES), help="Only jobs in this state.")
@click.option("--client", "client", metavar="CLIENT_ID", help="Only this third party's jobs.")
@click.option("--limit", type=click.IntRange(1, 10000), default=50, show_default=True)
@JSON
@click.pass_context
def notify_list(
    ctx: click.Context, state: str | None, client: str | None, limit: int, as_json: bool
) -> None:
    """The newest jobs first: id, state, attempts, created, third party, reason."""
    with database_session(ctx) as (session, _):
        app_id = app_or_fail(session, client).id if client else None
        jobs = admin.list_notifications(session, state=state, application_id=app_id, limit=limit)
        clients = _clients(session, (j.application_id for j in jobs))
        data = [_job_data(j, clients.get(j.application_id)) for j in jobs]
    out(as_json, data, "\n".join(_job_line(d) for d in data) or "no notifications")


@notify.command("show")
@click.argument("notification_id", type=NOTIFICATION_ID)
@JSON
@click.pass_context
def notify_show(ctx: click.Context, notification_id: int, as_json: bool) -> None:
    """One job, its URIs and its delivery log (every attempt)."""
    with database_session(ctx) as (session, _):
        job = admin.get(session, notification_id)
        data = _job_data(job, _clients(session, [job.application_id]).get(job.application_id))
        data["log"] = [_attempt_data(a) for a in admin.attempts_of(session, notification_id)]
    lines = [
        f"notification {data['id']}: {data['state']}, {data['attempts']} attempt(s) since it"
        f" was queued, {len(data['log'])} logged",
        f"third party: {data['client_id']}",
        f"reason: {data['reason']}",
        f"idempotency key: {data['idempotency_key']}",
        f"created: {_when(data['created_at'])}  next attempt: {_when(data['next_attempt_at'])}"
        f"  finished: {_when(data['finished_at'])}",
        *(f"uri: {u}" for u in data["uris"]),
    ]
    if data["lease_until"] is not None:
        lines.append(f"leased by {data['lease_owner']} until {_when(data['lease_until'])}")
    for a in data["log"]:
        lines.append(
            f"  {_when(a['at'])}  {a['outcome']:<9}  {a['status'] or '-':>3}  "
            f"{a['latency_ms']} ms  {a['error'] or ''}".rstrip()
        )
    if not data["log"]:
        lines.append("  no attempt logged")
    out(as_json, data, "\n".join(lines))


@notify.command("resend")
@click.argument("notification_id", type=NOTIFICATION_ID)
@JSON
@click.pass_context
def notify_resend(ctx: click.Context, notification_id: int, as_json: bool) -> None:
    """Queue a delivered or dead job again as a new job (new idempotency key)."""
    with database_session(ctx) as (session, _):
        new_id = admin.resend(session, notification_id, time.time())
    out(
        as_json,
        {"resent": notification_id, "notification_id": new_id},
        f"notification {notification_id} resent as notification {new_id}",
    )


@notify.command("replay")
@click.argument("notification_ids", nargs=-1, type=NOTIFICATION_ID)
@click.option("--client", "client", metavar="CLIENT_ID", help="This third party's dead jobs.")
@click.option("--all-dead", is_flag=True, help="Every dead job of every third party.")
@JSON
@click.pass_context
def notify_replay(
    ctx: click.Context,
    notification_ids: tuple[int, ...],
    client: str | None,
    all_dead: bool,
    as_json: bool,
) -> None:
    """Queue dead jobs again with their own idempotency key: the IDs given (each must be
    dead), a third party's (--client) or every one (--all-dead)."""
    if all_dead and (notification_ids or client):
        raise click.UsageError("--all-dead replays every dead job: give no ID nor --client")
    if not (notification_ids or client or all_dead):
        raise click.UsageError("say which: notification IDs, --client CLIENT_ID or --all-dead")
    with database_session(ctx) as (session, _):
        app_id = app_or_fail(session, client).id if client else None
        count = admin.replay(
            session,
            application_id=app_id,
            ids=list(notification_ids) or None,
            now=time.time(),
        )
    out(as_json, {"replayed": count}, f"{count} dead notification(s) queued again")


@notify.command("purge")
@click.option(
    "--older-than",
    "days",
    type=click.IntRange(1),
    default=None,
    metavar="DAYS",
    help="Retention in days (default GBCONNECT_NOTIFY_LOG_DAYS, 30).",
)
@JSON
@click.pass_context
def notify_purge(ctx: click.Context, days: int | None, as_json: bool) -> None:
    """Delete the delivery log older than DAYS: attempts, and delivered or cancelled
    jobs (queued and dead ones are kept)."""
    with database_session(ctx) as (session, settings):
        days = days or settings.notify_log_days
        cutoff = time.time() - days * 86400
        deleted = admin.purge(session, cutoff)
    out(
        as_json,
        {"deleted_notifications": deleted, "older_than": cutoff, "days": days},
        f"deleted {deleted} finished notification(s) and every attempt before {_when(cutoff)}",
    )


@notify.command("secret")
@click.argument("client_id")
@click.option("--rotate", is_flag=True, help="Make a new key; the old one keeps signing a while.")
@click.option(
    "--grace-hours",
    type=click.FloatRange(0, 24 * 30),
    default=signing_keys.DEFAULT_GRACE_HOURS,
    show_default=True,
    help="Hours the previous key keeps signing after --rotate.",
)
@JSON
@click.pass_context
def notify_secret(
    ctx: click.Context, client_id: str, rotate: bool, grace_hours: float, as_json: bool
) -> None:
    """Print a third party's notification signing key (made if it has none), to give
    it to the third party; --rotate makes a new one."""
    with database_session(ctx) as (session, _):
        app = app_or_fail(session, client_id)
        if rotate:
            secret = signing_keys.rotate_key(app, time.time(), grace_hours * 3600)
            record(
                session,
                "credential.rotated",
                Actor.operator(),
                ("application", app.id),
                {"credential": "notification signing key", "grace_hours": grace_hours},
            )
        else:
            secret = signing_keys.ensure_key(app)
        until = app.notify_secret_previous_until if app.notify_secret_previous else None
        data: dict[str, Any] = {
            "client_id": app.client_id,
            "secret": secret,
            "rotated": rotate,
            "previous_valid_until": until if until is not None and until > time.time() else None,
        }
    lines = [f"client_id: {data['client_id']}", f"secret: {secret}"]
    if data["previous_valid_until"] is not None:
        lines.append(f"the previous key also signs until {_when(data['previous_valid_until'])}")
    out(as_json, data, "\n".join(lines))
