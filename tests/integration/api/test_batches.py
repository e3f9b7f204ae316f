"""Asynchronous batches (GBA's 2024 rule: any resource GET may answer 202 Accepted;
PG&E's 202-then-notify bulk requests and its 204 for an empty window; REQ.21 FB_35,
FB_39), on SQLite and PostgreSQL: a large Batch request answers 202 with Location,
the package answers 202 until the worker built it, then the very feed the synchronous
request gives (schema-valid), gzip or not; BatchReady is recorded with it; a second
request gets the same package (or the GBA's 400); nobody else reads it; it expires
and is purged. No error path answers 500."""

from __future__ import annotations

import gzip
import os
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, select, update

from gbconnect.api.packages import (
    DUPLICATE_TEXT,
    FAILED,
    PENDING,
    READY,
    BatchPackage,
    claim,
    file_path,
)
from gbconnect.api.packaging import purge_expired_packages, run_pending_packages
from gbconnect.config import load_settings
from gbconnect.notify.events import BatchReady
from gbconnect.notify.models import NotifyEvent
from gbconnect.notify.outbox import recorded
from gbconnect.oauth import models as om
from gbconnect.registration.models import ApplicationInformation
from tests.factories.app import SECRET_KEY, app_client
from tests.factories.parties import SCOPE, make_third_party
from tests.factories.world import World
from tests.integration.oauth.test_espi_access import NS, bearer, valid

EMPTY = "published-min=2000-01-01T00:00:00Z&published-max=2000-02-01T00:00:00Z"


@contextmanager
def serving(world: World, engine: Engine, folder: Path, **overrides: Any) -> Iterator[World]:
    """The world served by a second application on the same database, whose settings
    make every Batch of more than 10 IntervalBlocks asynchronous (alice's 45 days hold
    90), with packages in ``folder``."""
    options: dict[str, Any] = {"batch_async_blocks": 10, "batch_dir": folder}
    options.update(overrides)
    settings = load_settings(
        database_url=world.settings.database_url, secret_key=SECRET_KEY, **options
    )
    with app_client(settings, engine) as client:
        yield replace(world, client=client, settings=settings)


@pytest.fixture
def deferred(world: World, engine: Engine, tmp_path: Path) -> Iterator[World]:
    with serving(world, engine, tmp_path / "batches") as w:
        yield w


def bulk_path(world: World) -> str:
    with world.factory() as s:
        app = s.get(ApplicationInformation, world.app_id)
        assert app is not None
        return world.url(f"/Batch/Bulk/{app.bulk_id}")


def relative(world: World, url: str) -> str:
    """An absolute resource URL as the in-process client asks for it."""
    return url[url.index(world.settings.resource_base) :]


def subscription_path(world: World, tokens: dict[str, object]) -> str:
    return relative(world, str(tokens["resourceURI"]))


def accepted(world: World, path: str, token: object) -> str:
    """GET ``path``: 202 naming a package; the package's path."""
    r = world.client.get(path, headers=bearer(token))
    assert r.status_code == 202, r.text
    assert r.headers["retry-after"].isdigit()
    location = r.headers["location"]
    assert location.startswith(world.settings.public_resource_base + "/Batch/Package/")
    assert r.json()["location"] == location and r.json()["status"] == PENDING
    return relative(world, location)


def package_id(path: str) -> int:
    return int(path.rsplit("/", 1)[1])


def test_a_large_bulk_is_packaged_and_served_as_the_synchronous_feed(
    world: World, deferred: World
) -> None:
    client = deferred.client_token()
    deferred.code_tokens()
    bulk = bulk_path(world)
    sync = world.client.get(bulk, headers=bearer(client))  # the default: synchronous
    assert sync.status_code == 200
    package = accepted(deferred, bulk, client)
    pending = deferred.client.get(package, headers=bearer(client))
    assert pending.status_code == 202 and pending.headers["retry-after"].isdigit()
    assert pending.headers["location"].endswith(package)

    with recorded() as events:
        assert run_pending_packages(deferred.factory, deferred.settings) == 1
    path = package.split(deferred.settings.resource_base + "/", 1)[1]
    assert events == [BatchReady(world.app_id, path)]
    with deferred.factory() as s:
        stored = s.scalars(select(NotifyEvent).where(NotifyEvent.kind == "BatchReady")).all()
        assert [e.payload for e in stored] == [{"application_id": world.app_id, "path": path}]
        row = s.get(BatchPackage, package_id(package))
        assert row is not None and row.state == READY and row.file is not None
        raw = file_path(deferred.settings, row.file).read_bytes()
    assert gzip.decompress(raw) == sync.content  # the exact same feed

    zipped = deferred.client.get(package, headers={**bearer(client), "Accept-Encoding": "gzip"})
    assert zipped.status_code == 200
    assert zipped.headers["content-encoding"] == "gzip"
    assert zipped.headers["content-type"].startswith("application/atom+xml")
    assert zipped.content == sync.content  # decoded by the client
    doc = valid(zipped.content)
    assert doc.find("a:entry", NS) is not None
    with deferred.client.stream(
        "GET", package, headers={**bearer(client), "Accept-Encoding": "gzip"}
    ) as streamed:
        assert b"".join(streamed.iter_raw()) == raw  # the stored bytes, untouched
    plain = deferred.client.get(package, headers={**bearer(client), "Accept-Encoding": "identity"})
    assert plain.status_code == 200 and "content-encoding" not in plain.headers
    assert plain.content == sync.content
    # Nothing left to build.
    assert run_pending_packages(deferred.factory, deferred.settings) == 0


