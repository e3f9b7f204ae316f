"""The authorization-code flow and token endpoint, named after the GBA test cases
(STANDARD.md section 6), over HTTP against the application, on SQLite and PostgreSQL."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

from sqlalchemy import select, update

from gbconnect.oauth import models as om
from gbconnect.resource import now
from tests.factories.world import REDIRECT, SCOPE, World, pkce


def bearer(token: object) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def test_oad001_malformed_authorize_requests(world: World) -> None:
    world.login()
    c = world.client
    # No client, unknown client, unregistered redirect: a page, never a redirect.
    for url in (
        world.authorize_url(client_id=""),
        world.authorize_url(client_id="nobody"),
        world.authorize_url(redirect_uri="https://evil.example/cb"),
        world.authorize_url(redirect_uri=REDIRECT + "/more"),
    ):
        r = c.get(url, follow_redirects=False)
        assert r.status_code == 400, url
        assert "not valid" in r.text
    # A known client and redirect: the error goes back to it with the state.
    for params, error in (
        ({"response_type": "token"}, "unsupported_response_type"),
        ({"scope": "FB=1_4_5_99"}, "invalid_scope"),
        ({"scope": "FB=x"}, "invalid_scope"),
        ({"code_challenge": "a" * 43, "code_challenge_method": "plain"}, "invalid_request"),
    ):
        r = c.get(world.authorize_url(**params), follow_redirects=False)
        assert r.status_code == 302, params
        query = parse_qs(urlsplit(r.headers["location"]).query)
        assert query["error"] == [error] and query["state"] == ["xyz-42"]


def test_anonymous_visitor_is_sent_to_login_and_back(world: World) -> None:
    r = world.client.get(world.authorize_url(), follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"].startswith("/login?next=%2Foauth")
    world.login()
    page = world.client.get(world.authorize_url())
    assert "Solar Helper asks to see your energy data" in page.text
    assert "Natural gas usage" in page.text and "every 15 minutes" in page.text


def test_oad002_customer_denies(world: World) -> None:
    world.login()
    query = world.consent(decision="deny")
    assert query["error"] == ["access_denied"] and query["state"] == ["xyz-42"]
    with world.factory() as s:
        assert s.scalars(select(om.Authorization)).first() is None


def test_consent_form_requires_csrf_and_own_services(world: World) -> None:
    world.login()
    url = world.authorize_url()
    world.client.get(url)
    r = world.client.post(url, data={"decision": "approve", "csrf": "forged"})
    assert r.status_code == 403
    page = world.client.get(url)
    import re

    csrf = re.search(r'name="csrf" value="([^"]+)"', page.text).group(1)  # type: ignore[union-attr]
    r = world.client.post(
        url,
        data={
            "decision": "approve",
            "csrf": csrf,
            "service": [str(world.bob_points[0])],
            "group": ["electric"],
            "end": "revoke",
        },
        follow_redirects=False,
    )
    assert r.status_code == 400 and "does not belong" in r.text


def test_oad003_malformed_token_requests(world: World) -> None:
    c = world.client
    r = c.post("/oauth/token", data={"code": "x"}, headers=world.basic())
    assert r.status_code == 400 and r.json()["error"] == "unsupported_grant_type"
    r = c.post("/oauth/token", data={"grant_type": "authorization_code", "code": "x"})
    assert r.status_code == 401 and r.json()["error"] == "invalid_client"
    r = c.post(
        "/oauth/token",
        data={"grant_type": "client_credentials"},
        headers=world.basic(secret="wrong"),
    )
    assert r.status_code == 401 and r.json()["error"] == "invalid_client"
    r = c.post(
        "/oauth/token",
        data={"grant_type": "authorization_code", "code": "nope", "redirect_uri": REDIRECT},
        headers=world.basic(),
    )
    assert r.status_code == 400 and r.json()["error"] == "invalid_grant"
    r = c.post(
        "/oauth/token",
        content=b"\xff\xfe",
        headers={**world.basic(), "Content-Type": "application/x-www-form-urlencoded"},
    )
    assert r.status_code == 400


def test_oad005_successful_token_request_carries_espi_uris(world: World) -> None:
    tokens = world.code_tokens(group=["electric"], history="6")
    assert tokens["token_type"] == "Bearer" and tokens["expires_in"] == 3600
    assert tokens["scope"] == (
        "FB=1_3_4_5_13_14_39;IntervalDuration=900_3600;BlockDuration=daily;HistoryLength=6"
    )
    assert "/Batch/Subscription/" in str(tokens["resourceURI"])
    assert "/Authorization/" in str(tokens["authorizationURI"])
    assert len(str(tokens["access_token"])) >= 43 and tokens["refresh_token"]
    with world.factory() as s:
        stored = s.scalars(select(om.Token.token_hash)).all()
    assert str(tokens["access_token"]) not in stored  # hashes only


def test_oad004_reused_code_is_rejected_and_revokes_its_tokens(world: World) -> None:
    world.login()
    code = world.consent()["code"][0]
    form = {"grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT}
    first = world.client.post("/oauth/token", data=form, headers=world.basic())
    assert first.status_code == 200
    again = world.client.post("/oauth/token", data=form, headers=world.basic())
    assert again.status_code == 400 and again.json()["error"] == "invalid_grant"
    r = world.client.get(
        world.url("/ReadServiceStatus"), headers=bearer(first.json()["access_token"])
    )
    assert r.status_code == 401
    r = world.client.post(
        "/oauth/token",
        data={"grant_type": "refresh_token", "refresh_token": first.json()["refresh_token"]},
        headers=world.basic(),
    )
    assert r.status_code == 400


def test_oad010_oad011_refresh_rotates(world: World) -> None:
    tokens = world.code_tokens()
    c = world.client
    r = c.post(
        "/oauth/token",
        data={"grant_type": "refresh_token", "refresh_token": "bogus"},
        headers=world.basic(),
    )
    assert r.status_code == 400 and r.json()["error"] == "invalid_grant"
    r = c.post(
        "/oauth/token",
        data={"grant_type": "refresh_token", "refresh_token": tokens["refresh_token"]},
        headers=world.basic(),
    )
    assert r.status_code == 200
    fresh = r.json()
    assert fresh["refresh_token"] != tokens["refresh_token"] and fresh["scope"] == tokens["scope"]
    # The old access token lives until it expires (OAD013 as now read) ...
    with world.factory() as s:
        live = s.scalars(
            select(om.Token).where(
                om.Token.kind == "access",
                om.Token.token_class == "A",
                om.Token.revoked_at.is_(None),
            )
        ).all()
    assert len(live) == 2
    # ... while the old refresh token died at once (rotation); presented again, it
    # ends its whole family (RFC 9700 section 4.14.2).
    r = c.post(
        "/oauth/token",
        data={"grant_type": "refresh_token", "refresh_token": tokens["refresh_token"]},
        headers=world.basic(),
    )
    assert r.status_code == 400


def test_oad012_oad014_client_credentials(world: World) -> None:
    c = world.client
    r = c.post(
        "/oauth/token",
        data={"grant_type": "client_credentials", "scope": "FB=x"},
        headers=world.basic(),
    )
    assert r.status_code == 400 and r.json()["error"] == "invalid_scope"
    r = c.post(
        "/oauth/token",
        data={"grant_type": "password", "username": "a", "password": "b"},
        headers=world.basic(),
    )
    assert r.status_code == 400 and r.json()["error"] == "unsupported_grant_type"
    r = c.post("/oauth/token", data={"grant_type": "client_credentials"}, headers=world.basic())
    body = r.json()
    assert r.status_code == 200 and body["scope"] == "FB=34_35" and body["token_type"] == "Bearer"
    assert "refresh_token" not in body
    assert body["resourceURI"].endswith(f"/Batch/Bulk/{_bulk_id(world)}")
    assert "/Authorization/" in body["authorizationURI"]
    assert r.headers["cache-control"] == "no-store"


def _bulk_id(world: World) -> int:
    from gbconnect.registration.models import ApplicationInformation

    with world.factory() as s:
        app = s.get(ApplicationInformation, world.app_id)
        assert app is not None
        return app.bulk_id


def test_oad016_expired_access_token_is_rejected(world: World) -> None:
    token = world.client_token()
    assert (
        world.client.get(world.url("/ReadServiceStatus"), headers=bearer(token)).status_code == 200
    )
    with world.factory() as s:
        s.execute(update(om.Token).values(expires_at=now() - 1))
        s.commit()
    r = world.client.get(world.url("/ReadServiceStatus"), headers=bearer(token))
    assert r.status_code == 401 and 'error="invalid_token"' in r.headers["www-authenticate"]


def test_pkce_s256_for_public_clients(world: World) -> None:
    from gbconnect.oauth.clients import register

    with world.factory() as s:
        done = register(
            s,
            world.settings,
            name="Phone App",
            redirect_uris=[REDIRECT],
            scopes=[SCOPE],
            public=True,
            approve=True,
        )
        s.commit()
        public_id = done.application.client_id
    world.login()
    # Without a challenge a public client is refused.
    r = world.client.get(world.authorize_url(client_id=public_id), follow_redirects=False)
    assert parse_qs(urlsplit(r.headers["location"]).query)["error"] == ["invalid_request"]
    verifier, challenge = pkce()
    url = world.authorize_url(
        client_id=public_id, code_challenge=challenge, code_challenge_method="S256"
    )
    code = world.consent(url=url)["code"][0]
    form = {
        "grant_type": "authorization_code",
        "code": code,
        "redirect_uri": REDIRECT,
        "client_id": public_id,
    }
    r = world.client.post("/oauth/token", data={**form, "code_verifier": "x" * 43})
    assert r.status_code == 400 and r.json()["error"] == "invalid_grant"
    code = world.consent(url=url)["code"][0]
    r = world.client.post("/oauth/token", data={**form, "code": code, "code_verifier": verifier})
    assert r.status_code == 200, r.text


def test_customer_authorizing_again_replaces_the_old_grant(world: World) -> None:
    first = world.code_tokens()
    second = world.code_tokens()
    assert (
        world.client.get(
            world.url("/Authorization"), headers=bearer(first["access_token"])
        ).status_code
        == 401
    )
    with world.factory() as s:
        statuses = sorted(a.status for a in s.scalars(select(om.Authorization)))
    assert statuses == [om.REVOKED, om.ACTIVE]
    assert second["access_token"] != first["access_token"]


def test_revocation_rfc7009_and_introspection_rfc7662(world: World) -> None:
    tokens = world.code_tokens()
    c = world.client
    r = c.post("/oauth/introspect", data={"token": tokens["access_token"]}, headers=world.basic())
    assert r.status_code == 200 and r.json()["active"] is True
    assert r.json()["scope"] == tokens["scope"]
    r = c.post("/oauth/revoke", data={"token": tokens["refresh_token"]}, headers=world.basic())
    assert r.status_code == 200
    r = c.post("/oauth/introspect", data={"token": tokens["access_token"]}, headers=world.basic())
    assert r.json() == {"active": False}
    r = c.post("/oauth/introspect", data={"token": "unknown"}, headers=world.basic())
    assert r.json() == {"active": False}


def test_metadata_rfc8414(world: World) -> None:
    meta = world.client.get("/.well-known/oauth-authorization-server").json()
    assert meta["code_challenge_methods_supported"] == ["S256"]
    assert meta["token_endpoint"].endswith("/oauth/token")


def test_login_is_throttled(world: World) -> None:
    for _ in range(5):
        page = world.client.get("/login")
        import re

        csrf = re.search(r'name="csrf" value="([^"]+)"', page.text).group(1)  # type: ignore[union-attr]
        r = world.client.post(
            "/login", data={"username": "alice", "password": "wrong password", "csrf": csrf}
        )
        assert r.status_code == 401
    page = world.client.get("/login")
    csrf = re.search(r'name="csrf" value="([^"]+)"', page.text).group(1)  # type: ignore[union-attr]
    r = world.client.post(
        "/login", data={"username": "alice", "password": "correct horse battery", "csrf": csrf}
    )
    assert r.status_code == 429


def test_customer_revocation_takes_effect_at_once(world: World) -> None:
    tokens = world.code_tokens()
    client = world.client_token()
    page = world.client.get("/account/authorizations")
    assert "Solar Helper" in page.text and "Stop sharing" in page.text
    import re

    auth_id = re.search(r'href="/account/authorizations/(\d+)/revoke"', page.text).group(1)  # type: ignore[union-attr]
    page = world.client.get(f"/account/authorizations/{auth_id}/revoke")  # the confirmation
    csrf = re.search(r'name="csrf" value="([^"]+)"', page.text).group(1)  # type: ignore[union-attr]
    assert (
        world.client.post(
            f"/account/authorizations/{auth_id}/revoke", data={"csrf": "forged"}
        ).status_code
        == 403
    )
    r = world.client.post(
        f"/account/authorizations/{auth_id}/revoke", data={"csrf": csrf}, follow_redirects=False
    )
    assert r.status_code == 303
    # Every token of the grant fails on the next call; refresh too.
    assert (
        world.client.get(
            world.url("/Authorization"), headers=bearer(tokens["access_token"])
        ).status_code
        == 401
    )
    r = world.client.post(
        "/oauth/token",
        data={"grant_type": "refresh_token", "refresh_token": tokens["refresh_token"]},
        headers=world.basic(),
    )
    assert r.status_code == 400
    # The third party sees the status change.
    entry = world.client.get(world.url(f"/Authorization/{auth_id}"), headers=bearer(client))
    assert b"<status>0</status>" in entry.content
    listed = world.client.get("/account/authorizations").text
    assert "(by you)" in listed[listed.index('<section id="revoked"') :]
    # Another customer cannot revoke it (and learns nothing).
    world.client.cookies.clear()
    world.login("bob")
    page = world.client.get("/account")
    csrf = re.search(r'name="csrf" value="([^"]+)"', page.text).group(1)  # type: ignore[union-attr]
    r = world.client.post(f"/account/authorizations/{auth_id}/revoke", data={"csrf": csrf})
    assert r.status_code == 404


def test_authorization_ends_with_its_period(world: World) -> None:
    tokens = world.code_tokens()
    with world.factory() as s:
        auth = s.scalars(select(om.Authorization).where(om.Authorization.token_class == "A")).one()
        auth.authorized_start = now() - 100
        auth.authorized_duration = 50
        s.commit()
    r = world.client.get(world.url("/Authorization"), headers=bearer(tokens["access_token"]))
    assert r.status_code == 401
    from gbconnect.oauth.revocation import expire_authorizations

    with world.factory() as s:
        assert expire_authorizations(s, now()) == 1
        s.commit()


def test_oad013_access_token_lives_after_refresh_until_it_expires(world: World) -> None:
    """GBA removed the test that an old access token dies on refresh (RFC 6749 lets
    it live until expiry); the old refresh token dies (test_oad010_oad011...)."""
    tokens = world.code_tokens()
    r = world.client.post(
        "/oauth/token",
        data={"grant_type": "refresh_token", "refresh_token": tokens["refresh_token"]},
        headers=world.basic(),
    )
    assert r.status_code == 200
    r = world.client.post(
        "/oauth/introspect", data={"token": tokens["access_token"]}, headers=world.basic()
    )
    assert r.json()["active"] is True


def test_customer_revocation_of_an_id_beyond_int64_is_404(world: World) -> None:
    """The account page's revocation form names an id: one the store cannot hold, or
    no number, is an unknown authorization (404 page), never a 500."""
    world.login()
    page = world.client.get("/account")
    csrf = __import__("re").search(r'name="csrf" value="([^"]+)"', page.text).group(1)
    for bad in (str(2**63), str(2**64), "-1", "abc"):
        r = world.client.post(
            f"/account/authorizations/{bad}/revoke",
            data={"csrf": csrf},
            headers={"accept": "text/html"},
            follow_redirects=False,
        )
        assert r.status_code == 404, (bad, r.status_code)
        assert "Traceback" not in r.text
