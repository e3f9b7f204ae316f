"""``gbconnect notify``: the operator sees and acts on the notifications POSTed to third
parties (REQ.21 FB_39, GBA PSH004), as a separate process on SQLite and PostgreSQL;
every refusal is one line and a non-zero exit, never a traceback."""

from __future__ import annotations

import json
import subprocess
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from gbconnect.audit.models import AuditEvent
from gbconnect.notify.models import CANCELLED, DEAD, DELIVERED, QUEUED, Notification
from gbconnect.notify.signing import signature_headers, verify
from gbconnect.registration import models as rm
from gbconnect.registration import signing_keys
from tests.clirun import run_cli
from tests.factories.app import make_settings
from tests.factories.notifications import make_application, make_attempt, make_job

DAY = 86400.0


@dataclass
class Setup:
    db_url: str
    one: int
    one_client: str
    two: int
    two_client: str


@pytest.fixture
def setup(db_url: str, factory: sessionmaker[Session]) -> Setup:
    settings = make_settings(db_url)
    with factory() as s:
        one, one_client = make_application(s, settings, "Solar Helper")
        two, two_client = make_application(s, settings, "Energy Coach")
        s.commit()
    return Setup(db_url, one, one_client, two, two_client)


def _cli(setup: Setup, *args: str) -> subprocess.CompletedProcess[str]:
    return run_cli(setup.db_url, "notify", *args)


def _json(setup: Setup, *args: str) -> Any:
    done = _cli(setup, *args, "--json")
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def test_status_list_and_show(setup: Setup, factory: sessionmaker[Session]) -> None:
    now = time.time()
    with factory() as s:
        make_job(s, setup.one, created_at=now - 300)
        dead = make_job(s, setup.two, state=DEAD, created_at=now - 3 * DAY, attempts=2,
                        uris=["https://dc.example/r/Batch/Subscription/9"],
                        last_status=410, last_error="HTTP 410")  # fmt: skip
        make_attempt(s, dead, now - 1200, "retry", None, "timeout: ConnectTimeout", 5001)
        make_attempt(s, dead, now - 600, "dead", 410, "HTTP 410", 35)
        delivered = make_job(s, setup.one, state=DELIVERED, created_at=now - 100)
        s.commit()

    status = _json(setup, "status")
    assert status["counts"] == {QUEUED: 1, DELIVERED: 1, DEAD: 1, CANCELLED: 0}
    assert (status["due"], status["leased"]) == (1, 0)
    assert 290 < status["oldest_queued_age_seconds"] < 400
    assert status["attempts_last_hour"] == {"delivered": 0, "retry": 1, "dead": 1}
    by_client = {a["client_id"]: a for a in status["applications"]}
    assert by_client[setup.two_client] == {
        "application_information_id": setup.two,
        "client_id": setup.two_client,
        "queued": 0,
        "dead": 1,
        "last_error": "HTTP 410",
        "last_error_at": pytest.approx(now - 600),
    }
    assert (by_client[setup.one_client]["queued"], by_client[setup.one_client]["dead"]) == (1, 0)
    text = _cli(setup, "status").stdout
    assert "queued 1, delivered 1, dead 1, cancelled 0" in text
    assert f"{setup.two_client}  queued 0  dead 1  last error" in text

    listed = _json(setup, "list")
    assert [j["id"] for j in listed] == [delivered.id, dead.id, dead.id - 1]
    assert [j["id"] for j in _json(setup, "list", "--limit", "1")] == [delivered.id]
    assert _json(setup, "list", "--state", "dead", "--client", setup.two_client) == [
        {
            "id": dead.id,
            "application_information_id": setup.two,
            "client_id": setup.two_client,
            "reason": "NewData",
            "state": DEAD,
            "attempts": 2,
            "uris": ["https://dc.example/r/Batch/Subscription/9"],
            "idempotency_key": dead.idempotency_key,
            "created_at": pytest.approx(now - 3 * DAY),
            "next_attempt_at": pytest.approx(now - 3 * DAY),
            "lease_until": None,
            "lease_owner": None,
            "finished_at": pytest.approx(now - 3 * DAY + 1),
            "last_status": 410,
            "last_error": "HTTP 410",
        }
    ]
    assert _json(setup, "list", "--state", "dead", "--client", str(setup.one)) == []
    assert _cli(setup, "list", "--state", "cancelled").stdout.strip() == "no notifications"

    shown = _json(setup, "show", str(dead.id))
    assert shown["log"] == [
        {"at": pytest.approx(now - 1200), "outcome": "retry", "status": None,
         "latency_ms": 5001, "error": "timeout: ConnectTimeout"},
        {"at": pytest.approx(now - 600), "outcome": "dead", "status": 410,
         "latency_ms": 35, "error": "HTTP 410"},
    ]  # fmt: skip
    text = _cli(setup, "show", str(dead.id)).stdout
    assert f"notification {dead.id}: dead, 2 attempt(s) since it was queued, 2 logged" in text
    assert "uri: https://dc.example/r/Batch/Subscription/9" in text
    assert "dead       410  35 ms  HTTP 410" in text
    assert "no attempt logged" in _cli(setup, "show", str(delivered.id)).stdout


