"""Notifications delivered for real (REQ.21 FB_39; GBA PSH001-PSH004): a change is
committed, the worker POSTs a signed BatchList to a real receiver on a loopback port,
and the receiver GETs every URI it was sent with the third party's own token.
SQLite and PostgreSQL."""

from __future__ import annotations

import time
from pathlib import Path

from sqlalchemy import Engine, select, update
from sqlalchemy.orm import Session, sessionmaker

from gbconnect.api.packages import BatchPackage
from gbconnect.espi.batchlist import read_batch_list
from gbconnect.ingest.services import ingest_file
from gbconnect.jobs.worker import Worker
from gbconnect.notify import signing
from gbconnect.notify.models import CANCELLED, DEAD, DELIVERED, QUEUED, Notification
from gbconnect.notify.models import NotificationAttempt as Attempt
from gbconnect.oauth.clients import set_status
from gbconnect.registration import models as rm
from tests.factories.world import World
from tests.integration.oauth.test_espi_access import NS, bearer, valid
from tests.receiver import Receiver, answer, receiving


def listen_at(world: World, url: str | None, scopes: list[str] | None = None) -> None:
    """Point the world's third party at ``url`` (and give it ``scopes``)."""
    with world.factory() as s:
        app = s.get(rm.ApplicationInformation, world.app_id)
        assert app is not None
        app.notify_uri = url
        if scopes is not None:
            app.scopes = scopes
        s.commit()


def drain(worker: Worker, now: float | None = None) -> int:
    done = 0
    for _ in range(20):
        n = worker.run_once(now)
        done += n
        if not n:
            break
    return done


def notifications(factory: sessionmaker[Session]) -> list[Notification]:
    with factory() as s:
        return list(s.scalars(select(Notification).order_by(Notification.id)))


def attempts(factory: sessionmaker[Session], nid: int) -> list[Attempt]:
    with factory() as s:
        return list(s.scalars(select(Attempt).where(Attempt.notification_id == nid)))


def key_of(world: World) -> bytes:
    with world.factory() as s:
        app = s.get(rm.ApplicationInformation, world.app_id)
        assert app is not None and app.notify_secret
        return app.notify_secret.encode()


def path_of(world: World, uri: str) -> str:
    assert uri.startswith(world.settings.base_url + "/")
    return uri[len(world.settings.base_url) :]


def only_uris(r: Receiver, index: int = 0) -> list[str]:
    return read_batch_list(r.received[index].body)


def test_psh002_psh003_a_grant_notifies_its_authorization_and_subscription(world: World) -> None:
    with receiving() as r:
        listen_at(world, r.url)
        tokens = world.code_tokens()
        assert drain(Worker(world.settings, world.factory)) > 0
        got = r.wait_for(1)
        assert len(got) == 1
        uris = read_batch_list(got[0].body)
        assert [u.rsplit("/", 2)[-2] for u in uris] == ["Authorization", "Subscription"]
        assert signing.verify(key_of(world), got[0].headers, got[0].body, int(time.time()))
        assert got[0].headers["content-type"] == "application/xml"
        assert len(got[0].headers["idempotency-key"]) == 32
    client = bearer(world.client_token())
    auth = world.client.get(path_of(world, uris[0]), headers=client)
    assert auth.status_code == 200, auth.text
    assert valid(auth.content).findtext(".//e:status", namespaces=NS) == "1"
    feed = world.client.get(path_of(world, uris[1]), headers=bearer(tokens["access_token"]))
    assert feed.status_code == 200
    valid(feed.content)
    (sent,) = notifications(world.factory)
    assert sent.state == DELIVERED and sent.attempts == 1 and sent.last_status == 200


def test_psh001_an_application_information_change_notifies_it(world: World) -> None:
    path = world.url(f"/ApplicationInformation/{world.app_id}")
    headers = bearer(world.registration_token)
    with receiving() as r:
        listen_at(world, r.url)
        got = world.client.get(path, headers=headers)
        renamed = got.content.replace(b"<client_name>", b"<client_name>Renamed ")
        assert world.client.put(path, content=renamed, headers=headers).status_code == 200
        drain(Worker(world.settings, world.factory))
        r.wait_for(1)
        (uri,) = only_uris(r)
    assert path_of(world, uri) == path
    again = world.client.get(path, headers=headers)
    assert again.status_code == 200
    assert valid(again.content).findtext(".//e:client_name", namespaces=NS).startswith("Renamed")


def corrected(sample: Path, tmp_path: Path, n: int) -> Path:
    """``sample`` with its first reading's value changed (the utility's correction)."""
    text = sample.read_text()
    start = text.index("<value>") + len("<value>")
    end = text.index("</value>", start)
    out = tmp_path / f"corrected{n}.xml"
    out.write_text(text[:start] + str(int(text[start:end]) + n) + text[end:])
    return out


