"""Every way a grant or a token ends goes through gbconnect.oauth.revocation: the
grant and its tokens end, and exactly one event of the right kind is published
(REQ.21 FB_3 Authorization status; RFC 7009; GBA MGA001/MGA002, OAD010/OAD013), on
SQLite and PostgreSQL."""

from __future__ import annotations

import re

from click.testing import CliRunner
from sqlalchemy import func, select

from gbconnect.cli import main
from gbconnect.notify.events import (
    AuthorizationExpired,
    AuthorizationGranted,
    AuthorizationRevoked,
    Event,
    ThirdPartyStatusChanged,
)
from gbconnect.notify.outbox import recorded
from gbconnect.oauth import clients
from gbconnect.oauth import models as om
from gbconnect.oauth.revocation import EXPIRED, expire_authorizations
from gbconnect.registration import models as rm
from gbconnect.resource import now
from tests.factories.world import World

REVOKE_BODY = b'<Authorization xmlns="http://naesb.org/espi"><status>0</status></Authorization>'


def bearer(token: object) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def _auth_id(tokens: dict[str, object]) -> int:
    return int(str(tokens["authorizationURI"]).rsplit("/", 1)[1])


def _path(world: World, auth_id: int) -> str:
    return world.url(f"/Authorization/{auth_id}")


def _state(world: World, auth_id: int) -> tuple[int, str | None, int]:
    """The grant's status, who ended it, and how many of its tokens are live."""
    with world.factory() as s:
        auth = s.get(om.Authorization, auth_id)
        assert auth is not None
        live = s.scalar(
            select(func.count())
            .select_from(om.Token)
            .where(om.Token.authorization_id == auth_id, om.Token.revoked_at.is_(None))
        )
        return auth.status, auth.revoked_by, int(live or 0)


def _ended(world: World, tokens: dict[str, object], by: str, events: list[Event]) -> None:
    auth_id = _auth_id(tokens)
    assert _state(world, auth_id) == (om.REVOKED, by, 0)
    r = world.client.get(world.url("/ReadServiceStatus"), headers=bearer(tokens["access_token"]))
    assert r.status_code == 401
    assert events == [AuthorizationRevoked(auth_id, world.app_id, by)]


def test_a_grant_publishes_one_granted_event(world: World) -> None:
    with recorded() as events:
        tokens = world.code_tokens()
    auth_id = _auth_id(tokens)
    assert [type(e) for e in events] == [AuthorizationGranted]
    granted = events[0]
    assert isinstance(granted, AuthorizationGranted)
    assert (granted.authorization_id, granted.application_id) == (auth_id, world.app_id)
    assert granted.subscription_id is not None


def test_the_customer_revokes_on_the_account_page(world: World) -> None:
    tokens = world.code_tokens()
    assert _state(world, _auth_id(tokens))[2] == 2  # access and refresh
    page = world.client.get("/account")
    csrf = re.search(r'name="csrf" value="([^"]+)"', page.text).group(1)  # type: ignore[union-attr]
    with recorded() as events:
        r = world.client.post(
            f"/account/authorizations/{_auth_id(tokens)}/revoke",
            data={"csrf": csrf},
            follow_redirects=False,
        )
        assert r.status_code == 303
        # Revoking again changes nothing and publishes nothing.
        world.client.post(f"/account/authorizations/{_auth_id(tokens)}/revoke", data={"csrf": csrf})
    _ended(world, tokens, "customer", events)


def test_mga001_the_third_party_revokes_by_put(world: World) -> None:
    tokens = world.code_tokens()
    client = world.client_token()
    with recorded() as events:
        r = world.client.put(
            _path(world, _auth_id(tokens)), content=REVOKE_BODY, headers=bearer(client)
        )
        assert r.status_code == 200
    _ended(world, tokens, "third party", events)


def test_mga002_the_third_party_revokes_by_delete(world: World) -> None:
    tokens = world.code_tokens()
    client = world.client_token()
    with recorded() as events:
        r = world.client.delete(_path(world, _auth_id(tokens)), headers=bearer(client))
        assert r.status_code == 204
        assert world.client.delete(_path(world, _auth_id(tokens)), headers=bearer(client))
    _ended(world, tokens, "third party", events)


def test_the_operator_revokes_with_the_cli(world: World) -> None:
    tokens = world.code_tokens()
    args = ["--database-url", world.settings.database_url, "authorization", "revoke"]
    with recorded() as events:
        done = CliRunner().invoke(main, [*args, str(_auth_id(tokens)), "--json"])
        assert done.exit_code == 0, done.output
    _ended(world, tokens, "data custodian", events)


