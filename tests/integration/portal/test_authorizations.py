"""My authorizations (``/account/authorizations``): active, expired and revoked grants,
each with its company, services, data groups, history, end date as chosen and last
delivery (REQ.21 FB_3 Authorization, FB_39 notifications), on SQLite and PostgreSQL."""

from __future__ import annotations

import time
from datetime import date, datetime, timedelta

from sqlalchemy import select

from gbconnect.notify.models import DELIVERED, QUEUED, Notification
from gbconnect.oauth import models as om
from gbconnect.portal.consent import end_of_day, last_included_day
from gbconnect.registration import models as rm
from gbconnect.resource import now
from tests.factories.parties import make_third_party
from tests.factories.world import ZONE, World
from tests.integration.portal.helpers import auth_id, grant_ids, section, subscription_id

LIST = "/account/authorizations"


def _today() -> date:
    return datetime.now(ZONE).date()


def test_each_grant_is_told_in_the_customers_words(world: World) -> None:
    with world.factory() as s:
        app = s.get(rm.ApplicationInformation, world.app_id)
        assert app is not None
        app.client_uri = "https://solarhelper.example"
        s.commit()
    tokens = world.code_tokens(group=["electric", "billing"], history="6")
    html = world.client.get(LIST).text
    assert grant_ids(html, "active") == [auth_id(tokens)]
    active = section(html, "active")
    assert "Solar Helper" in active
    assert 'href="https://solarhelper.example"' in active
    assert "Electricity · Home electric" in active and "Natural gas · Home gas" in active
    assert "Electricity usage" in active and "Natural gas" not in active.split("Data</dt>")[1]
    assert "6 months" in active
    assert "you take it back" in active
    assert "never" in active  # nothing delivered yet
    assert f'href="{LIST}/{auth_id(tokens)}/end"' in active
    assert f'href="{LIST}/{auth_id(tokens)}/revoke"' in active


def test_the_end_date_is_shown_exactly_as_chosen(world: World) -> None:
    """An authorization until 30 June ends at the midnight that starts 1 July in the
    utility's zone, and is shown as ending 30 June (the last included day)."""
    chosen = date(_today().year + 1, 6, 30)
    tokens = world.code_tokens(end="date", end_date=chosen.isoformat())
    with world.factory() as s:
        auth = s.get(om.Authorization, auth_id(tokens))
        assert auth is not None and auth.authorized_end is not None
        assert auth.authorized_end == int(datetime(chosen.year, 7, 1, tzinfo=ZONE).timestamp())
        assert last_included_day(auth.authorized_end, ZONE) == chosen
    listed = section(world.client.get(LIST).text, "active")
    until = listed[listed.index('class="until"') :]
    assert f'datetime="{chosen.isoformat()}"' in until and f"June 30, {chosen.year}" in until
    assert "1 July" not in listed
    home = world.client.get("/account").text
    assert f"Until June 30, {chosen.year}" in home and "July 1" not in home


def test_end_of_day_round_trips_across_daylight_saving() -> None:
    """The stored end is the next local midnight, on 23- and 25-hour days too."""
    for day in (date(2026, 3, 7), date(2026, 3, 8), date(2026, 10, 31), date(2026, 12, 31)):
        end = end_of_day(day, ZONE)
        local = datetime.fromtimestamp(end, ZONE).replace(tzinfo=None)
        assert local == datetime.combine(day + timedelta(days=1), datetime.min.time())
        assert last_included_day(end, ZONE) == day


def test_active_expired_and_revoked_are_grouped(world: World) -> None:
    first = world.code_tokens()
    second = world.code_tokens()  # replaces the first: revoked, "replaced"
    with world.factory() as s:
        other = make_third_party(s, world.settings, name="Gone Co")
        customer = s.get(om.Authorization, auth_id(second))
        assert customer is not None
        ended = om.Authorization(
            application_id=other.application.id,
            retail_customer_id=customer.retail_customer_id,
            status=om.ACTIVE,
            grant_type="authorization_code",
            token_class=om.CUSTOMER,
            scope="FB=1_3_4_5_13_14;HistoryLength=13",
            authorized_start=now() - 10 * 86400,
            authorized_duration=5 * 86400,
        )
        s.add(ended)
        s.commit()
        ended_id = ended.id
    html = world.client.get(LIST).text
    assert grant_ids(html, "active") == [auth_id(second)]
    assert grant_ids(html, "expired") == [ended_id]
    assert grant_ids(html, "revoked") == [auth_id(first)]
    assert "replaced by a newer authorization" in section(html, "revoked")
    assert "Gone Co" in section(html, "expired")
    # Only active grants can be revoked or changed.
    assert "/revoke" not in section(html, "expired") + section(html, "revoked")
    assert "/end" not in section(html, "expired") + section(html, "revoked")


def _notification(app_id: int, uris: list[str], state: str, finished: float) -> Notification:
    return Notification(
        application_id=app_id,
        reason="NewData",
        uris=uris,
        idempotency_key=f"k{finished}{state}{len(uris)}{uris[0][-6:]}",
        state=state,
        attempts=1,
        created_at=finished - 5,
        next_attempt_at=finished - 5,
        finished_at=finished if state == DELIVERED else None,
    )


def test_last_delivery_is_the_latest_delivered_notification_naming_the_grant(
    world: World,
) -> None:
    tokens = world.code_tokens()
    sub = subscription_id(tokens)
    url = world.settings.resource_url
    t = time.time()
    mine = url(f"Batch/Subscription/{sub}")
    with world.factory() as s:
        s.add_all(
            [
                _notification(world.app_id, [mine], DELIVERED, t - 7200),
                # Later, but queued, or naming another subscription: not this grant's.
                _notification(world.app_id, [mine], QUEUED, t),
                _notification(world.app_id, [url(f"Batch/Subscription/{sub}9")], DELIVERED, t),
            ]
        )
        s.commit()
    shown = datetime.fromtimestamp(int(t - 7200), ZONE)
    active = section(world.client.get(LIST).text, "active")
    delivered = active[active.index('class="delivered"') :]
    assert f'datetime="{shown.isoformat()}"' in delivered and "never" not in delivered
    # The third party's Bulk URL counts while the grant is in force (from its start).
    with world.factory() as s:
        grant = s.get(om.Authorization, auth_id(tokens))
        assert grant is not None
        grant.authorized_start -= 86400
        s.add(_notification(world.app_id, [url("Batch/Bulk/1")], DELIVERED, t - 30))
        app = s.get(rm.ApplicationInformation, world.app_id)
        assert app is not None
        bulk = url(f"Batch/Bulk/{app.bulk_id}")
        s.add(_notification(world.app_id, [bulk], DELIVERED, t - 60))
        s.commit()
    later = datetime.fromtimestamp(int(t - 60), ZONE)
    active = section(world.client.get(LIST).text, "active")
    assert f'datetime="{later.isoformat()}"' in active
    # Before the grant began, the Bulk told of others' data, not this grant's.
    with world.factory() as s:
        grant = s.get(om.Authorization, auth_id(tokens))
        assert grant is not None
        grant.authorized_start += 86400
        s.commit()
    active = section(world.client.get(LIST).text, "active")
    assert f'datetime="{shown.isoformat()}"' in active


def test_no_delivery_is_never(world: World) -> None:
    world.code_tokens()
    with world.factory() as s:
        assert not s.scalars(select(Notification).where(Notification.state == DELIVERED)).all()
    active = section(world.client.get(LIST).text, "active")
    assert "never" in active[active.index('class="delivered"') :]