def test_the_query_is_part_of_the_resource_and_of_the_feed(world: World, deferred: World) -> None:
    client = deferred.client_token()
    deferred.code_tokens()
    bulk = bulk_path(world)
    query = "?start-index=3&max-results=40"
    sync = world.client.get(bulk + query, headers=bearer(client))
    first = accepted(deferred, bulk + query, client)
    # The same parameters in another order are the same request.
    assert accepted(deferred, bulk + "?max-results=40&start-index=3", client) == first
    assert accepted(deferred, bulk, client) != first
    assert run_pending_packages(deferred.factory, deferred.settings) == 2
    r = deferred.client.get(first, headers=bearer(client))
    assert r.status_code == 200 and r.content == sync.content
    assert len(valid(r.content).findall("a:entry", NS)) == 40


def test_a_subscription_is_read_with_the_same_authorization_only(
    world: World, deferred: World
) -> None:
    tokens = deferred.code_tokens()
    token = tokens["access_token"]
    path = subscription_path(deferred, tokens)
    sync = world.client.get(path, headers=bearer(token))
    package = accepted(deferred, path, token)
    assert run_pending_packages(deferred.factory, deferred.settings) == 1
    r = deferred.client.get(package, headers=bearer(token))
    assert r.status_code == 200 and r.content == sync.content
    valid(r.content)
    # The third party's client token is not the customer's authorization.
    client = deferred.client_token()
    assert deferred.client.get(package, headers=bearer(client)).status_code == 404
    # A refreshed token of the same authorization reads it.
    refreshed = deferred.client.post(
        "/oauth/token",
        data={"grant_type": "refresh_token", "refresh_token": tokens["refresh_token"]},
        headers=deferred.basic(),
    )
    assert refreshed.status_code == 200, refreshed.text
    again = deferred.client.get(package, headers=bearer(refreshed.json()["access_token"]))
    assert again.status_code == 200 and again.content == sync.content
    # A token its refresh narrowed (no gas, FB_10) does not read what the wider asked for.
    narrowed = deferred.client.post(
        "/oauth/token",
        data={
            "grant_type": "refresh_token",
            "refresh_token": refreshed.json()["refresh_token"],
            "scope": SCOPE.replace("_10_", "_"),
        },
        headers=deferred.basic(),
    )
    assert narrowed.status_code == 200, narrowed.text
    assert narrowed.json()["scope"] != SCOPE
    narrow = bearer(narrowed.json()["access_token"])
    assert deferred.client.get(package, headers=narrow).status_code == 404


def test_one_usage_point_of_a_subscription_is_deferred_too(world: World, deferred: World) -> None:
    tokens = deferred.code_tokens()
    token = tokens["access_token"]
    path = subscription_path(deferred, tokens) + f"/UsagePoint/{world.alice_points[0]}"
    sync = world.client.get(path, headers=bearer(token))
    assert sync.status_code == 200
    package = accepted(deferred, path, token)
    assert run_pending_packages(deferred.factory, deferred.settings) == 1
    r = deferred.client.get(package, headers=bearer(token))
    assert r.status_code == 200 and r.content == sync.content


def test_a_second_request_while_pending_gets_the_same_package(deferred: World) -> None:
    client = deferred.client_token()
    deferred.code_tokens()
    bulk = bulk_path(deferred)
    first = accepted(deferred, bulk, client)
    assert accepted(deferred, bulk, deferred.client_token()) == first
    assert run_pending_packages(deferred.factory, deferred.settings) == 1
    # Once ready, a new request is a new package.
    assert accepted(deferred, bulk, client) != first


