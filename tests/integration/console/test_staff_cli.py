"""``gbconnect staff create/list/disable`` as separate processes on SQLite and
PostgreSQL: the account is kept with its role and an argon2id hash, each change is
audited, refusals are one line."""

from __future__ import annotations

import json

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from gbconnect.audit.models import AuditEvent
from gbconnect.console.models import StaffUser
from tests.clirun import run_cli


def test_create_list_disable(db_url: str, factory: sessionmaker[Session]) -> None:
    done = run_cli(
        db_url,
        "staff",
        "create",
        "Olive@Utility.example",
        "--name",
        "Olive Operator",
        "--role",
        "operator",
        "--password",
        "correct horse battery",
        "--json",
    )
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["email"] == "olive@utility.example"
    listed = run_cli(db_url, "staff", "list", "--json")
    assert [r["role"] for r in json.loads(listed.stdout)] == ["operator"]
    off = run_cli(db_url, "staff", "disable", "olive@utility.example")
    assert off.returncode == 0 and "disabled" in off.stdout
    with factory() as session:
        staff = session.scalars(select(StaffUser)).one()
        assert staff.password_hash.startswith("$argon2id$")
        assert staff.disabled_at is not None and staff.session_epoch == 1
        actions = [e.action for e in session.scalars(select(AuditEvent).order_by(AuditEvent.seq))]
    assert actions == ["staff.created", "staff.disabled"]


def test_refusals_are_one_line(db_url: str) -> None:
    args = ["staff", "create", "a@utility.example", "--name", "A", "--role", "viewer"]
    short = run_cli(db_url, *args, "--password", "short")
    assert short.returncode == 1 and "at least 10" in short.stderr
    assert "Traceback" not in short.stderr
    bad = run_cli(
        db_url,
        "staff",
        "create",
        "not-an-email",
        "--name",
        "A",
        "--role",
        "viewer",
        "--password",
        "long enough password",
    )
    assert bad.returncode == 1 and "email address is not valid" in bad.stderr
    role = run_cli(
        db_url,
        "staff",
        "create",
        "a@utility.example",
        "--name",
        "A",
        "--role",
        "boss",
        "--password",
        "long enough password",
    )
    assert role.returncode == 2 and "boss" in role.stderr
    ok = run_cli(db_url, *args, "--password", "long enough password")
    assert ok.returncode == 0, ok.stderr
    again = run_cli(db_url, *args, "--password", "long enough password")
    assert again.returncode == 1 and "already a staff account" in again.stderr
    missing = run_cli(db_url, "staff", "disable", "nobody@utility.example")
    assert missing.returncode == 1 and "no staff account" in missing.stderr
