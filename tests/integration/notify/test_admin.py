"""What an operator sees and does with notification jobs (REQ.21 FB_39, GBA PSH004:
failed POSTs are detected, shown and can be delivered again), on SQLite and PostgreSQL."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session, sessionmaker

from gbconnect.jobs.periodic import Every
from gbconnect.notify import admin
from gbconnect.notify.models import (
    CANCELLED,
    DEAD,
    DELIVERED,
    QUEUED,
    Notification,
    NotificationAttempt,
)
from gbconnect.notify.retention import purge_delivery_log
from tests.factories.app import make_settings
from tests.factories.notifications import make_application, make_attempt, make_job

NOW = 2_000_000.0


@dataclass
class Apps:
    one: int
    two: int


@pytest.fixture
def apps(db_url: str, factory: sessionmaker[Session]) -> Apps:
    settings = make_settings(db_url)
    with factory() as s:
        one, _ = make_application(s, settings, "Solar Helper")
        two, _ = make_application(s, settings, "Energy Coach")
        s.commit()
    return Apps(one, two)


def _claimable(s: Session, now: float) -> list[int]:
    """The worker's rule: queued, due, and no live lease."""
    return list(
        s.scalars(
            select(Notification.id)
            .where(
                Notification.state == QUEUED,
                Notification.next_attempt_at <= now,
                or_(Notification.lease_until.is_(None), Notification.lease_until < now),
            )
            .order_by(Notification.id)
        )
    )


def test_status_counts_states_ages_attempts_and_third_parties(
    factory: sessionmaker[Session], apps: Apps
) -> None:
    with factory() as s:
        assert admin.status(s, NOW) == admin.NotifyStatus(
            counts={QUEUED: 0, DELIVERED: 0, DEAD: 0, CANCELLED: 0},
            due=0,
            leased=0,
            oldest_queued_age=None,
            attempts_last_hour={"delivered": 0, "retry": 0, "dead": 0},
            applications=[],
        )
        make_job(s, apps.one, created_at=NOW - 600)  # due
        make_job(s, apps.one, created_at=NOW - 30, next_attempt_at=NOW + 60)  # backing off
        make_job(s, apps.two, created_at=NOW - 90, lease_until=NOW + 20, lease_owner="w1")
        make_job(s, apps.two, created_at=NOW - 50, lease_until=NOW - 1, lease_owner="w0")
        delivered = make_job(s, apps.one, state=DELIVERED, created_at=NOW - 7200)
        dead = make_job(s, apps.two, state=DEAD, created_at=NOW - 9000, last_error="HTTP 410")
        make_job(s, apps.one, state=CANCELLED, created_at=NOW - 100)
        make_attempt(s, delivered, NOW - 7000, "retry", 503, "HTTP 503")  # over an hour ago
        make_attempt(s, delivered, NOW - 3000, "delivered", 200)
        make_attempt(s, dead, NOW - 600, "retry", None, "timeout: ConnectTimeout")
        make_attempt(s, dead, NOW - 60, "dead", 410, "HTTP 410")
        s.commit()

        got = admin.status(s, NOW)
    assert got.counts == {QUEUED: 4, DELIVERED: 1, DEAD: 1, CANCELLED: 1}
    assert got.due == 2  # the first, and the one whose lease ran out
    assert got.leased == 1
    assert got.oldest_queued_age == pytest.approx(600)
    assert got.attempts_last_hour == {"delivered": 1, "retry": 1, "dead": 1}
    assert got.applications == sorted(
        [
            admin.ApplicationStatus(apps.one, 2, 0, "HTTP 503", last_error_at=NOW - 7000),
            admin.ApplicationStatus(apps.two, 2, 1, "HTTP 410", last_error_at=NOW - 60),
        ],
        key=lambda a: a.application_id,
    )


def test_list_is_newest_first_filtered_and_limited(
    factory: sessionmaker[Session], apps: Apps
) -> None:
    with factory() as s:
        ids = [
            make_job(s, apps.one).id,
            make_job(s, apps.two, state=DEAD).id,
            make_job(s, apps.one, state=DEAD).id,
            make_job(s, apps.one, state=DELIVERED).id,
        ]
        s.commit()
        assert [n.id for n in admin.list_notifications(s)] == ids[::-1]
        assert [n.id for n in admin.list_notifications(s, limit=2)] == ids[:1:-1]
        assert [n.id for n in admin.list_notifications(s, state=DEAD)] == [ids[2], ids[1]]
        assert [n.id for n in admin.list_notifications(s, state=DEAD, application_id=apps.one)] == [
            ids[2]
        ]
        assert admin.list_notifications(s, application_id=apps.two + 1000) == []
        with pytest.raises(admin.NotifyAdminError, match="unknown state 'lost'"):
            admin.list_notifications(s, state="lost")
        with pytest.raises(admin.NotifyAdminError, match="at least 1"):
            admin.list_notifications(s, limit=0)


