"""The console's other pages: search (customers, usage points, authorizations) with
``customer.viewed`` audited, the import history, notification health and resend,
paper authorizations (REQ.21 FB_40), the audit log (filters, paging, CSV/JSON export,
chain check) and staff management. SQLite and PostgreSQL."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest
from sqlalchemy import select

from gbconnect.console.models import StaffUser
from gbconnect.customer import models as cm
from gbconnect.ingest.errors import IngestError
from gbconnect.ingest.services import ingest_file
from gbconnect.notify.models import QUEUED, Notification
from gbconnect.oauth import models as om
from tests.factories.world import ZONE, World
from tests.integration.console.helpers import csrf, last_events, make_staff, staff_browser
from tests.integration.console.test_console_roles import alice_id, dead_notification


def test_search_and_customer_page_is_audited(world: World) -> None:
    client = staff_browser(world, "viewer")
    alice = alice_id(world.factory)
    by_name = client.get("/console/search?q=ALI")
    assert f'href="/console/customers/{alice}"' in by_name.text
    with world.factory() as session:
        account = session.scalars(
            select(cm.CustomerAccount.account_id).where(
                cm.CustomerAccount.retail_customer_id == alice,
                cm.CustomerAccount.account_id.is_not(None),
            )
        ).first()
    if account:
        assert f"/console/customers/{alice}" in client.get(f"/console/search?q={account}").text
    point = world.alice_points[0]
    assert f"/console/usage-points/{point}" in client.get(f"/console/search?q={point}").text
    assert "No customer." in client.get("/console/search?q=%25").text
    assert client.get("/console/search?q=" + "x" * 300).status_code == 400
    page = client.get(f"/console/customers/{alice}")
    assert page.status_code == 200 and "Alice" in page.text
    assert f"/console/usage-points/{point}" in page.text
    viewed = last_events(world.factory)[0]
    assert (viewed.action, viewed.target_kind, viewed.target_id, viewed.actor) == (
        "customer.viewed",
        "customer",
        str(alice),
        "viewer@utility.example",
    )


def test_paper_authorization(world: World) -> None:
    client = staff_browser(world, "operator")
    alice = alice_id(world.factory)
    missing = client.get("/console/paper?customer=nobody")
    assert missing.status_code == 404 and "no customer" in missing.text
    form_page = client.get("/console/paper?customer=alice")
    assert "Solar Helper" in form_page.text
    base = {
        "csrf": csrf(client),
        "customer_id": str(alice),
        "usage_point": str(world.alice_points[0]),
        "end": "2030-06-30",
    }
    no_app = client.post("/console/paper", data={**base, "group": "electric"})
    assert no_app.status_code == 400 and "Choose an approved application" in no_app.text
    assert 'value="2030-06-30"' in no_app.text
    no_data = client.post("/console/paper", data={**base, "application": str(world.app_id)})
    assert no_data.status_code == 400 and "kind of data" in no_data.text
    bad_date = client.post(
        "/console/paper",
        data={**base, "application": str(world.app_id), "group": "electric", "end": "June"},
    )
    assert bad_date.status_code == 400 and "YYYY-MM-DD" in bad_date.text
    foreign = client.post(
        "/console/paper",
        data={
            **base,
            "application": str(world.app_id),
            "group": "electric",
            "usage_point": str(world.bob_points[0]),
        },
    )
    assert foreign.status_code == 400 and "does not belong" in foreign.text
    done = client.post(
        "/console/paper",
        data={**base, "application": str(world.app_id), "group": "electric"},
        follow_redirects=False,
    )
    assert done.status_code == 303, done.text
    auth_id = int(done.headers["location"].split("/")[-1].split("?")[0])
    with world.factory() as session:
        auth = session.get(om.Authorization, auth_id)
        assert auth is not None and auth.offline and auth.retail_customer_id == alice
        assert auth.authorized_duration is not None
    event = last_events(world.factory)[0]
    assert (event.action, event.target_id, event.actor_kind) == (
        "authorization.paper",
        str(auth_id),
        "staff",
    )
    page = client.get(done.headers["location"])
    assert (
        "The paper authorization is recorded" in page.text
        and str(world.alice_points[0]) in page.text
    )
    assert client.get(f"/console/search?q={auth_id}").status_code == 200
    assert f"/console/authorizations/{auth_id}" in client.get("/console/search?q=alice").text


def test_import_history_page(world: World, tmp_path: Path) -> None:
    bad = tmp_path / "meter-feed.csv"
    bad.write_text("not,a,layout\n1,2,3\n")
    with pytest.raises(IngestError):
        ingest_file(world.factory, bad, "alice", ZONE)
    client = staff_browser(world, "viewer")
    page = client.get("/console/imports")
    assert "meter-feed.csv" in page.text and "failed" in page.text
    assert client.get("/console/imports?before=abc").status_code == 400


def test_notification_health_and_resend(world: World) -> None:
    dead = dead_notification(world.factory, world.app_id)
    client = staff_browser(world, "operator")
    page = client.get("/console/notifications")
    assert "Solar Helper" in page.text and f"Resend {dead}" in page.text and "HTTP 500" in page.text
    detail = client.get(f"/console/applications/{world.app_id}")
    assert "1 dead" in detail.text
    r = client.post(
        f"/console/notifications/{dead}/resend", data={"csrf": csrf(client)}, follow_redirects=False
    )
    assert r.status_code == 303
    with world.factory() as session:
        queued = session.scalars(select(Notification).where(Notification.state == QUEUED)).all()
        assert len(queued) == 1 and queued[0].reason == "resend"
        new_id = queued[0].id
    assert last_events(world.factory)[0].action == "notification.resent"
    again = client.post(f"/console/notifications/{new_id}/resend", data={"csrf": csrf(client)})
    assert again.status_code == 409 and "is queued" in again.text


def test_audit_log_search_export_and_check(world: World) -> None:
    client = staff_browser(world, "viewer")
    for _n in range(3):
        client.get(f"/console/customers/{alice_id(world.factory)}")
    page = client.get("/console/audit?action=customer.*&actor=viewer")
    assert page.status_code == 200 and page.text.count("customer.viewed") == 3
    assert "sign_in.ok" not in page.text
    assert client.get("/console/audit?since=yesterday").status_code == 400
    assert client.get("/console/audit?actor_kind=robot").status_code == 400
    assert client.get("/console/audit?before=x").status_code == 400
    exported = client.get("/console/audit/export.csv?action=customer.viewed")
    assert exported.status_code == 200
    assert "attachment" in exported.headers["content-disposition"]
    rows = list(csv.DictReader(io.StringIO(exported.text)))
    assert [r["action"] for r in rows] == ["customer.viewed"] * 3
    as_json = json.loads(client.get("/console/audit/export.json?actor_kind=staff").text)
    assert {e["actor_kind"] for e in as_json} == {"staff"} and len(as_json) == 4
    check = client.get("/console/audit/check")
    assert "The chain holds: 4 events" in check.text
    assert as_json[-1]["hash"] in check.text


def test_audit_log_pages(world: World) -> None:
    client = staff_browser(world, "viewer")
    alice = alice_id(world.factory)
    for _n in range(55):
        client.get(f"/console/customers/{alice}")
    first = client.get("/console/audit?action=customer.viewed")
    assert first.text.count("<tr data-seq") == 50 and 'id="older"' in first.text
    older = first.text.split('id="older" href="')[1].split('"')[0].replace("&amp;", "&")
    second = client.get(older)
    assert second.text.count("<tr data-seq") == 5 and 'id="older"' not in second.text


def test_administrator_manages_staff(world: World) -> None:
    client = staff_browser(world, "administrator")
    token = csrf(client)
    bad = client.post(
        "/console/staff",
        data={
            "csrf": token,
            "email": "new@utility.example",
            "name": "New",
            "role": "viewer",
            "password": "short",
        },
    )
    assert (
        bad.status_code == 400 and "at least 10" in bad.text and "new@utility.example" in bad.text
    )
    made = client.post(
        "/console/staff",
        data={
            "csrf": token,
            "email": "new@utility.example",
            "name": "New",
            "role": "viewer",
            "password": "long enough password",
        },
        follow_redirects=False,
    )
    assert made.status_code == 303
    assert last_events(world.factory)[0].action == "staff.created"
    with world.factory() as session:
        new = session.scalars(
            select(StaffUser).where(StaffUser.email == "new@utility.example")
        ).one()
        me = session.scalars(
            select(StaffUser).where(StaffUser.email == "administrator@utility.example")
        ).one()
    r = client.post(f"/console/staff/{new.id}/role", data={"csrf": token, "role": "operator"})
    assert r.status_code == 200 and last_events(world.factory)[0].details == {
        "email": "new@utility.example",
        "from": "viewer",
        "to": "operator",
    }
    odd = client.post(f"/console/staff/{new.id}/role", data={"csrf": token, "role": "king"})
    assert odd.status_code == 400 and "role must be one of" in odd.text
    client.post(f"/console/staff/{new.id}/disable", data={"csrf": token})
    assert last_events(world.factory)[0].action == "staff.disabled"
    client.post(f"/console/staff/{new.id}/enable", data={"csrf": token})
    assert last_events(world.factory)[0].action == "staff.enabled"
    own = client.post(f"/console/staff/{me.id}/disable", data={"csrf": token})
    assert own.status_code == 400 and "your own account" in own.text
    make_staff(world.factory, "viewer", "dup@utility.example")
    dup = client.post(
        "/console/staff",
        data={
            "csrf": token,
            "email": "DUP@utility.example",
            "name": "D",
            "role": "viewer",
            "password": "long enough password",
        },
    )
    assert dup.status_code == 400 and "already a staff account" in dup.text