def test_an_import_notifies_each_third_party_once_with_what_changed(
    world: World, samples: Path, tmp_path: Path
) -> None:
    """One BatchList per third party per import, however many usage points changed;
    Batch/Subscription for a third party without Bulk, Batch/Bulk with it; an import
    that changes nothing notifies nobody."""
    listen_at(world, None)
    sample = samples / "15minLP_15Days.xml"
    first = ingest_file(world.factory, sample, "alice", world.settings.zone)
    points = sorted(first.usage_point_ids)
    assert points
    tokens = world.code_tokens(service=[str(p) for p in points])
    worker = Worker(world.settings, world.factory)
    drain(worker)  # the grant and the first import: no notify URI, nothing
    assert notifications(world.factory) == []
    with receiving() as r:
        listen_at(world, r.url)
        # The same file again: nothing changed, nobody is told.
        ingest_file(world.factory, sample, "alice", world.settings.zone)
        drain(worker)
        assert notifications(world.factory) == []
        # A corrected reading: the third party is told.
        fixed = corrected(sample, tmp_path, 1)
        again = ingest_file(world.factory, fixed, "alice", world.settings.zone)
        assert again.usage_point_ids == first.usage_point_ids
        drain(worker)
        r.wait_for(1)
        (uri,) = only_uris(r)
        assert "/Batch/Subscription/" in uri
        feed = world.client.get(path_of(world, uri), headers=bearer(tokens["access_token"]))
        assert feed.status_code == 200
        valid(feed.content)
        # Registered for Bulk (FB_35): the Bulk URL, fetched with the client token.
        with world.factory() as s:
            app = s.get(rm.ApplicationInformation, world.app_id)
            assert app is not None
            scopes = [app.scopes[0].replace("FB=1_", "FB=1_35_")]
        listen_at(world, r.url, scopes)
        ingest_file(world.factory, corrected(sample, tmp_path, 2), "alice", world.settings.zone)
        drain(worker)
        r.wait_for(2)
        (bulk,) = only_uris(r, 1)
    assert "/Batch/Bulk/" in bulk
    feed = world.client.get(path_of(world, bulk), headers=bearer(world.client_token()))
    assert feed.status_code == 200
    valid(feed.content)
    assert len(r.received) == 2


def test_an_import_of_other_usage_points_notifies_nobody(world: World, samples: Path) -> None:
    listen_at(world, None)
    world.code_tokens()
    worker = Worker(world.settings, world.factory)
    drain(worker)
    with receiving() as r:
        listen_at(world, r.url)
        ingest_file(world.factory, samples / "15minLP_15Days.xml", "alice", world.settings.zone)
        drain(worker)
    assert r.received == [] and notifications(world.factory) == []


def test_a_receiver_down_then_up_gets_everything_with_the_same_key(world: World) -> None:
    with receiving() as r:
        listen_at(world, r.url)
        r.stop()  # down: connection refused
        world.code_tokens()
        worker = Worker(world.settings, world.factory)
        drain(worker)
        (job,) = notifications(world.factory)
        assert job.state == QUEUED and job.attempts == 1 and job.last_status is None
        assert "Connect" in (job.last_error or "")
        # Backoff: not due again at once (about 15-30 s later).
        assert 10 < job.next_attempt_at - time.time() <= 31
        assert drain(worker) == 0
        r.start()  # up again, same port
        drain(worker, now=job.next_attempt_at + 1)
        got = r.wait_for(1)
    (job2,) = notifications(world.factory)
    assert job2.state == DELIVERED and job2.attempts == 2
    assert got[0].headers["idempotency-key"] == job.idempotency_key
    log = attempts(world.factory, job.id)
    assert [a.outcome for a in log] == ["retry", "delivered"]


def test_psh004_a_failing_receiver_is_retried_and_each_failure_recorded(world: World) -> None:
    with receiving() as r:
        r.behaviour = lambda h: answer(h, 500)
        listen_at(world, r.url)
        world.code_tokens()
        worker = Worker(world.settings, world.factory)
        drain(worker)
        (job,) = notifications(world.factory)
        drain(worker, now=job.next_attempt_at + 1)
        (job,) = notifications(world.factory)
        assert job.state == QUEUED and job.attempts == 2 and job.last_status == 500
        _first, second = (a.at for a in attempts(world.factory, job.id))
        # The second wait is about twice the first (30 s then 60 s, with jitter).
        assert 30 <= job.next_attempt_at - second <= 61
        r.behaviour = lambda h: answer(h, 200)
        drain(worker, now=job.next_attempt_at + 1)
        assert len(r.wait_for(3)) == 3
    keys = {x.headers["idempotency-key"] for x in r.received}
    assert len(keys) == 1  # duplicates only with the same key
    assert notifications(world.factory)[0].state == DELIVERED


