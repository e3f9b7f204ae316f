"""A third party's view of production: its authorizations by state and by customer
pseudonym (never a name), its notification delivery log with resend and replay, and
API usage against the limits; nothing of another application. SQLite and PostgreSQL."""

from __future__ import annotations

import re
from dataclasses import replace

from sqlalchemy import select

from gbconnect.audit.models import AuditEvent
from gbconnect.customer.models import RetailCustomer
from gbconnect.notify.models import DEAD, DELIVERED, QUEUED, Notification
from gbconnect.registration import models as rm
from gbconnect.thirdparty_portal import production
from tests.factories.app import app_client
from tests.factories.notifications import make_job
from tests.factories.world import World
from tests.integration.thirdparty_portal.helpers import company, csrf, register, shown
from tests.receiver import receiving


def the_app(world: World) -> rm.ApplicationInformation:
    with world.factory() as s:
        return s.scalars(
            select(rm.ApplicationInformation).where(
                rm.ApplicationInformation.company_id.is_not(None)
            )
        ).one()


def test_authorizations_by_pseudonym_only(portal: World) -> None:
    company(portal)
    with receiving() as receiver:
        _, text = register(portal, notify_uri=receiver.url)
        app = the_app(portal)
        page = f"/thirdparty/applications/{app.id}"
        r = portal.client.post(
            f"{page}/connectivity",
            data={"csrf": csrf(portal.client, page), "client_secret": shown(text, "client-secret")},
        )
        assert r.status_code == 200
    view = portal.client.get(f"{page}/production")
    assert view.status_code == 200 and view.headers["cache-control"] == "no-store"
    # The connectivity test's grant of the test customer, revoked once read.
    assert '<dd data-state="revoked">1</dd>' in view.text
    with portal.factory() as s:
        alice = s.scalars(select(RetailCustomer).where(RetailCustomer.username == "alice")).one()
        alias = production.pseudonym(portal.settings, alice.id, app.id)
        assert alias != production.pseudonym(portal.settings, alice.id, portal.app_id)
    assert f'<code class="pseudonym">{alias}</code>' in view.text
    assert "Alice" not in view.text and "alice" not in view.text
    assert str(alice.id) not in view.text
    # Limits off (development): nothing counted, and the page says so.
    assert 'id="usage-state">' in view.text and "not counted" in view.text


def test_api_usage_against_the_limits(portal: World, engine: object) -> None:
    """With the limits on, the page shows the application's calls in each window; the
    per-second limit counts the company's applications together (one vendor)."""
    settings = portal.settings.model_copy(
        update={"rate_limits": True, "rate_vendor_per_second": 1000}
    )
    with app_client(settings, engine) as client:  # type: ignore[arg-type]
        world = replace(portal, client=client, settings=settings)
        company(world)
        _, text = register(world)
        app = the_app(world)
        secret = shown(text, "client-secret")
        for _ in range(3):
            r = client.post(
                "/oauth/token",
                data={"grant_type": "client_credentials"},
                auth=(app.client_id, secret),
            )
            assert r.status_code == 200, r.text
        view = client.get(f"/thirdparty/applications/{app.id}/production").text
    assert "not counted" not in view
    rows = re.findall(r"<tr><td>([^<]+)</td><td>(\d+)</td><td>(\d+)</td></tr>", view)
    assert ("this hour", "3", "2000") in rows and ("today (UTC)", "3", "20000") in rows
    assert any(w.startswith("this second") for w, _u, _l in rows)


def test_delivery_log_with_resend_and_replay(portal: World) -> None:
    company(portal)
    register(portal)
    app = the_app(portal)
    with portal.factory() as s:
        delivered = make_job(s, app.id, state=DELIVERED).id
        dead = [make_job(s, app.id, state=DEAD, last_error="HTTP 500").id for _ in range(2)]
        queued = make_job(s, app.id, state=QUEUED).id
        others = make_job(s, portal.app_id, state=DEAD).id
        s.commit()
    base = f"/thirdparty/applications/{app.id}"
    view = portal.client.get(f"{base}/production")
    assert f'data-id="{delivered}"' in view.text and f'data-id="{others}"' not in view.text
    assert "Replay the 2 failed notifications" in view.text
    token = csrf(portal.client, f"{base}/production")

    r = portal.client.post(
        f"{base}/notifications/resend",
        data={"csrf": token, "notification": str(delivered)},
        follow_redirects=False,
    )
    assert r.status_code == 303 and r.headers["location"].endswith("done=resent")
    # Still queued: not resent (409 with a sentence); another application's: 404.
    r = portal.client.post(
        f"{base}/notifications/resend", data={"csrf": token, "notification": str(queued)}
    )
    assert r.status_code == 409 and "only a delivered, dead or cancelled" in r.text
    for bad in (str(others), "nope", "99999999999999999999"):
        r = portal.client.post(
            f"{base}/notifications/resend", data={"csrf": token, "notification": bad}
        )
        assert r.status_code == 404
    r = portal.client.post(
        f"{base}/notifications/replay", data={"csrf": token}, follow_redirects=False
    )
    assert r.status_code == 303
    r = portal.client.post(f"{base}/notifications/unknown", data={"csrf": token})
    assert r.status_code == 404
    r = portal.client.post(f"{base}/notifications/replay", data={"csrf": "forged"})
    assert r.status_code == 403
    with portal.factory() as s:
        states = {n.id: n.state for n in s.scalars(select(Notification))}
        assert all(states[i] == QUEUED for i in dead)
        assert states[others] == DEAD
        assert len([n for n in states if n not in (delivered, queued, others, *dead)]) == 1
        actions = [
            e.action
            for e in s.scalars(
                select(AuditEvent)
                .where(AuditEvent.action.like("notification.%"))
                .order_by(AuditEvent.seq)
            )
        ]
        assert actions == ["notification.resent", "notification.replayed"]
