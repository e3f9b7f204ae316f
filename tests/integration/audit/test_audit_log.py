"""The audit log (gbconnect.audit) on SQLite and PostgreSQL: appended in the caller's
transaction, chained by SHA-256, append-only in the database, and checked: a row
changed or removed behind the application's back is reported."""

from __future__ import annotations

import itertools
import json
import threading

import pytest
from sqlalchemy import Engine, func, select, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session, sessionmaker

from gbconnect.audit import Actor, record
from gbconnect.audit.chain import GENESIS
from gbconnect.audit.models import AuditEvent, AuditHead
from gbconnect.audit.query import Filter, check, search
from tests.clirun import run_cli


def _append(factory: sessionmaker[Session], n: int, prefix: str = "test") -> None:
    with factory() as s:
        for i in range(n):
            record(
                s,
                f"{prefix}.event",
                Actor("staff", f"ops{i}@utility.example", "10.0.0.1"),
                ("application", 1000 + i),
                {"reason": f"number {i}", "nested": {"a": [1, 2.5, "é"]}},
            )
        s.commit()


def test_events_are_chained_and_searchable(factory: sessionmaker[Session]) -> None:
    _append(factory, 5)
    with factory() as s:
        rows = list(s.scalars(select(AuditEvent).order_by(AuditEvent.seq)))
        assert [r.seq for r in rows] == [1, 2, 3, 4, 5]
        assert rows[0].prev_hash == GENESIS
        assert all(b.prev_hash == a.hash for a, b in itertools.pairwise(rows))
        verdict = check(s)
        assert verdict.ok and verdict.events == 5 and verdict.last_hash == rows[-1].hash
        head = s.get(AuditHead, 1)
        assert head is not None and (head.seq, head.hash) == (5, rows[-1].hash)
        found = search(s, Filter(action="test.*", actor="ops3"))
        assert [e.seq for e in found] == [4]
        assert found[0].details == {"reason": "number 3", "nested": {"a": [1, 2.5, "é"]}}
        assert search(s, Filter(target_kind="application", target_id="1001"))[0].seq == 2
        assert [e.seq for e in search(s, Filter(), limit=2, before=4)] == [3, 2]


def test_a_rolled_back_transaction_leaves_no_event(factory: sessionmaker[Session]) -> None:
    _append(factory, 1)
    with factory() as s:
        record(s, "test.rolled_back")
        s.rollback()
    _append(factory, 1)
    with factory() as s:
        assert [e.seq for e in s.scalars(select(AuditEvent))] == [1, 2]
        assert check(s).ok


def test_the_database_refuses_update_and_delete(factory: sessionmaker[Session]) -> None:
    _append(factory, 2)
    for statement in (
        "UPDATE audit_event SET actor = 'someone else' WHERE seq = 1",
        "DELETE FROM audit_event WHERE seq = 2",
    ):
        with factory() as s, pytest.raises(DBAPIError, match="append-only"):
            s.execute(text(statement))
    with factory() as s:
        assert check(s).ok and s.scalar(select(func.count()).select_from(AuditEvent)) == 2


def _behind_the_back(engine: Engine, statement: str) -> None:
    """Change the table as someone with the database owner's rights would: with the
    triggers out of the way."""
    with engine.begin() as conn:
        if engine.dialect.name == "postgresql":
            conn.execute(text("ALTER TABLE audit_event DISABLE TRIGGER USER"))
            conn.execute(text(statement))
            conn.execute(text("ALTER TABLE audit_event ENABLE TRIGGER USER"))
        else:
            conn.execute(text("DROP TRIGGER audit_event_no_update"))
            conn.execute(text("DROP TRIGGER audit_event_no_delete"))
            conn.execute(text(statement))


def test_a_changed_row_is_found(engine: Engine, factory: sessionmaker[Session]) -> None:
    _append(factory, 4)
    _behind_the_back(engine, "UPDATE audit_event SET address = '192.0.2.9' WHERE seq = 3")
    with factory() as s:
        verdict = check(s)
    assert not verdict.ok and verdict.bad_seq == 3 and "changed" in (verdict.problem or "")
    assert verdict.events == 2


def test_a_removed_row_is_found(
    engine: Engine, factory: sessionmaker[Session], db_url: str
) -> None:
    _append(factory, 4)
    _behind_the_back(engine, "DELETE FROM audit_event WHERE seq = 2")
    with factory() as s:
        verdict = check(s)
    assert not verdict.ok and verdict.bad_seq == 2 and "missing" in (verdict.problem or "")
    done = run_cli(db_url, "audit", "verify")
    assert done.returncode == 1 and "broken" in done.stdout and "event 2 is missing" in done.stdout


def test_concurrent_appends_make_one_chain(factory: sessionmaker[Session]) -> None:
    errors: list[BaseException] = []

    def work(n: int) -> None:
        try:
            _append(factory, 5, prefix=f"thread{n}")
        except BaseException as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(n,)) for n in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    with factory() as s:
        verdict = check(s)
        assert verdict.ok and verdict.events == 30


def test_the_command_line_lists_checks_and_exports(
    factory: sessionmaker[Session], db_url: str
) -> None:
    _append(factory, 3)
    done = run_cli(db_url, "audit", "list", "--action", "test.*", "--json")
    assert done.returncode == 0, done.stderr
    assert [e["seq"] for e in json.loads(done.stdout)] == [3, 2, 1]
    done = run_cli(db_url, "audit", "verify", "--json")
    assert done.returncode == 0 and json.loads(done.stdout)["events"] == 3
    done = run_cli(db_url, "audit", "export", "--format", "json", "--actor", "ops1")
    assert done.returncode == 0, done.stderr
    exported = json.loads(done.stdout)
    assert [e["seq"] for e in exported] == [2] and exported[0]["hash"]
    done = run_cli(db_url, "audit", "export", "--format", "csv", "--since", "2000-01-01")
    lines = done.stdout.strip().splitlines()
    assert lines[0].startswith("seq,at,actor_kind") and len(lines) == 4
    done = run_cli(db_url, "audit", "list", "--since", "yesterday")
    assert done.returncode != 0 and "is not a date" in done.stderr
    assert "Traceback" not in done.stderr