def test_reject_answers_the_gba_400_while_pending(
    world: World, engine: Engine, tmp_path: Path
) -> None:
    with serving(world, engine, tmp_path, batch_duplicate="reject") as w:
        client = w.client_token()
        w.code_tokens()
        bulk = bulk_path(w)
        first = accepted(w, bulk, client)
        r = w.client.get(bulk, headers=bearer(client))
        assert r.status_code == 400
        assert r.json() == {"error": "invalid_request", "error_description": DUPLICATE_TEXT}
        assert r.headers["location"].endswith(first)
        assert run_pending_packages(w.factory, w.settings) == 1
        assert accepted(w, bulk, client) != first


def test_nobody_else_reads_a_package(deferred: World) -> None:
    client = deferred.client_token()
    tokens = deferred.code_tokens()
    package = accepted(deferred, bulk_path(deferred), client)
    with deferred.factory() as s:
        other = make_third_party(s, deferred.settings, name="Other Helper")
        s.commit()
        assert other.client_secret is not None
        other_id, other_secret = other.application.client_id, other.client_secret
    r = deferred.client.post(
        "/oauth/token",
        data={"grant_type": "client_credentials"},
        headers=deferred.basic(other_id, other_secret),
    )
    other_token = r.json()["access_token"]
    for state in (PENDING, READY):
        if state == READY:
            assert run_pending_packages(deferred.factory, deferred.settings) == 1
        assert deferred.client.get(package, headers=bearer(other_token)).status_code == 404
        customer = deferred.client.get(package, headers=bearer(tokens["access_token"]))
        assert customer.status_code == 404
        admin = deferred.client.get(package, headers=bearer(deferred.admin_token))
        assert admin.status_code == 404
        for other_class in (deferred.registration_token, deferred.upload_token):
            assert deferred.client.get(package, headers=bearer(other_class)).status_code == 403
        assert deferred.client.get(package).status_code == 401
        assert deferred.client.get(package, headers=bearer("nope")).status_code == 401
        assert deferred.client.get(package, headers=bearer(client)).status_code in (200, 202)


@pytest.mark.parametrize("suffix", ["123456789", "0", "abc", str(2**63), "-1", "12/extra"])
def test_a_bad_package_id_is_not_found(deferred: World, suffix: str) -> None:
    client = deferred.client_token()
    r = deferred.client.get(deferred.url(f"/Batch/Package/{suffix}"), headers=bearer(client))
    assert r.status_code == 404
    assert r.json()["error"] == "not_found"


def test_an_expired_package_is_gone_then_purged(deferred: World) -> None:
    client = deferred.client_token()
    deferred.code_tokens()
    package = accepted(deferred, bulk_path(deferred), client)
    assert run_pending_packages(deferred.factory, deferred.settings) == 1
    pid = package_id(package)
    with deferred.factory() as s:
        row = s.get(BatchPackage, pid)
        assert row is not None and row.file is not None and row.ready_at is not None
        stored = file_path(deferred.settings, row.file)
        days = (row.expires_at - row.ready_at) / 86400
        assert round(days) == deferred.settings.batch_retention_days
        s.execute(update(BatchPackage).values(expires_at=time.time() - 1))
        s.commit()
    assert stored.exists()
    r = deferred.client.get(package, headers=bearer(client))
    assert r.status_code == 410 and r.json()["error"] == "gone"
    assert purge_expired_packages(deferred.factory, deferred.settings, time.time()) == 1
    assert not stored.exists()
    assert deferred.client.get(package, headers=bearer(client)).status_code == 404
    assert purge_expired_packages(deferred.factory, deferred.settings, time.time()) == 0


def test_the_purge_keeps_what_has_not_expired_and_sweeps_orphan_files(deferred: World) -> None:
    client = deferred.client_token()
    deferred.code_tokens()
    package = accepted(deferred, bulk_path(deferred), client)
    run_pending_packages(deferred.factory, deferred.settings)
    folder = Path(deferred.settings.batch_dir)
    orphan = folder / "42-deadbeef.xml.gz"
    orphan.write_bytes(b"")
    young = folder / "43-deadbeef.xml.gz"
    young.write_bytes(b"")
    old = time.time() - 7200
    os.utime(orphan, (old, old))
    assert purge_expired_packages(deferred.factory, deferred.settings) == 0
    assert not orphan.exists() and young.exists()
    assert deferred.client.get(package, headers=bearer(client)).status_code == 200
    # A pending package nobody built expires too.
    later = time.time() + 8 * 86400 + 60
    accepted(deferred, bulk_path(deferred), client)
    assert purge_expired_packages(deferred.factory, deferred.settings, later) == 2
    with deferred.factory() as s:
        assert s.scalars(select(BatchPackage)).all() == []


