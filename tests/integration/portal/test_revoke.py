"""Revoking from "My authorizations" through a confirmation step (REQ.21 FB_3
Authorization status 0; :mod:`gbconnect.oauth.revocation`), on SQLite and PostgreSQL:
effective at once, CSRF-checked, another customer's grant a 404."""

from __future__ import annotations

from gbconnect.notify.events import AuthorizationRevoked
from gbconnect.notify.outbox import recorded
from tests.factories.world import REDIRECT, World
from tests.integration.portal.helpers import (
    auth_id,
    bearer,
    csrf_of,
    grant_ids,
    section,
    subscription_id,
)

LIST = "/account/authorizations"


def test_revoking_asks_first_then_stops_the_third_party_at_once(world: World) -> None:
    tokens = world.code_tokens()
    grant = auth_id(tokens)
    access = tokens["access_token"]
    feed = world.url(f"/Subscription/{subscription_id(tokens)}/UsagePoint")
    assert world.client.get(feed, headers=bearer(access)).status_code == 200
    # The confirmation names what stops, and changes nothing yet.
    page = world.client.get(f"{LIST}/{grant}/revoke")
    assert page.status_code == 200
    assert "Stop sharing with Solar Helper?" in page.text
    assert "Electricity · Home electric" in page.text and "Electricity usage" in page.text
    assert f'action="{LIST}/{grant}/revoke"' in page.text
    assert world.client.get(feed, headers=bearer(access)).status_code == 200
    # A forged form is refused, as on the consent page.
    forged = world.client.post(f"{LIST}/{grant}/revoke", data={"csrf": "forged"})
    assert forged.status_code == 403
    assert world.client.get(feed, headers=bearer(access)).status_code == 200
    with recorded() as events:
        r = world.client.post(
            f"{LIST}/{grant}/revoke", data={"csrf": csrf_of(page.text)}, follow_redirects=False
        )
    assert r.status_code == 303 and r.headers["location"] == f"{LIST}?done=revoked"
    assert events == [AuthorizationRevoked(grant, world.app_id, "customer")]
    # The third party's next call fails; its refresh token too.
    assert world.client.get(feed, headers=bearer(access)).status_code in (
        401,
        403,
    )
    refreshed = world.client.post(
        "/oauth/token",
        data={"grant_type": "refresh_token", "refresh_token": tokens["refresh_token"]},
        headers=world.basic(),
    )
    assert refreshed.status_code in (400, 401)
    html = world.client.get(r.headers["location"]).text
    assert "can no longer get your data" in html
    assert grant_ids(html, "revoked") == [grant] and grant_ids(html, "active") == []
    assert "(by you)" in section(html, "revoked")
    # Revoking again changes nothing, and the confirmation of an ended grant is the list.
    with recorded() as again:
        r = world.client.post(
            f"{LIST}/{grant}/revoke", data={"csrf": csrf_of(page.text)}, follow_redirects=False
        )
    assert r.status_code == 303 and again == []
    r = world.client.get(f"{LIST}/{grant}/revoke", follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == LIST


def test_another_customers_grant_or_an_unknown_id_is_404(world: World) -> None:
    tokens = world.code_tokens()
    grant = auth_id(tokens)
    feed = world.url(f"/Subscription/{subscription_id(tokens)}/UsagePoint")
    world.client.cookies.clear()
    world.login("bob")
    csrf = csrf_of(world.client.get("/account").text)
    for path in (f"{LIST}/{grant}/revoke", f"{LIST}/{grant}/end", f"{LIST}/1/revoke"):
        assert world.client.get(path).status_code == 404, path
    for path in (f"{LIST}/{grant}/revoke", f"{LIST}/{grant}/end", f"{LIST}/1/end"):
        r = world.client.post(path, data={"csrf": csrf, "end": "revoke"})
        assert r.status_code == 404, path
        assert "There is no such authorization." in r.text
    for bad in (str(2**63), "-1", "abc"):
        assert world.client.get(f"{LIST}/{bad}/revoke").status_code == 404
        assert world.client.post(f"{LIST}/{bad}/end", data={"csrf": csrf}).status_code == 404
    assert grant not in grant_ids(world.client.get(LIST).text, "active")
    # Alice's grant is untouched.
    assert world.client.get(feed, headers=bearer(tokens["access_token"])).status_code == 200
    assert REDIRECT  # the grant was made through the real flow
