"""The token endpoint's client_credentials scope, refresh-token families and RFC 7009
revocation answers, over HTTP against the application, on SQLite and PostgreSQL."""

from __future__ import annotations

from sqlalchemy import select, update

from gbconnect.oauth import models as om
from gbconnect.oauth.clients import register
from gbconnect.resource import now
from tests.factories.world import REDIRECT, SCOPE, World


def _client_credentials(world: World, **form: str) -> tuple[int, dict[str, object]]:
    r = world.client.post(
        "/oauth/token", data={"grant_type": "client_credentials", **form}, headers=world.basic()
    )
    return r.status_code, r.json()


def test_client_credentials_accepts_the_scope_it_issues(world: World) -> None:
    for asked in ("FB=34_35", "FB=35_34", "FB=35", "fb=34_35;", None):
        status, body = _client_credentials(world, **({"scope": asked} if asked else {}))
        assert status == 200, (asked, body)
        assert body["scope"] == "FB=34_35"


def test_client_credentials_refuses_a_customer_scope(world: World) -> None:
    for asked in ("FB=1_3_4_5", "FB=34_35_36", "HistoryLength=13", "FB=x"):
        status, body = _client_credentials(world, scope=asked)
        assert status == 400 and body["error"] == "invalid_scope", asked


def _refresh(world: World, token: object) -> tuple[int, dict[str, object]]:
    r = world.client.post(
        "/oauth/token",
        data={"grant_type": "refresh_token", "refresh_token": str(token)},
        headers=world.basic(),
    )
    return r.status_code, r.json()


def _introspect(world: World, token: object) -> bool:
    r = world.client.post("/oauth/introspect", data={"token": str(token)}, headers=world.basic())
    return bool(r.json()["active"])


def test_reused_refresh_token_revokes_its_family(world: World) -> None:
    first = world.code_tokens()
    status, second = _refresh(world, first["refresh_token"])
    assert status == 200
    status, third = _refresh(world, second["refresh_token"])
    assert status == 200
    assert _introspect(world, third["access_token"]) and _introspect(world, third["refresh_token"])
    # The first refresh token, rotated long ago, comes back: the whole family ends.
    status, body = _refresh(world, first["refresh_token"])
    assert status == 400 and body["error"] == "invalid_grant"
    for tokens in (first, second, third):
        assert not _introspect(world, tokens["access_token"])
        assert not _introspect(world, tokens["refresh_token"])
    status, _ = _refresh(world, third["refresh_token"])
    assert status == 400
    # The customer's grant stays: the third party must send the customer again.
    with world.factory() as s:
        auth = s.scalars(select(om.Authorization).where(om.Authorization.token_class == "A")).one()
        assert auth.status == om.ACTIVE


def test_reused_refresh_token_leaves_other_grants_alone(world: World) -> None:
    other = world.client_token()
    first = world.code_tokens()
    _refresh(world, first["refresh_token"])
    _refresh(world, first["refresh_token"])
    assert _introspect(world, other)


def _other_client(world: World) -> dict[str, str]:
    with world.factory() as s:
        done = register(
            s,
            world.settings,
            name="Other Co",
            redirect_uris=[REDIRECT],
            scopes=[SCOPE],
            approve=True,
        )
        s.commit()
        assert done.client_secret is not None
        return world.basic(done.application.client_id, done.client_secret)


def test_revoke_answers_alike_for_unknown_expired_revoked_and_foreign_tokens(
    world: World,
) -> None:
    tokens = world.code_tokens()
    other = _other_client(world)
    c = world.client
    answers = []
    # Unknown.
    answers.append(c.post("/oauth/revoke", data={"token": "no-such-token"}, headers=other))
    # Another client's live tokens: nothing revoked.
    for name in ("access_token", "refresh_token"):
        answers.append(c.post("/oauth/revoke", data={"token": tokens[name]}, headers=other))
    assert _introspect(world, tokens["access_token"])
    assert _introspect(world, tokens["refresh_token"])
    # Expired.
    expired = world.client_token()
    with world.factory() as s:
        s.execute(update(om.Token).where(om.Token.token_class == "C").values(expires_at=now() - 1))
        s.commit()
    answers.append(c.post("/oauth/revoke", data={"token": expired}, headers=world.basic()))
    answers.append(c.post("/oauth/revoke", data={"token": expired}, headers=other))
    # Revoked.
    r = c.post("/oauth/revoke", data={"token": tokens["access_token"]}, headers=world.basic())
    assert r.status_code == 200
    answers.append(c.post("/oauth/revoke", data={"token": tokens["access_token"]}, headers=other))
    answers.append(
        c.post("/oauth/revoke", data={"token": tokens["access_token"]}, headers=world.basic())
    )
    assert [(a.status_code, a.content) for a in answers] == [(200, b"{}")] * len(answers)
    # Only the owner's own revocation took effect.
    assert _introspect(world, tokens["refresh_token"])
