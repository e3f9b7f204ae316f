"""What the audit log holds after a customer's and an operator's actions, on SQLite
and PostgreSQL: every sign-in (success and failure, known account or not), the
consent, the customer's revocation, a denied consent and an approval with its reason,
each with who and from where; the chain still holds."""

from __future__ import annotations

from sqlalchemy import select

from gbconnect.audit.models import AuditEvent
from gbconnect.audit.query import check
from gbconnect.registration import models as rm
from tests.clirun import run_cli
from tests.factories.world import World, _csrf
from tests.integration.portal.helpers import auth_id


def _events(world: World) -> list[AuditEvent]:
    with world.factory() as s:
        return list(s.scalars(select(AuditEvent).order_by(AuditEvent.seq)))


def _failed_login(world: World, username: str) -> None:
    page = world.client.get("/login")
    r = world.client.post(
        "/login",
        data={"username": username, "password": "wrong", "csrf": _csrf(page.text)},
        follow_redirects=False,
    )
    assert r.status_code == 401


def test_a_customers_journey_is_in_the_log(world: World, db_url: str) -> None:
    _failed_login(world, "alice")
    _failed_login(world, "nobody-here")
    tokens = world.code_tokens()  # signs in, consents
    grant = auth_id(tokens)
    page = world.client.get(f"/account/authorizations/{grant}/revoke")
    r = world.client.post(
        f"/account/authorizations/{grant}/revoke",
        data={"csrf": _csrf(page.text)},
        follow_redirects=False,
    )
    assert r.status_code == 303
    world.consent(decision="deny")
    events = _events(world)
    actions = [e.action for e in events]
    assert actions == [
        "sign_in.failed",
        "sign_in.failed",
        "sign_in.ok",
        "consent.granted",
        "authorization.revoked",
        "consent.denied",
    ], actions
    known, unknown, ok, granted, revoked, denied = events
    assert denied.target_kind == "application" and denied.target_id == str(world.app_id)
    assert known.target_kind == "customer" and known.details == {"outcome": "wrong password"}
    assert "unknown username 'nobody-here'" in (unknown.actor or "")
    assert all(e.actor_kind == "customer" and e.address for e in events)
    assert granted.target_id == revoked.target_id == str(grant)
    assert granted.details and granted.details["client_id"] == world.client_id
    assert revoked.details and revoked.details["by"] == "customer"
    assert ok.actor == granted.actor == revoked.actor
    # An operator's approval, with its reason, from the command line.
    with world.factory() as s:
        app = s.get(rm.ApplicationInformation, world.app_id)
        assert app is not None
        app.data_custodian_status = rm.ON_HOLD
        s.commit()
    done = run_cli(
        db_url, "thirdparty", "approve", world.client_id, "--reason", "Checked its security review."
    )
    assert done.returncode == 0, done.stderr
    approved = _events(world)[-1]
    assert approved.action == "application.approved" and approved.actor_kind == "operator"
    assert approved.details and approved.details["reason"] == "Checked its security review."
    with world.factory() as s:
        app = s.get(rm.ApplicationInformation, world.app_id)
        assert app is not None and app.status_reason == "Checked its security review."
        assert check(s).ok
