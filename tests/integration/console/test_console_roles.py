"""Roles on every console route: a viewer reads every page and gets a 403 page for
every action, with nothing changed and nothing audited; an operator acts but does not
manage staff; forged forms (CSRF) are refused; unknown ids are 404. SQLite and
PostgreSQL."""

from __future__ import annotations

import time

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from gbconnect.customer.models import RetailCustomer
from gbconnect.notify.models import DEAD, Notification
from gbconnect.oauth import models as om
from gbconnect.registration import models as rm
from tests.factories.world import World
from tests.integration.console.helpers import (
    audit_count,
    csrf,
    make_staff,
    review_app,
    staff_browser,
)


def alice_id(factory: sessionmaker[Session]) -> int:
    with factory() as session:
        return session.scalars(
            select(RetailCustomer.id).where(RetailCustomer.username == "alice")
        ).one()


def dead_notification(factory: sessionmaker[Session], app_id: int) -> int:
    with factory() as session:
        n = Notification(
            application_id=app_id,
            reason="new data",
            uris=["https://example/x"],
            idempotency_key=f"k{time.time_ns()}",
            state=DEAD,
            attempts=8,
            created_at=time.time() - 3600,
            next_attempt_at=time.time() - 3600,
            last_error="HTTP 500",
        )
        session.add(n)
        session.commit()
        return n.id


def reading_paths(world: World) -> list[str]:
    alice = alice_id(world.factory)
    return [
        "/console",
        "/console/applications",
        "/console/applications?status=on-hold",
        f"/console/applications/{world.app_id}",
        "/console/search?q=alice",
        f"/console/customers/{alice}",
        f"/console/usage-points/{world.alice_points[0]}",
        "/console/imports",
        "/console/notifications",
        "/console/audit",
        "/console/audit?action=sign_in.*",
        "/console/audit/check",
        "/console/audit/export.csv",
        "/console/audit/export.json",
        "/console/account",
    ]


def actions(world: World) -> list[tuple[str, dict[str, str]]]:
    """Every action of the console, with a form that would do it."""
    alice = alice_id(world.factory)
    app_id = review_app(world)
    notification = dead_notification(world.factory, world.app_id)
    other = make_staff(world.factory, "viewer", "someone@utility.example")
    return [
        (f"/console/applications/{app_id}/status", {"decision": "approve", "reason": "ok"}),
        (
            f"/console/applications/{world.app_id}/status",
            {"decision": "revoke", "reason": "bad", "confirm": "yes"},
        ),
        (f"/console/notifications/{notification}/resend", {}),
        (
            "/console/paper",
            {"customer_id": str(alice), "application": str(world.app_id), "group": "electric"},
        ),
        ("/console/staff", {"email": "x@utility.example", "name": "X", "role": "viewer"}),
        (f"/console/staff/{other}/disable", {}),
        (f"/console/staff/{other}/role", {"role": "administrator"}),
    ]


def test_viewer_reads_every_page(world: World) -> None:
    client = staff_browser(world, "viewer")
    for path in reading_paths(world):
        r = client.get(path)
        assert r.status_code == 200, (path, r.text)
    # What a viewer may not do is not offered.
    detail = client.get(f"/console/applications/{world.app_id}").text
    assert "Approve" not in detail and "/console/paper" not in client.get("/console").text


def test_viewer_acting_gets_403_and_nothing_happens(world: World) -> None:
    client = staff_browser(world, "viewer")
    token = csrf(client)
    for path, form in actions(world):
        before = audit_count(world.factory)
        r = client.post(path, data={"csrf": token, **form})
        assert r.status_code == 403, path
        assert "This needs the" in r.text and "Nothing was changed" in r.text
        assert audit_count(world.factory) == before, path
    with world.factory() as session:
        statuses = set(session.scalars(select(rm.ApplicationInformation.data_custodian_status)))
        assert statuses == {rm.PRODUCTION, rm.REVIEW}
        assert not session.scalars(select(om.Authorization).where(om.Authorization.offline)).all()
        assert len(session.scalars(select(Notification)).all()) == 1


def test_viewer_cannot_open_operator_or_admin_pages(world: World) -> None:
    client = staff_browser(world, "viewer")
    assert client.get("/console/paper").status_code == 403
    assert client.get("/console/staff").status_code == 403


def test_operator_may_not_manage_staff(world: World) -> None:
    client = staff_browser(world, "operator")
    assert client.get("/console/paper").status_code == 200
    assert client.get("/console/staff").status_code == 403
    r = client.post(
        "/console/staff",
        data={
            "csrf": csrf(client),
            "email": "x@utility.example",
            "name": "X",
            "role": "viewer",
            "password": "long enough password",
        },
    )
    assert r.status_code == 403


def test_forged_forms_are_refused(world: World) -> None:
    client = staff_browser(world, "administrator")
    for path, form in actions(world):
        before = audit_count(world.factory)
        r = client.post(path, data={"csrf": "forged", **form})
        assert r.status_code == 403 and "This form has expired" in r.text, path
        assert audit_count(world.factory) == before


@pytest.mark.parametrize(
    "path",
    [
        "/console/applications/999999",
        "/console/customers/999999",
        "/console/usage-points/999999",
        "/console/authorizations/999999",
    ],
)
def test_unknown_ids_are_404(world: World, path: str) -> None:
    client = staff_browser(world, "viewer")
    r = client.get(path)
    assert r.status_code == 404 and "There is no" in r.text


def test_unknown_ids_to_act_on_are_404(world: World) -> None:
    client = staff_browser(world, "administrator")
    token = csrf(client)
    for path in (
        "/console/applications/999999/status",
        "/console/notifications/999999/resend",
        "/console/staff/999999/disable",
        "/console/staff/999999/role",
    ):
        r = client.post(path, data={"csrf": token, "decision": "approve", "role": "viewer"})
        assert r.status_code == 404, path
    assert client.get("/console/applications/not-a-number").status_code == 404


def test_signed_out_posts_go_to_sign_in(world: World) -> None:
    r = world.client.post(f"/console/applications/{world.app_id}/status", follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/console/login"