def test_attempts_of_a_job_oldest_first(factory: sessionmaker[Session], apps: Apps) -> None:
    with factory() as s:
        job = make_job(s, apps.one, state=DEAD)
        other = make_job(s, apps.one)
        make_attempt(s, job, NOW - 10, "dead", 404, "HTTP 404")
        make_attempt(s, job, NOW - 100, "retry", None, "ConnectError: refused")
        make_attempt(s, other, NOW - 50, "retry", 500, "HTTP 500")
        s.commit()
        log = admin.attempts_of(s, job.id)
        assert [(a.outcome, a.status, a.error) for a in log] == [
            ("retry", None, "ConnectError: refused"),
            ("dead", 404, "HTTP 404"),
        ]
        assert admin.attempts_of(s, make_job(s, apps.two).id) == []
        with pytest.raises(admin.UnknownNotification, match="no notification with id 999999"):
            admin.attempts_of(s, 999999)


def test_resend_queues_a_new_job_with_a_new_key(factory: sessionmaker[Session], apps: Apps) -> None:
    uris = ["https://dc.example/r/Batch/Subscription/5", "https://dc.example/r/Authorization/7"]
    with factory() as s:
        dead = make_job(s, apps.two, state=DEAD, uris=uris, attempts=9, last_error="HTTP 410")
        delivered = make_job(s, apps.one, state=DELIVERED, attempts=1)
        s.commit()
        new_id = admin.resend(s, dead.id, NOW)
        again = admin.resend(s, delivered.id, NOW)
        s.commit()
    with factory() as s:
        job = admin.get(s, new_id)
        old = admin.get(s, dead.id)
        assert (job.application_id, job.uris, job.reason, job.state, job.attempts) == (
            apps.two,
            uris,
            admin.RESEND,
            QUEUED,
            0,
        )
        assert job.idempotency_key not in (old.idempotency_key, delivered.idempotency_key)
        assert len(job.idempotency_key) == 32 and int(job.idempotency_key, 16) >= 0
        assert (job.created_at, job.next_attempt_at, job.lease_until) == (NOW, NOW, None)
        assert (old.state, old.attempts) == (DEAD, 9)  # the original is left as it was
        assert admin.get(s, again).application_id == apps.one
        assert _claimable(s, NOW) == sorted([new_id, again])


def test_resend_refuses_a_job_still_queued_or_unknown(
    factory: sessionmaker[Session], apps: Apps
) -> None:
    with factory() as s:
        job = make_job(s, apps.one, state=QUEUED)
        s.commit()
        with pytest.raises(admin.WrongState, match="is queued; only a delivered, dead or"):
            admin.resend(s, job.id, NOW)
        with pytest.raises(admin.UnknownNotification):
            admin.resend(s, job.id + 1000, NOW)
        s.rollback()
        assert s.scalar(select(func.count()).select_from(Notification)) == 1


def test_replay_queues_dead_jobs_again_with_the_same_key(
    factory: sessionmaker[Session], apps: Apps
) -> None:
    with factory() as s:
        dead = [
            make_job(s, apps.one, state=DEAD, attempts=12, lease_owner="w1", lease_until=NOW - 5,
                     last_status=500, last_error="HTTP 500"),
            make_job(s, apps.one, state=DEAD),
            make_job(s, apps.two, state=DEAD),
            make_job(s, apps.two, state=DEAD),
        ]  # fmt: skip
        delivered = make_job(s, apps.one, state=DELIVERED)
        keys = {j.id: j.idempotency_key for j in dead}
        ids = [j.id for j in dead]
        s.commit()

        assert admin.replay(s, ids=[ids[0]], now=NOW) == 1
        assert admin.replay(s, application_id=apps.two, now=NOW + 1) == 2
        s.commit()
        assert _claimable(s, NOW + 1) == [ids[0], ids[2], ids[3]]
        job = admin.get(s, ids[0])
        assert (job.state, job.attempts, job.next_attempt_at) == (QUEUED, 0, NOW)
        assert job.created_at == NOW  # the retry window starts again
        assert (job.lease_until, job.lease_owner, job.finished_at) == (None, None, None)
        assert job.reason == "NewData"
        assert (job.last_status, job.last_error) == (500, "HTTP 500")  # what last happened

        assert admin.replay(s, now=NOW + 2) == 1  # every dead job left: ids[1]
        assert admin.replay(s, now=NOW + 3) == 0
        s.commit()
    with factory() as s:
        assert {j.id: j.idempotency_key for j in s.scalars(select(Notification))} == {
            **keys,
            delivered.id: delivered.idempotency_key,
        }
        assert admin.get(s, delivered.id).state == DELIVERED