def test_a_package_whose_grant_ended_fails_and_is_gone(world: World, deferred: World) -> None:
    """A client token asked for an offline authorization's Batch/Subscription (OFA001's
    path); the customer revoked before the worker came: the package fails, and says so
    (410)."""
    tokens = deferred.code_tokens()
    client = deferred.client_token()
    path = subscription_path(deferred, tokens)
    with deferred.factory() as s:
        s.execute(
            update(om.Authorization)
            .where(om.Authorization.token_class == om.CUSTOMER)
            .values(offline=True)
        )
        s.commit()
    package = accepted(deferred, path, client)
    with deferred.factory() as s:
        s.execute(
            update(om.Authorization)
            .where(om.Authorization.token_class == om.CUSTOMER)
            .values(status=om.REVOKED)
        )
        s.commit()
    with recorded() as events:
        assert run_pending_packages(deferred.factory, deferred.settings) == 1
    assert events == []
    with deferred.factory() as s:
        row = s.get(BatchPackage, package_id(package))
        assert row is not None and row.state == FAILED and row.pending_key is None
    r = deferred.client.get(package, headers=bearer(client))
    assert r.status_code == 410 and "could not be made" in r.json()["error_description"]


def test_a_client_token_is_refused_on_a_customers_subscription(world: World) -> None:
    """GBA OAD010: Batch/Subscription of a customer's grant is read with the customer's
    token; the third party's client token gets 403 there (and 404 on another's)."""
    tokens = world.code_tokens()
    client = world.client_token()
    path = subscription_path(world, tokens)
    r = world.client.get(path, headers=bearer(client))
    assert r.status_code == 403 and r.json()["error"] == "insufficient_scope"
    assert world.client.get(path, headers=bearer(tokens["access_token"])).status_code == 200
    assert world.client.get(path + "0", headers=bearer(client)).status_code == 404


def test_a_file_lost_from_the_folder_is_gone_not_an_error(deferred: World) -> None:
    client = deferred.client_token()
    deferred.code_tokens()
    package = accepted(deferred, bulk_path(deferred), client)
    run_pending_packages(deferred.factory, deferred.settings)
    for f in Path(deferred.settings.batch_dir).iterdir():
        f.unlink()
    assert deferred.client.get(package, headers=bearer(client)).status_code == 410


def test_two_workers_build_a_package_once(deferred: World) -> None:
    client = deferred.client_token()
    deferred.code_tokens()
    accepted(deferred, bulk_path(deferred), client)
    done: list[int] = []
    with recorded() as events:
        workers = [
            threading.Thread(
                target=lambda: done.append(
                    run_pending_packages(deferred.factory, deferred.settings)
                )
            )
            for _ in range(2)
        ]
        for w in workers:
            w.start()
        for w in workers:
            w.join()
    assert sorted(done) == [0, 1]
    assert len(events) == 1
    assert len([f for f in Path(deferred.settings.batch_dir).iterdir()]) == 1


def test_a_claim_is_taken_once_until_its_lease_lapses(deferred: World) -> None:
    client = deferred.client_token()
    deferred.code_tokens()
    pid = package_id(accepted(deferred, bulk_path(deferred), client))
    at = time.time()
    with deferred.factory() as s:
        assert claim(s, pid, at, 300)
        s.commit()
    with deferred.factory() as s:
        assert not claim(s, pid, at + 10, 300)
        assert claim(s, pid, at + 301, 300)  # the first worker died: taken up again
        s.commit()
    # Held by that (live) worker: run_pending_packages leaves it alone.
    assert run_pending_packages(deferred.factory, deferred.settings) == 0
    with deferred.factory() as s:
        s.execute(update(BatchPackage).values(lease_until=None))
        s.commit()
    assert run_pending_packages(deferred.factory, deferred.settings) == 1


def test_small_requests_stay_synchronous(world: World, deferred: World) -> None:
    """bob's authorization has one empty usage point: under the threshold, streamed."""
    client = deferred.client_token()
    r = deferred.client.get(bulk_path(deferred), headers=bearer(client))
    assert r.status_code == 200  # no grant yet: no block at all
    valid(r.content)


def test_never_asynchronous_with_a_threshold_of_zero(
    world: World, engine: Engine, tmp_path: Path
) -> None:
    with serving(world, engine, tmp_path, batch_async_blocks=0) as w:
        client = w.client_token()
        w.code_tokens()
        assert w.client.get(bulk_path(w), headers=bearer(client)).status_code == 200