def test_a_4xx_goes_to_the_dead_letter_at_once_and_says_so(world: World) -> None:
    with receiving() as r:
        r.behaviour = lambda h: answer(h, 404)
        listen_at(world, r.url)
        world.code_tokens()
        drain(Worker(world.settings, world.factory))
        r.wait_for(1)
    (job,) = notifications(world.factory)
    assert job.state == DEAD and job.attempts == 1 and job.last_status == 404
    assert job.last_error == "HTTP 404: refused by the receiver, not retried"


def test_429_and_408_are_retried(world: World) -> None:
    with receiving() as r:
        r.behaviour = lambda h: answer(h, 429, Retry_After="1")
        listen_at(world, r.url)
        world.code_tokens()
        drain(Worker(world.settings, world.factory))
        r.wait_for(1)
    (job,) = notifications(world.factory)
    assert job.state == QUEUED and job.last_status == 429


def test_after_the_retry_window_a_notification_is_dead(world: World) -> None:
    with receiving() as r:
        r.behaviour = lambda h: answer(h, 503)
        listen_at(world, r.url)
        world.code_tokens()
        # The notification was made 72 hours ago: this failure is its last.
        with world.factory() as s:
            worker = Worker(world.settings, world.factory)
            worker.run_once()  # expands and tries once
            s.execute(update(Notification).values(created_at=time.time() - 72 * 3600 - 1))
            s.commit()
        (job,) = notifications(world.factory)
        drain(worker, now=job.next_attempt_at + 1)
    (job,) = notifications(world.factory)
    assert job.state == DEAD and job.attempts == 2
    assert job.last_error is not None and job.last_error.startswith("gave up after 2 attempt(s)")


def test_a_third_party_on_hold_gets_nothing_more(world: World) -> None:
    with receiving() as r:
        r.behaviour = lambda h: answer(h, 500)
        listen_at(world, r.url)
        world.code_tokens()
        worker = Worker(world.settings, world.factory)
        drain(worker)
        with world.factory() as s:
            set_status(s, s.get(rm.ApplicationInformation, world.app_id), rm.ON_HOLD)
            s.commit()
        drain(worker, now=time.time() + 3600)
        assert len(r.received) == 1
    (job,) = notifications(world.factory)
    assert job.state == CANCELLED and job.last_error == "third party on hold"


def test_a_receiver_that_hangs_does_not_hold_up_the_others(world: World) -> None:
    """A receiver that never answers costs one thread its read timeout; another third
    party's notification is delivered meanwhile."""
    settings = world.settings.model_copy(update={"notify_read_timeout": 2.0})
    with receiving() as slow, receiving() as fast:
        slow.behaviour = lambda h: time.sleep(5)
        listen_at(world, slow.url)
        world.code_tokens()
        with world.factory() as s:
            other = s.get(rm.ApplicationInformation, world.app_id)
            assert other is not None
        worker = Worker(settings, world.factory)
        worker.start()
        try:
            slow.wait_for(1)
            # The same third party now points at the fast receiver: a new change is
            # delivered while the first attempt still hangs.
            listen_at(world, fast.url)
            with world.factory() as s:
                app = s.get(rm.ApplicationInformation, world.app_id)
                set_status(s, app, rm.PRODUCTION if app.data_custodian_status != 2 else 1)
                s.commit()
            t0 = time.monotonic()
            fast.wait_for(1, timeout=5)
            assert time.monotonic() - t0 < 2
        finally:
            worker.stop()
    first = notifications(world.factory)[0]
    assert first.state == QUEUED and "timeout" in (first.last_error or "")


def test_a_receiver_back_gets_its_failed_notifications_at_once(world: World) -> None:
    """After an outage the first notification delivered to a third party brings its
    failed ones forward: they do not wait for their backoff (up to an hour)."""
    with receiving() as r:
        listen_at(world, r.url)
        r.stop()
        world.code_tokens()  # a grant: one notification
        worker = Worker(world.settings, world.factory)
        drain(worker)
        (failed,) = notifications(world.factory)
        assert failed.state == QUEUED and failed.next_attempt_at > time.time() + 10
        r.start()
        path = world.url(f"/ApplicationInformation/{world.app_id}")
        headers = bearer(world.registration_token)
        got = world.client.get(path, headers=headers)
        assert world.client.put(path, content=got.content, headers=headers).status_code == 200
        drain(worker)  # the new one is delivered, and so, at once, is the failed one
        r.wait_for(2)
    assert {n.state for n in notifications(world.factory)} == {DELIVERED}


