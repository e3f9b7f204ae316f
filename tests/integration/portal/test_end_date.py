"""Changing when an active grant ends (REQ.21 FB_3 ``authorizedPeriod``), on SQLite
and PostgreSQL: validated with sentences a customer understands, stored the way the
consent page stores it, and the third party told (``AuthorizationChanged``, FB_39)."""

from __future__ import annotations

from datetime import date, datetime, timedelta

from sqlalchemy import select

from gbconnect.jobs.expand import expand_pending, targets
from gbconnect.notify.events import AuthorizationChanged
from gbconnect.notify.models import Notification, NotifyEvent
from gbconnect.notify.outbox import recorded
from gbconnect.oauth import models as om
from gbconnect.portal.consent import end_of_day
from gbconnect.resource import now
from tests.factories.world import ZONE, World
from tests.integration.portal.helpers import auth_id, csrf_of, grant_ids, section

LIST = "/account/authorizations"


def _today() -> date:
    return datetime.now(ZONE).date()


def _end(world: World, grant: int) -> int | None:
    with world.factory() as s:
        auth = s.get(om.Authorization, grant)
        assert auth is not None
        return auth.authorized_end


def _form(world: World, grant: int) -> tuple[str, str]:
    page = world.client.get(f"{LIST}/{grant}/end")
    assert page.status_code == 200
    return page.text, csrf_of(page.text)


def test_a_new_end_date_is_stored_as_consent_stores_it_and_announced(world: World) -> None:
    tokens = world.code_tokens()
    grant = auth_id(tokens)
    html, csrf = _form(world, grant)
    assert "When sharing with Solar Helper ends" in html
    assert '<label class="field" for="end_date">' in html and 'id="end_date"' in html
    assert 'value="revoke" checked' in html  # it runs until taken back today
    chosen = _today() + timedelta(days=40)
    with recorded() as events:
        r = world.client.post(
            f"{LIST}/{grant}/end",
            data={"csrf": csrf, "end": "date", "end_date": chosen.isoformat()},
            follow_redirects=False,
        )
    assert r.status_code == 303 and r.headers["location"] == f"{LIST}?done=changed"
    assert _end(world, grant) == end_of_day(chosen, ZONE)
    assert events == [AuthorizationChanged(grant, world.app_id)]
    # Written with the change, in its transaction: the outbox row.
    with world.factory() as s:
        rows = s.scalars(
            select(NotifyEvent).where(NotifyEvent.kind == "AuthorizationChanged")
        ).all()
        assert [r.payload for r in rows] == [
            {"authorization_id": grant, "application_id": world.app_id}
        ]
        # The worker tells the third party to read the Authorization again.
        expected = world.settings.resource_url(f"Authorization/{grant}")
        assert targets(s, world.settings, AuthorizationChanged(grant, world.app_id), now()) == {
            world.app_id: [expected]
        }
        expand_pending(s, world.settings, float(now()))
        s.commit()
        sent = s.scalars(
            select(Notification).where(Notification.reason == "AuthorizationChanged")
        ).all()
        assert [(n.application_id, n.uris) for n in sent] == [(world.app_id, [expected])]
    listed = world.client.get(r.headers["location"]).text
    assert "the company has been told" in listed
    active = section(listed, "active")
    assert f'datetime="{chosen.isoformat()}"' in active[active.index('class="until"') :]
    # The form now shows the chosen day; "until I take it back" undoes it.
    html, csrf = _form(world, grant)
    assert f'value="{chosen.isoformat()}"' in html and 'value="date" checked' in html
    r = world.client.post(
        f"{LIST}/{grant}/end", data={"csrf": csrf, "end": "revoke"}, follow_redirects=False
    )
    assert r.status_code == 303 and _end(world, grant) is None
    # The same choice again changes nothing and tells no one.
    with recorded() as again:
        r = world.client.post(
            f"{LIST}/{grant}/end", data={"csrf": csrf, "end": "revoke"}, follow_redirects=False
        )
    assert r.headers["location"] == f"{LIST}?done=unchanged" and again == []


def test_bad_dates_are_refused_with_a_sentence_and_what_was_typed_kept(world: World) -> None:
    tokens = world.code_tokens()
    grant = auth_id(tokens)
    _, csrf = _form(world, grant)
    yesterday = (_today() - timedelta(days=1)).isoformat()
    cases = [
        ({"end": "date", "end_date": yesterday}, "The end date must be after today.", yesterday),
        ({"end": "date", "end_date": _today().isoformat()}, "must be after today", None),
        ({"end": "date", "end_date": "next tuesday"}, "must be a date", "next tuesday"),
        ({"end": "date", "end_date": "9999-01-01"}, "too far away", "9999-01-01"),
        ({"end": "sometime"}, "Choose a last day, or until you take it back.", None),
    ]
    with recorded() as events:
        for fields, sentence, kept in cases:
            r = world.client.post(f"{LIST}/{grant}/end", data={"csrf": csrf, **fields})
            assert r.status_code == 400, fields
            assert sentence in r.text and 'role="alert"' in r.text
            assert 'aria-invalid="true"' in r.text
            if kept:
                assert f'value="{kept}"' in r.text
    assert events == [] and _end(world, grant) is None


def test_a_forged_form_changes_nothing(world: World) -> None:
    tokens = world.code_tokens()
    grant = auth_id(tokens)
    chosen = (_today() + timedelta(days=3)).isoformat()
    for csrf in ("forged", ""):
        r = world.client.post(
            f"{LIST}/{grant}/end", data={"csrf": csrf, "end": "date", "end_date": chosen}
        )
        assert r.status_code == 403 and "This form has expired" in r.text
    assert _end(world, grant) is None


def test_an_ended_grant_cannot_be_changed(world: World) -> None:
    first = world.code_tokens()
    world.code_tokens()  # replaces the first: revoked
    grant = auth_id(first)
    assert grant in grant_ids(world.client.get(LIST).text, "revoked")
    r = world.client.get(f"{LIST}/{grant}/end", follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == LIST
    csrf = csrf_of(world.client.get("/account").text)
    later = (_today() + timedelta(days=3)).isoformat()
    with recorded() as events:
        r = world.client.post(
            f"{LIST}/{grant}/end", data={"csrf": csrf, "end": "date", "end_date": later}
        )
    assert r.status_code == 409 and "already ended" in r.text and events == []