def test_204_when_the_window_holds_no_data(world: World, engine: Engine, tmp_path: Path) -> None:
    with serving(world, engine, tmp_path, batch_async_blocks=0, empty_window_204=True) as w:
        client = w.client_token()
        tokens = w.code_tokens()
        bulk = bulk_path(w)
        sub = subscription_path(w, tokens)
        token = tokens["access_token"]
        r = w.client.get(f"{bulk}?{EMPTY}", headers=bearer(client))
        assert r.status_code == 204 and r.content == b""
        r = w.client.get(f"{sub}?{EMPTY}", headers=bearer(token))
        assert r.status_code == 204
        # UsageSummary entries are shown whatever their updated time: an updated-min
        # after every block still leaves the bills in the feed (data, no 204).
        later = "updated-min=2100-01-01T00:00:00Z"
        r = w.client.get(f"{sub}?{later}", headers=bearer(token))
        assert r.status_code == 200
        assert valid(r.content).find(".//e:IntervalReading", NS) is None
        assert valid(r.content).find(".//e:UsageSummary", NS) is not None
        # A window holding data, or none named: the feed.
        whole = w.client.get(bulk, headers=bearer(client))
        assert whole.status_code == 200
        since = "published-min=2000-01-01T00:00:00Z"
        r = w.client.get(f"{bulk}?{since}", headers=bearer(client))
        assert r.status_code == 200 and r.content == whole.content
    # Off (the default): the feed of empty usage points, as before.
    r = world.client.get(f"{bulk}?{EMPTY}", headers=bearer(client))
    assert r.status_code == 200
    assert valid(r.content).find(".//e:IntervalReading", NS) is None


def test_an_empty_window_answers_204_before_any_package(
    world: World, engine: Engine, tmp_path: Path
) -> None:
    with serving(world, engine, tmp_path, empty_window_204=True) as w:
        client = w.client_token()
        w.code_tokens()
        bulk = bulk_path(w)
        assert w.client.get(f"{bulk}?{EMPTY}", headers=bearer(client)).status_code == 204
        accepted(w, bulk, client)
        with w.factory() as s:
            assert len(s.scalars(select(BatchPackage)).all()) == 1


def test_a_build_that_fails_is_retried_then_failed(
    world: World, engine: Engine, tmp_path: Path
) -> None:
    """The folder cannot be written (a file stands where it should be): each run logs
    the fault and frees the package for the next; the third fails it, never a 500."""
    blocked = tmp_path / "not-a-folder"
    blocked.write_bytes(b"")
    with serving(world, engine, blocked) as w:
        client = w.client_token()
        w.code_tokens()
        package = accepted(w, bulk_path(w), client)
        with recorded() as events:
            assert run_pending_packages(w.factory, w.settings) == 0
            assert w.client.get(package, headers=bearer(client)).status_code == 202
            assert run_pending_packages(w.factory, w.settings) == 0
            assert run_pending_packages(w.factory, w.settings) == 1
        assert events == []
        with w.factory() as s:
            row = s.get(BatchPackage, package_id(package))
            assert row is not None and row.state == FAILED and row.attempts == 3
            assert row.error is not None and row.error.startswith("internal error")
        assert w.client.get(package, headers=bearer(client)).status_code == 410


def test_the_data_custodian_reads_its_own_package_and_nobody_is_notified(
    world: World, deferred: World
) -> None:
    tokens = deferred.code_tokens()
    path = subscription_path(deferred, tokens)
    sync = world.client.get(path, headers=bearer(deferred.admin_token))
    assert sync.status_code == 200
    package = accepted(deferred, path, deferred.admin_token)
    with recorded() as events:
        assert run_pending_packages(deferred.factory, deferred.settings) == 1
    assert events == []
    r = deferred.client.get(package, headers=bearer(deferred.admin_token))
    assert r.status_code == 200 and r.content == sync.content
    client = deferred.client_token()
    assert deferred.client.get(package, headers=bearer(client)).status_code == 404


def test_a_pending_package_no_worker_made_in_time_is_given_up(deferred: World) -> None:
    client = deferred.client_token()
    deferred.code_tokens()
    bulk = bulk_path(deferred)
    first = accepted(deferred, bulk, client)
    with deferred.factory() as s:
        s.execute(update(BatchPackage).values(expires_at=time.time() - 1))
        s.commit()
    assert deferred.client.get(first, headers=bearer(client)).status_code == 410
    second = accepted(deferred, bulk, client)
    assert second != first
    with deferred.factory() as s:
        old = s.get(BatchPackage, package_id(first))
        assert old is not None and old.state == FAILED
    assert run_pending_packages(deferred.factory, deferred.settings) == 1
    assert deferred.client.get(second, headers=bearer(client)).status_code == 200