def test_replay_refuses_unknown_wrong_state_and_another_third_partys_job(
    factory: sessionmaker[Session], apps: Apps
) -> None:
    with factory() as s:
        dead = make_job(s, apps.one, state=DEAD)
        delivered = make_job(s, apps.one, state=DELIVERED)
        theirs = make_job(s, apps.two, state=DEAD)
        s.commit()
        cases: list[tuple[list[int], int | None, type[Exception], str]] = [
            ([dead.id, delivered.id], None, admin.WrongState, "is delivered; only a dead"),
            ([dead.id, 424242], None, admin.UnknownNotification, "no notification with id 424242"),
            ([dead.id, theirs.id], apps.one, admin.WrongState, "another third party"),
        ]
        for ids, app_id, error, message in cases:
            with pytest.raises(error, match=message):
                admin.replay(s, ids=ids, application_id=app_id, now=NOW)
        s.rollback()
        assert admin.get(s, dead.id).state == DEAD  # all or nothing
        assert admin.replay(s, ids=[], now=NOW) == 0
        assert issubclass(admin.WrongState, ValueError)  # an InputError


def test_cancel_queued_stops_one_third_partys_waiting_jobs(
    factory: sessionmaker[Session], apps: Apps
) -> None:
    with factory() as s:
        waiting = make_job(s, apps.one)
        held = make_job(s, apps.one, lease_until=NOW + 30, lease_owner="w1")
        dead = make_job(s, apps.one, state=DEAD)
        other = make_job(s, apps.two)
        s.commit()
        assert admin.cancel_queued(s, apps.one, "third party put on hold", NOW) == 2
        s.commit()
        for job in (waiting, held):
            got = admin.get(s, job.id)
            assert (got.state, got.last_error, got.finished_at) == (
                CANCELLED,
                "third party put on hold",
                NOW,
            )
            assert (got.lease_until, got.lease_owner) == (None, None)
        assert admin.get(s, dead.id).state == DEAD
        assert admin.get(s, other.id).state == QUEUED
        assert _claimable(s, NOW + 60) == [other.id]
        assert admin.cancel_queued(s, apps.one, "x" * 900, NOW) == 0


def test_purge_keeps_the_log_for_its_retention(factory: sessionmaker[Session], apps: Apps) -> None:
    cutoff = NOW - 30 * 86400
    old, recent = cutoff - 10, cutoff + 10
    with factory() as s:
        old_delivered = make_job(s, apps.one, state=DELIVERED, created_at=old - 5)
        make_job(s, apps.one, state=CANCELLED, created_at=old - 5)
        old_dead = make_job(s, apps.two, state=DEAD, created_at=old - 5)
        old_queued = make_job(s, apps.two, created_at=old - 5)
        new_delivered = make_job(s, apps.one, state=DELIVERED, created_at=recent)
        make_attempt(s, old_delivered, old - 4, "delivered", 200)
        make_attempt(s, old_dead, old - 4, "retry", 503, "HTTP 503")
        dead_recent = make_attempt(s, old_dead, recent, "dead", 404, "HTTP 404")
        queued_recent = make_attempt(s, old_queued, recent, "retry", 503, "HTTP 503")
        delivered_recent = make_attempt(s, new_delivered, recent + 1, "delivered", 200)
        s.commit()
        assert admin.purge(s, cutoff) == 2
        s.commit()
    with factory() as s:
        assert sorted(s.scalars(select(Notification.id))) == sorted(
            [old_dead.id, old_queued.id, new_delivered.id]
        )
        assert sorted(s.scalars(select(NotificationAttempt.id))) == sorted(
            [dead_recent.id, queued_recent.id, delivered_recent.id]
        )
        assert admin.purge(s, cutoff) == 0


def test_the_retention_hook_purges_at_most_once_per_period(
    db_url: str, factory: sessionmaker[Session], apps: Apps
) -> None:
    """The worker's hook (gbconnect.notify.retention) applies GBCONNECT_NOTIFY_LOG_DAYS."""
    settings = make_settings(db_url).model_copy(update={"notify_log_days": 10})
    with factory() as s:
        make_job(s, apps.one, state=DELIVERED, created_at=NOW - 11 * 86400)
        s.commit()
    hook = Every(3600, purge_delivery_log)
    assert hook(factory, settings, NOW) == 1
    with factory() as s:
        make_job(s, apps.one, state=CANCELLED, created_at=NOW - 20 * 86400)
        s.commit()
    assert hook(factory, settings, NOW + 3599) == 0  # not yet
    assert hook(factory, settings, NOW + 3600) == 1
    with factory() as s:
        assert s.scalar(select(func.count()).select_from(Notification)) == 0


def test_a_cancelled_job_can_be_resent_once_its_third_party_is_back(
    factory: sessionmaker[Session], apps: Apps
) -> None:
    with factory() as s:
        job = make_job(s, apps.one, state=CANCELLED)
        s.commit()
        new_id = admin.resend(s, job.id, NOW)
        s.commit()
        again = s.get(Notification, new_id)
        assert again is not None and again.state == QUEUED and again.uris == job.uris
