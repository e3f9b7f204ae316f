"""Dynamic registration (REQ.21 FB_36): RFC 7591 gated by an initial access token,
RFC 7592 management with the registration access token."""

from __future__ import annotations

from typing import Any

from gbconnect.oauth import models as om
from gbconnect.oauth import services
from tests.factories.world import World

METADATA: dict[str, Any] = {
    "client_name": "Grid Insights",
    "redirect_uris": ["https://grid.example/cb"],
    "grant_types": ["authorization_code", "refresh_token", "client_credentials"],
    "response_types": ["code"],
    "token_endpoint_auth_method": "client_secret_basic",
    "scope": "FB=1_3_4_5_13_14_39;IntervalDuration=900;HistoryLength=12",
    "thirdPartyNotifyUri": "https://grid.example/notify",
    "contacts": ["ops@grid.example"],
}


def invite(world: World) -> str:
    with world.factory() as s:
        value, _ = services.issue_token(
            s,
            kind="access",
            token_class=om.INITIAL,
            application_id=None,
            authorization_id=None,
            scope="FB=36",
            lifetime=600,
        )
        s.commit()
    return value


def bearer(token: object) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def test_register_read_update_delete(world: World) -> None:
    c = world.client
    token = invite(world)
    r = c.post("/oauth/register", json=METADATA, headers=bearer(token))
    assert r.status_code == 201, r.text
    reg = r.json()
    assert reg["client_secret"] and reg["registration_access_token"] and reg["client_id"]
    assert reg["scope"] == METADATA["scope"] and reg["dataCustodianApplicationStatus"] == 1
    assert reg["thirdPartyNotifyUri"] == "https://grid.example/notify"
    # The initial access token registers one client only.
    again = c.post("/oauth/register", json=METADATA, headers=bearer(token))
    assert again.status_code in (400, 401, 403) and "client_id" not in again.text
    uri = reg["registration_client_uri"].replace(world.settings.base_url, "")
    rat = bearer(reg["registration_access_token"])
    read = c.get(uri, headers=rat)
    assert read.status_code == 200 and read.json()["client_name"] == "Grid Insights"
    assert "client_secret" not in read.json()
    update = {
        **{k: v for k, v in METADATA.items()},
        "client_id": reg["client_id"],
        "client_name": "Grid Insights Pro",
        "redirect_uris": ["https://grid.example/cb2"],
    }
    r = c.put(uri, json=update, headers=rat)
    assert r.status_code == 200, r.text
    assert r.json()["client_name"] == "Grid Insights Pro"
    assert r.json()["redirect_uris"] == ["https://grid.example/cb2"]
    # The registered client can get client tokens once the utility approves it.
    from gbconnect.oauth.clients import set_status
    from gbconnect.registration.models import PRODUCTION
    from gbconnect.registration.services import find_application

    with world.factory() as s:
        app = find_application(s, reg["client_id"])
        assert app is not None
        set_status(s, app, PRODUCTION)
        s.commit()
    r = c.post(
        "/oauth/token",
        data={"grant_type": "client_credentials"},
        auth=(reg["client_id"], reg["client_secret"]),
    )
    assert r.status_code == 200
    assert c.delete(uri, headers=rat).status_code == 204
    r = c.post(
        "/oauth/token",
        data={"grant_type": "client_credentials"},
        auth=(reg["client_id"], reg["client_secret"]),
    )
    assert r.status_code == 401


def test_registration_refusals(world: World) -> None:
    c = world.client
    assert c.post("/oauth/register", json=METADATA).status_code in (401, 403)
    assert c.post(
        "/oauth/register", json=METADATA, headers=bearer(world.registration_token)
    ).status_code in (401, 403)
    token = invite(world)
    for body, error in (
        ({**METADATA, "redirect_uris": ["ftp://x.example/cb"]}, "invalid_redirect_uri"),
        ({**METADATA, "scope": "FB=1_4_5_999"}, "invalid_client_metadata"),
        ({**METADATA, "scope": "FB=x"}, "invalid_client_metadata"),
        ({**METADATA, "grant_types": ["password"]}, "invalid_client_metadata"),
        ({**METADATA, "client_name": ""}, "invalid_client_metadata"),
    ):
        r = c.post("/oauth/register", json=body, headers=bearer(token))
        assert r.status_code == 400 and r.json()["error"] == error, (body, r.text)
    r = c.post(
        "/oauth/register",
        content=b"[1, 2",
        headers={**bearer(token), "Content-Type": "application/json"},
    )
    assert r.status_code == 400
    # Still unused after refusals: a good request works.
    assert c.post("/oauth/register", json=METADATA, headers=bearer(token)).status_code == 201


def test_configuration_needs_the_clients_own_registration_token(world: World) -> None:
    c = world.client
    reg = c.post("/oauth/register", json=METADATA, headers=bearer(invite(world))).json()
    uri = reg["registration_client_uri"].replace(world.settings.base_url, "")
    assert c.get(uri).status_code == 401
    assert c.get(uri, headers=bearer(world.registration_token)).status_code == 403
    assert c.get(uri, headers=bearer(world.client_token())).status_code == 401
    other = f"/oauth/register/{world.client_id}"
    assert c.get(other, headers=bearer(reg["registration_access_token"])).status_code == 403