def test_resend_and_replay(setup: Setup, factory: sessionmaker[Session]) -> None:
    with factory() as s:
        dead_one = [make_job(s, setup.one, state=DEAD) for _ in range(2)]
        dead_two = make_job(s, setup.two, state=DEAD)
        delivered = make_job(s, setup.two, state=DELIVERED)
        s.commit()

    resent = _json(setup, "resend", str(delivered.id))
    assert resent["resent"] == delivered.id
    assert (
        _cli(setup, "resend", str(dead_two.id))
        .stdout.strip()
        .startswith(f"notification {dead_two.id} resent as notification ")
    )
    assert _json(setup, "replay", str(dead_one[0].id)) == {"replayed": 1}
    assert _json(setup, "replay", "--client", setup.one_client) == {"replayed": 1}
    assert _cli(setup, "replay", "--all-dead").stdout.strip() == (
        "1 dead notification(s) queued again"
    )
    assert _json(setup, "replay", "--all-dead") == {"replayed": 0}

    with factory() as s:
        jobs = {j.id: j for j in s.scalars(select(Notification))}
    new = jobs[resent["notification_id"]]
    assert (new.state, new.reason, new.uris, new.application_id) == (
        QUEUED,
        "resend",
        delivered.uris,
        setup.two,
    )
    assert new.idempotency_key != delivered.idempotency_key
    for job in (*dead_one, dead_two):
        assert jobs[job.id].state == QUEUED
        assert jobs[job.id].idempotency_key == job.idempotency_key
    assert jobs[delivered.id].state == DELIVERED
    assert len(jobs) == 6


def test_purge_applies_the_retention(setup: Setup, factory: sessionmaker[Session]) -> None:
    now = time.time()
    with factory() as s:
        make_job(s, setup.one, state=DELIVERED, created_at=now - 40 * DAY)
        make_job(s, setup.one, state=CANCELLED, created_at=now - 20 * DAY)
        dead = make_job(s, setup.one, state=DEAD, created_at=now - 90 * DAY)
        make_attempt(s, dead, now - 90 * DAY, "dead", 404, "HTTP 404")
        s.commit()
    done = _json(setup, "purge")
    assert (done["deleted_notifications"], done["days"]) == (1, 30)
    assert done["older_than"] == pytest.approx(now - 30 * DAY, abs=60)
    assert "deleted 1 finished notification(s)" in _cli(setup, "purge", "--older-than", "10").stdout
    with factory() as s:
        assert list(s.scalars(select(Notification.id))) == [dead.id]  # dead ones are kept


