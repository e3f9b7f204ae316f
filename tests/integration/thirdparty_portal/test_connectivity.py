"""PG&E's connectivity test on the third-party portal, live: a client token,
ReadServiceStatus, DownloadSampleData, a signed test notification to a real local
receiver (tests/receiver.py) and an authorization-code round trip with a test
customer; a failing step is reported; a pass moves the application to "awaiting
approval", and a changed redirect or notify URI clears it. SQLite and PostgreSQL."""

from __future__ import annotations

import re
import time

from sqlalchemy import select

from gbconnect.audit.models import AuditEvent
from gbconnect.customer.models import RetailCustomer
from gbconnect.espi.batchlist import read_batch_list
from gbconnect.notify import signing
from gbconnect.registration import models as rm
from tests.factories.world import World
from tests.integration.thirdparty_portal.helpers import (
    app_form,
    company,
    csrf,
    register,
    shown,
)
from tests.receiver import answer, receiving


def the_app(world: World) -> rm.ApplicationInformation:
    with world.factory() as s:
        return s.scalars(
            select(rm.ApplicationInformation).where(
                rm.ApplicationInformation.company_id.is_not(None)
            )
        ).one()


def run_test(world: World, app_id: int, secret: str) -> tuple[int, str]:
    page = f"/thirdparty/applications/{app_id}"
    r = world.client.post(
        f"{page}/connectivity",
        data={"csrf": csrf(world.client, page), "client_secret": secret},
    )
    return r.status_code, r.text


def steps(text: str) -> dict[str, str]:
    return dict(re.findall(r'data-step="(\w+)" data-passed="(yes|no)"', text))


def test_the_test_passes_and_awaits_approval(portal: World) -> None:
    company(portal)
    with receiving() as receiver:
        _, text = register(portal, notify_uri=receiver.url)
        secret = shown(text, "client-secret")
        key = shown(text, "notify-secret")
        app = the_app(portal)
        status, page = run_test(portal, app.id, secret)
        assert status == 200, page
        assert steps(page) == dict.fromkeys(("token", "status", "sample", "notify", "code"), "yes")
        assert "awaiting approval" in page
        (got,) = receiver.wait_for(1)
    # The test notification is a signed BatchList naming the application's bulk URL.
    assert read_batch_list(got.body) == [portal.settings.resource_url(f"Batch/Bulk/{app.bulk_id}")]
    assert signing.verify(key.encode(), got.headers, got.body, int(time.time()))
    # The secret is not shown back, nor kept; the details mask it.
    assert secret not in page and secret[:4] + "…" in page
    after = the_app(portal)
    assert after.third_party_status == 2 and after.connectivity_passed_at is not None
    assert after.connectivity_report is not None and after.connectivity_report["passed"] is True
    assert secret not in str(after.connectivity_report)
    assert "awaiting approval" in portal.client.get("/thirdparty/applications").text
    with portal.factory() as s:
        (event,) = s.scalars(
            select(AuditEvent).where(AuditEvent.action == "connectivity.passed")
        ).all()
        assert event.actor_kind == "third party"

    # A changed redirect URI clears the pass: development again, the test is due.
    base = f"/thirdparty/applications/{app.id}"
    data = app_form(notify_uri=receiver.url, redirect_uris="https://tp.example.com/new")
    data["csrf"] = csrf(portal.client, f"{base}/edit")
    r = portal.client.post(f"{base}/edit", data=data)
    assert r.status_code == 200 and "pass the connectivity test again" in r.text
    cleared = the_app(portal)
    assert cleared.third_party_status == 1 and cleared.connectivity_passed_at is None


def test_a_notify_uri_change_clears_the_pass_too(portal: World) -> None:
    company(portal)
    with receiving() as receiver:
        _, text = register(portal, notify_uri=receiver.url)
        app = the_app(portal)
        assert run_test(portal, app.id, shown(text, "client-secret"))[0] == 200
        base = f"/thirdparty/applications/{app.id}"
        # Saving without a change keeps the pass.
        data = app_form(notify_uri=receiver.url)
        data["csrf"] = csrf(portal.client, f"{base}/edit")
        portal.client.post(f"{base}/edit", data=data)
        assert the_app(portal).third_party_status == 2
        data["notify_uri"] = receiver.url + "/v2"
        portal.client.post(f"{base}/edit", data=data)
    assert the_app(portal).third_party_status == 1


def test_a_failing_notify_uri_fails_its_step(portal: World) -> None:
    company(portal)
    with receiving() as receiver:
        receiver.behaviour = lambda h: answer(h, 500)
        _, text = register(portal, notify_uri=receiver.url)
        app = the_app(portal)
        status, page = run_test(portal, app.id, shown(text, "client-secret"))
    assert status == 422
    assert steps(page) == {
        "token": "yes",
        "status": "yes",
        "sample": "yes",
        "notify": "no",
        "code": "yes",
    }
    assert "The notification was not accepted: HTTP 500." in page
    after = the_app(portal)
    assert after.third_party_status == 1 and after.connectivity_passed_at is None
    assert after.connectivity_report is not None and after.connectivity_report["passed"] is False


def test_a_wrong_secret_fails_the_token_and_skips_what_needs_it(portal: World) -> None:
    company(portal)
    register(portal)
    app = the_app(portal)
    status, page = run_test(portal, app.id, "not-the-secret")
    assert status == 422
    found = steps(page)
    assert found["token"] == "no" and found["status"] == "no" and found["sample"] == "no"
    assert found["notify"] == "no"  # no notify URI registered
    assert "The client secret is not right" in page
    assert "Skipped: no client token" in page
    assert "The application has no notify URI" in page
    with portal.factory() as s:
        assert s.scalars(select(AuditEvent).where(AuditEvent.action == "connectivity.failed")).all()


def test_without_a_test_customer_the_round_trip_fails(portal: World) -> None:
    with portal.factory() as s:
        for c in s.scalars(select(RetailCustomer)):
            c.is_test = False
        s.commit()
    company(portal)
    with receiving() as receiver:
        _, text = register(portal, notify_uri=receiver.url)
        app = the_app(portal)
        status, page = run_test(portal, app.id, shown(text, "client-secret"))
    assert status == 422 and steps(page)["code"] == "no"
    assert "The utility has no test customer" in page


def test_the_secret_is_asked_for(portal: World) -> None:
    company(portal)
    register(portal)
    app = the_app(portal)
    status, page = run_test(portal, app.id, "  ")
    assert status == 400 and "Enter the application&#39;s client secret" in page
    page_text = portal.client.get(f"/thirdparty/applications/{app.id}").text
    assert "Not passed yet" in page_text and "90 days" in page_text


def test_a_change_through_rfc_7592_clears_the_pass_too(portal: World) -> None:
    from gbconnect.registration.services import update_application

    company(portal)
    with receiving() as receiver:
        _, text = register(portal, notify_uri=receiver.url)
        app = the_app(portal)
        assert run_test(portal, app.id, shown(text, "client-secret"))[0] == 200
    with portal.factory() as s:
        row = s.get(rm.ApplicationInformation, app.id)
        assert row is not None and row.third_party_status == 2
        update_application(s, portal.settings, row, {"client_name": ["Renamed"]})
        assert row.third_party_status == 2  # not a URI: the pass holds
        update_application(
            s, portal.settings, row, {"redirect_uri": ["https://tp.example.com/moved"]}
        )
        s.commit()
    after = the_app(portal)
    assert after.third_party_status == 1 and after.connectivity_passed_at is None
    page = portal.client.get(f"/thirdparty/applications/{app.id}").text
    assert "Not passed yet" in page