def test_the_post_goes_to_the_checked_address_with_the_registered_host(world: World) -> None:
    with receiving() as r:
        listen_at(world, f"http://localhost:{r.port}/notify")
        world.code_tokens()
        drain(Worker(world.settings, world.factory))
        (got,) = r.wait_for(1)
    assert got.headers["host"] == f"localhost:{r.port}"


def test_a_notify_uri_that_resolves_to_a_private_address_is_refused_outside_development(
    world: World,
) -> None:
    settings = world.settings.model_copy(update={"notify_allow_private": False})
    with receiving() as r:
        listen_at(world, r.url)
        world.code_tokens()
        worker = Worker(settings, world.factory)
        drain(worker)
    assert r.received == []
    (job,) = notifications(world.factory)
    assert job.state == DEAD and "loopback" in (job.last_error or "")


def test_the_daily_data_ready_notice_is_sent_once_a_day(world: World) -> None:
    """PG&E's opt-in daily notice: from the configured local hour, one BatchList per
    third party with active authorizations, once, however many workers run."""
    from datetime import datetime, timedelta

    tokens = world.code_tokens()
    zone = world.settings.zone
    today = datetime.now(zone).replace(hour=6, minute=0, second=0, microsecond=0)
    settings = world.settings.model_copy(update={"notify_daily_hour": 6})
    with receiving() as r:
        listen_at(world, r.url)
        first, second = Worker(settings, world.factory), Worker(settings, world.factory)
        before = (today - timedelta(minutes=1)).timestamp()
        drain(first, before)  # the grant's own notification; no notice before 6:00
        assert len(r.wait_for(1)) == 1
        at = today.timestamp() + 60
        drain(first, at)
        drain(second, at)  # another worker the same day: nothing more
        drain(first, at + 3600)
        got = r.wait_for(2)
        time.sleep(0.3)
        assert len(r.received) == 2
        (uri,) = read_batch_list(got[1].body)
        assert "/Batch/Subscription/" in uri
        drain(second, at + 86400)  # the next day: a new notice
        r.wait_for(3)
    feed = world.client.get(path_of(world, uri), headers=bearer(tokens["access_token"]))
    assert feed.status_code == 200
    keys = [x.headers["idempotency-key"] for x in r.received]
    assert len(set(keys)) == 3


def test_a_202_batch_ends_with_a_notification_whose_url_serves_the_package(
    world: World, engine: Engine, tmp_path: Path
) -> None:
    """GBA 2024: a large Batch answers 202; the worker packages it and notifies the
    third party with the package's URL, which serves the feed (gzip) with the same
    token, and answers 410 once expired."""
    from tests.integration.api.test_batches import accepted, serving, subscription_path

    tokens = world.code_tokens()
    with serving(world, engine, tmp_path / "batches") as deferred, receiving() as r:
        listen_at(world, r.url)
        worker = Worker(deferred.settings, deferred.factory)
        drain(worker)  # the grant's notification
        r.wait_for(1)
        package = accepted(deferred, subscription_path(deferred, tokens), tokens["access_token"])
        drain(worker)  # packaged, then notified
        got = r.wait_for(2)
        (uri,) = read_batch_list(got[1].body)
        assert path_of(deferred, uri) == package
        served = deferred.client.get(
            package,
            headers={**bearer(tokens["access_token"]), "Accept-Encoding": "gzip"},
        )
        assert served.status_code == 200
        assert served.headers["content-encoding"] == "gzip"
        valid(served.content)  # decompressed by the client
        with deferred.factory() as s:
            s.execute(update(BatchPackage).values(expires_at=time.time() - 1))
            s.commit()
        gone = deferred.client.get(package, headers=bearer(tokens["access_token"]))
        assert gone.status_code in (404, 410)


def test_a_shorter_first_retry_is_honoured(world: World) -> None:
    """GBCONNECT_NOTIFY_FIRST_RETRY (a conformance run's PSH004): the first retry of
    a failed POST is due within that many seconds, not 15-30 s."""
    settings = world.settings.model_copy(update={"notify_first_retry": 2.0})
    with receiving() as r:
        r.behaviour = lambda h: answer(h, 500)
        listen_at(world, r.url)
        world.code_tokens()
        drain(Worker(settings, world.factory))
        (job,) = notifications(world.factory)
    (first,) = attempts(world.factory, job.id)
    assert job.state == QUEUED and 1.0 <= job.next_attempt_at - first.at <= 2.0