def test_secret_prints_and_rotates_the_signing_key(
    setup: Setup, factory: sessionmaker[Session]
) -> None:
    first = _json(setup, "secret", setup.one_client)
    assert first["client_id"] == setup.one_client
    assert len(first["secret"]) == 43 and first["previous_valid_until"] is None
    assert _json(setup, "secret", str(setup.one))["secret"] == first["secret"]  # kept
    assert f"secret: {first['secret']}" in _cli(setup, "secret", setup.one_client).stdout

    before = time.time()
    rotated = _json(setup, "secret", setup.one_client, "--rotate", "--grace-hours", "2")
    assert rotated["secret"] != first["secret"] and rotated["rotated"] is True
    assert before + 7200 - 5 < rotated["previous_valid_until"] < time.time() + 7200 + 5
    with factory() as s:
        app = s.get(rm.ApplicationInformation, setup.one)
        assert app is not None
        keys = signing_keys.signing_keys(app, time.time())
    assert keys == [rotated["secret"].encode(), first["secret"].encode()]
    body = b"<BatchList/>"
    headers = signature_headers(keys, body, int(time.time()))
    for secret in (first["secret"], rotated["secret"]):  # the receiver's check, either key
        assert verify(secret.encode(), headers, body, int(time.time()))

    now_only = _json(setup, "secret", setup.one_client, "--rotate", "--grace-hours", "0")
    assert now_only["previous_valid_until"] is None
    assert _json(setup, "secret", setup.two_client)["secret"] not in (
        first["secret"],
        rotated["secret"],
        now_only["secret"],
    )
    # Each rotation is in the audit log, by the operator.
    with factory() as s:
        events = [
            e
            for e in s.scalars(select(AuditEvent).order_by(AuditEvent.seq))
            if e.action == "credential.rotated"
        ]
    assert len(events) == 2 and all(e.actor_kind == "operator" for e in events)
    assert events[0].target_id == str(setup.one)


def _refused(db_url: str, cases: list[tuple[tuple[str, ...], int, str]]) -> None:
    """Each ``(args, exit status, message)``: ``gbconnect notify ARGS --json`` ends
    with that status and message on stderr, nothing on stdout, no traceback."""
    with ThreadPoolExecutor(4) as pool:  # separate processes: run them side by side
        runs = list(pool.map(lambda case: run_cli(db_url, "notify", *case[0], "--json"), cases))
    for (args, code, message), done in zip(cases, runs, strict=True):
        assert done.returncode == code, (args, done.stdout, done.stderr)
        assert message in done.stderr, (args, done.stderr)
        assert "Traceback" not in done.stderr and done.stdout == "", (args, done.stderr)


def test_a_wrong_command_line_is_refused_before_the_database(tmp_path: Path) -> None:
    """Usage errors (exit 2) need no database: the URL names none."""
    _refused(
        f"sqlite:///{tmp_path / 'absent' / 'none.db'}",
        [
            (("show", "9" * 20), 2, "is not in the range"),
            (("show", "abc"), 2, "'abc' is not a valid integer"),
            (("replay",), 2, "say which: notification IDs, --client CLIENT_ID or --all-dead"),
            (("replay", "7", "--all-dead"), 2, "give no ID nor --client"),
            (("list", "--state", "lost"), 2, "'lost' is not one of"),
            (("purge", "--older-than", "0"), 2, "0 is not in the range x>=1"),
            (("secret", "x", "--grace-hours", "-1"), 2, "is not in the range"),
        ],
    )


def test_every_refusal_is_one_line_and_a_non_zero_exit(
    setup: Setup, factory: sessionmaker[Session]
) -> None:
    with factory() as s:
        queued = make_job(s, setup.one).id
        delivered = make_job(s, setup.one, state=DELIVERED).id
        theirs = make_job(s, setup.two, state=DEAD).id
        cancelled = make_job(s, setup.one, state=CANCELLED).id
        s.commit()
    huge = "9" * 20
    cases = [
        (("show", "424242"), 1, "no notification with id 424242"),
        (("resend", "424242"), 1, "no notification with id 424242"),
        (("resend", str(queued)), 1, f"notification {queued} is queued; only a delivered, dead"),
        (("replay", str(delivered)), 1, f"notification {delivered} is delivered; only a dead"),
        (("replay", str(theirs), "--client", setup.one_client), 1, "another third party"),
        (("replay", "424242"), 1, "no notification with id 424242"),
        (("list", "--client", "nobody"), 1, "no third party with client id or id 'nobody'"),
        (("replay", "--client", "nobody"), 1, "no third party with client id or id 'nobody'"),
        (("secret", "nobody"), 1, "no third party with client id or id 'nobody'"),
        (("secret", huge), 1, f"no third party with client id or id '{huge}'"),
    ]
    _refused(setup.db_url, cases)
    with factory() as s:  # nothing was changed by a refusal
        states = {i: st for i, st in s.execute(select(Notification.id, Notification.state))}
    assert states == {queued: QUEUED, delivered: DELIVERED, theirs: DEAD, cancelled: CANCELLED}
