"""Approving, holding and revoking third parties in the console, with a reason the
third party sees (gbconnect.oauth.clients.set_status): the list by status, the
detail page with its audit trail, the confirmation step of hold and revoke, and the
refused forms (values kept). SQLite and PostgreSQL."""

from __future__ import annotations

from sqlalchemy.orm import Session, sessionmaker

from gbconnect.registration import models as rm
from tests.factories.world import World
from tests.integration.console.helpers import csrf, last_events, review_app, staff_browser


def status_of(factory: sessionmaker[Session], app_id: int) -> tuple[int, str | None]:
    with factory() as session:
        app = session.get(rm.ApplicationInformation, app_id)
        assert app is not None
        return app.data_custodian_status, app.status_reason


def test_operator_approves_with_a_reason(world: World) -> None:
    app_id = review_app(world)
    client = staff_browser(world, "operator")
    listed = client.get("/console/applications?status=review")
    assert "Watt Watchers" in listed.text and "Solar Helper" not in listed.text
    r = client.post(
        f"/console/applications/{app_id}/status",
        data={"csrf": csrf(client), "decision": "approve", "reason": "Connectivity test passed"},
        follow_redirects=False,
    )
    assert r.status_code == 303 and r.headers["location"].endswith("?done=approve")
    assert status_of(world.factory, app_id) == (rm.PRODUCTION, "Connectivity test passed")
    event = last_events(world.factory)[0]
    assert (event.action, event.actor_kind, event.actor) == (
        "application.approved",
        "staff",
        "operator@utility.example",
    )
    assert event.details and event.details["reason"] == "Connectivity test passed"
    page = client.get(f"/console/applications/{app_id}")
    assert 'id="status">production' in page.text and "application.approved" in page.text
    assert "Connectivity test passed" in page.text


def test_hold_asks_for_confirmation_then_holds(world: World) -> None:
    client = staff_browser(world, "operator")
    path = f"/console/applications/{world.app_id}/status"
    form = {"csrf": csrf(client), "decision": "hold", "reason": "Certificate expired"}
    ask = client.post(path, data=form)
    assert ask.status_code == 200 and "Yes, hold" in ask.text
    assert status_of(world.factory, world.app_id)[0] == rm.PRODUCTION
    done = client.post(path, data={**form, "confirm": "yes"}, follow_redirects=False)
    assert done.status_code == 303
    assert status_of(world.factory, world.app_id) == (rm.ON_HOLD, "Certificate expired")
    assert last_events(world.factory)[0].action == "application.held"
    assert "Solar Helper" in client.get("/console/applications?status=on-hold").text


def test_revoke_with_confirmation(world: World) -> None:
    client = staff_browser(world, "administrator")
    path = f"/console/applications/{world.app_id}/status"
    form = {"csrf": csrf(client), "decision": "revoke", "reason": "Breach of terms"}
    assert "Yes, revoke" in client.post(path, data=form).text
    client.post(path, data={**form, "confirm": "yes"})
    assert status_of(world.factory, world.app_id) == (rm.REVOKED, "Breach of terms")


def test_refused_forms_keep_what_was_typed(world: World) -> None:
    client = staff_browser(world, "operator")
    path = f"/console/applications/{world.app_id}/status"
    token = csrf(client)
    no_reason = client.post(path, data={"csrf": token, "decision": "hold", "reason": "  "})
    assert no_reason.status_code == 400 and "Say why you hold" in no_reason.text
    odd = client.post(path, data={"csrf": token, "decision": "explode", "reason": "kept text"})
    assert odd.status_code == 400 and "Choose approve, hold or revoke" in odd.text
    assert "kept text" in odd.text
    long = client.post(path, data={"csrf": token, "decision": "approve", "reason": "x" * 600})
    assert long.status_code == 400 and "longer than 512" in long.text
    assert status_of(world.factory, world.app_id) == (rm.PRODUCTION, None)


def test_unknown_status_filter_is_400(world: World) -> None:
    client = staff_browser(world, "viewer")
    r = client.get("/console/applications?status=<script>")
    assert r.status_code == 400 and "<script>" not in r.text