def test_a_new_grant_replaces_the_old_one(world: World) -> None:
    first = world.code_tokens()
    with recorded() as events:
        second = world.code_tokens()
    assert _state(world, _auth_id(first)) == (om.REVOKED, "replaced", 0)
    assert events[0] == AuthorizationRevoked(_auth_id(first), world.app_id, "replaced")
    assert isinstance(events[1], AuthorizationGranted)
    assert events[1].authorization_id == _auth_id(second) and len(events) == 2


def test_a_grant_expires_once(world: World) -> None:
    tokens = world.code_tokens()
    auth_id = _auth_id(tokens)
    with world.factory() as s:
        auth = s.get(om.Authorization, auth_id)
        assert auth is not None
        auth.authorized_start = now() - 100
        auth.authorized_duration = 50
        s.commit()
    with recorded() as events:
        with world.factory() as s:
            assert expire_authorizations(s, now()) == 1
            s.commit()
        with world.factory() as s:
            assert expire_authorizations(s, now()) == 0
            s.commit()
    # espi.xsd has no "expired" status: it stays 1, its period over, its tokens ended.
    assert _state(world, auth_id) == (om.ACTIVE, EXPIRED, 0)
    assert events == [AuthorizationExpired(auth_id, world.app_id)]


def test_a_third_party_on_hold_then_revoked(world: World) -> None:
    tokens = world.code_tokens()
    auth_id = _auth_id(tokens)
    client = world.client_token()
    with recorded() as events, world.factory() as s:
        app = s.get(rm.ApplicationInformation, world.app_id)
        assert app is not None
        clients.set_status(s, app, rm.ON_HOLD)
        s.commit()
    # On hold: the customer's and the client's tokens end; the grant stays.
    assert _state(world, auth_id) == (om.ACTIVE, None, 0)
    assert world.client.get(world.url("/ReadServiceStatus"), headers=bearer(client)).status_code
    assert events == [ThirdPartyStatusChanged(world.app_id, rm.PRODUCTION, rm.ON_HOLD)]
    with recorded() as events:
        r = world.client.delete(
            world.url(f"/ApplicationInformation/{world.app_id}"),
            headers=bearer(world.registration_token),
        )
        assert r.status_code == 204
    assert _state(world, auth_id) == (om.REVOKED, "data custodian", 0)
    # Each grant it held (the customer's and its client_credentials one) is revoked once.
    *revoked, changed = events
    assert changed == ThirdPartyStatusChanged(world.app_id, rm.ON_HOLD, rm.REVOKED)
    assert AuthorizationRevoked(auth_id, world.app_id, "data custodian") in revoked
    assert len(revoked) == 2 and len({e.authorization_id for e in revoked}) == 2  # type: ignore[union-attr]
    assert all(isinstance(e, AuthorizationRevoked) and e.by == "data custodian" for e in revoked)
    with world.factory() as s:
        live = s.scalar(
            select(func.count())
            .select_from(om.Token)
            .where(om.Token.application_id == world.app_id, om.Token.revoked_at.is_(None))
        )
        assert live == 0  # the registration access token too


def test_rfc7009_revoking_a_refresh_token_ends_the_tokens_not_the_grant(world: World) -> None:
    tokens = world.code_tokens()
    with recorded() as events:
        r = world.client.post(
            "/oauth/revoke", data={"token": tokens["refresh_token"]}, headers=world.basic()
        )
        assert r.status_code == 200
    assert _state(world, _auth_id(tokens)) == (om.ACTIVE, None, 0)
    assert events == []


def test_oad010_refresh_rotation_ends_the_old_refresh_token_only(world: World) -> None:
    tokens = world.code_tokens()
    with recorded() as events:
        r = world.client.post(
            "/oauth/token",
            data={"grant_type": "refresh_token", "refresh_token": tokens["refresh_token"]},
            headers=world.basic(),
        )
        assert r.status_code == 200
    # The old access token lives until it expires (OAD013); the old refresh token is dead.
    assert _state(world, _auth_id(tokens)) == (om.ACTIVE, None, 3)
    again = world.client.post(
        "/oauth/token",
        data={"grant_type": "refresh_token", "refresh_token": tokens["refresh_token"]},
        headers=world.basic(),
    )
    assert again.status_code == 400 and again.json()["error"] == "invalid_grant"
    assert events == []
