"""The token endpoint's session-less path (gbconnect.oauth.token_fast) against the
reference (Authlib through the ORM), on SQLite and PostgreSQL: the same 200 answers
(fields in the same order, the same headers, the same stored rows), and every other
request left to the reference, which refuses it as before (RFC 6749 section 5.2)."""

from __future__ import annotations

import asyncio
import base64
import json
from typing import Any

import pytest
from sqlalchemy import Engine, select, update
from starlette.responses import Response

from gbconnect.audit import Actor
from gbconnect.config import Settings
from gbconnect.db.rowreader import make_row_reader
from gbconnect.oauth import models as om
from gbconnect.oauth import mtls
from gbconnect.oauth.clients import register, set_status
from gbconnect.oauth.context import in_session
from gbconnect.oauth.secrets import digest
from gbconnect.oauth.server import EspiAuthorizationServer
from gbconnect.oauth.services import issue_token
from gbconnect.oauth.starlette import StarletteOAuth2Request
from gbconnect.oauth.token_fast import TokenFastPath
from gbconnect.ratelimit.limits import RateLimited
from gbconnect.registration import certificates as certs
from gbconnect.registration import models as rm
from gbconnect.resource import now
from tests.factories.certificates import make_cert
from tests.factories.world import REDIRECT, World

#: The world's scope without natural gas (FB_10).
NARROW = (
    "FB=1_3_4_5_13_14_15_17_39_51_57;IntervalDuration=900_3600;BlockDuration=daily;HistoryLength=13"
)


def _request(
    world: World, form: dict[str, str], headers: dict[str, str], query: str = ""
) -> StarletteOAuth2Request:
    uri = world.settings.base_url.rstrip("/") + "/oauth/token" + (f"?{query}" if query else "")
    return StarletteOAuth2Request(
        "POST",
        uri,
        {**headers, "Content-Type": "application/x-www-form-urlencoded"},
        [tuple(q.split("=", 1)) for q in query.split("&")] if query else [],  # type: ignore[misc]
        list(form.items()),
    )


def _server(world: World) -> EspiAuthorizationServer:
    server: EspiAuthorizationServer = world.client.app.state.oauth  # type: ignore[attr-defined]
    return server


def _engine(world: World) -> Engine:
    engine: Engine = world.factory.kw["bind"]
    return engine


def fast(
    world: World,
    form: dict[str, str],
    headers: dict[str, str] | None = None,
    settings: Settings | None = None,
    query: str = "",
) -> Response | None:
    """The fast path's answer (None: it leaves the request to the reference). On
    PostgreSQL through a row reader, on the event loop, as the application runs it."""
    engine = _engine(world)
    path = TokenFastPath(settings or world.settings, engine, _server(world))
    oreq = _request(world, form, world.basic() if headers is None else headers, query)

    async def answer() -> Response | None:
        if engine.dialect.name != "postgresql":
            return await path.respond(oreq)
        reader = make_row_reader(engine, max_size=2)
        await reader.open()
        try:
            return await path.respond(oreq, reader)
        finally:
            await reader.close()

    return asyncio.run(answer())


def reference(world: World, form: dict[str, str], headers: dict[str, str] | None = None) -> Any:
    """Authlib's answer through the ORM, as the route gives it when the fast path
    declines."""
    oreq = _request(world, form, world.basic() if headers is None else headers)
    server = _server(world)
    return in_session(world.factory, lambda _s: server.create_token_response(oreq))()


def _body(response: Any) -> dict[str, Any]:
    body: dict[str, Any] = json.loads(response.body)
    return body


def _same_answer(a: Any, b: Any) -> None:
    """Two 200 token answers alike but for the token values."""
    assert a.status_code == b.status_code == 200
    assert dict(a.headers) == {**dict(b.headers), "content-length": a.headers["content-length"]}
    assert a.headers["cache-control"] == "no-store" and a.headers["pragma"] == "no-cache"
    assert a.headers["content-type"] == "application/json"
    left, right = _body(a), _body(b)
    assert list(left) == list(right)
    for key in left:
        if key in ("access_token", "refresh_token"):
            assert len(str(left[key])) == len(str(right[key])) == 43
            assert left[key] != right[key]
        else:
            assert left[key] == right[key], key


def _stored(world: World, value: str) -> dict[str, Any]:
    """The stored row of a token value, without what differs between two issues."""
    with world.factory() as s:
        row = s.scalars(select(om.Token).where(om.Token.token_hash == digest(value))).one()
        return {
            "kind": row.kind,
            "token_class": row.token_class,
            "application_id": row.application_id,
            "authorization_id": row.authorization_id,
            "scope": row.scope,
            "lifetime": None if row.expires_at is None else row.expires_at - row.issued_at,
            "revoked_at": row.revoked_at,
            "code_id": row.code_id,
            "cnf_thumbprint": row.cnf_thumbprint,
        }


def _post(world: World, form: dict[str, str], headers: dict[str, str] | None = None) -> Any:
    return world.client.post(
        "/oauth/token", data=form, headers=world.basic() if headers is None else headers
    )


CC = {"grant_type": "client_credentials"}


def test_client_credentials_answer_and_rows_match_the_reference(world: World) -> None:
    world.client_token()  # the third party's client Authorization exists from now on
    for form in (CC, {**CC, "scope": "FB=35"}):
        mine = fast(world, form)
        assert mine is not None
        theirs = reference(world, form)
        _same_answer(mine, theirs)
        a, b = _body(mine)["access_token"], _body(theirs)["access_token"]
        assert _stored(world, a) == _stored(world, b)
    # The token works like the reference's: introspected active, with the same fields.
    intro = [
        world.client.post("/oauth/introspect", data={"token": t}, headers=world.basic()).json()
        for t in (a, b)
    ]
    for seen in intro:
        seen.pop("iat"), seen.pop("exp")
    assert intro[0] == intro[1] and intro[0]["active"] is True


def test_client_credentials_over_http_and_by_post(world: World) -> None:
    r = _post(world, CC)
    assert r.status_code == 200 and r.headers["cache-control"] == "no-store"
    secret_post = {**CC, "client_id": world.client_id, "client_secret": world.client_secret}
    mine = fast(world, secret_post, headers={})
    assert mine is not None and mine.status_code == 200


def test_first_client_credentials_request_goes_the_reference_way(world: World) -> None:
    """No client Authorization yet: the reference creates it; then the fast path."""
    assert fast(world, CC) is None
    assert _post(world, CC).status_code == 200
    assert fast(world, CC) is not None


def test_refresh_answer_and_rows_match_the_reference(world: World) -> None:
    first = world.code_tokens()
    mine = fast(
        world, {"grant_type": "refresh_token", "refresh_token": str(first["refresh_token"])}
    )
    assert mine is not None
    body = _body(mine)
    theirs = reference(
        world, {"grant_type": "refresh_token", "refresh_token": str(body["refresh_token"])}
    )
    _same_answer(mine, theirs)
    other = _body(theirs)
    assert _stored(world, body["access_token"]) == _stored(world, other["access_token"])
    rotated, fresh = _stored(world, body["refresh_token"]), _stored(world, other["refresh_token"])
    assert rotated.pop("revoked_at") is not None and fresh.pop("revoked_at") is None
    assert rotated == fresh
    # Rotation: each used refresh token died at once, as the reference retires it.
    assert _stored(world, str(first["refresh_token"]))["revoked_at"] is not None


def test_refresh_narrows_the_scope(world: World) -> None:
    first = world.code_tokens()
    form = {"grant_type": "refresh_token", "refresh_token": str(first["refresh_token"])}
    with world.factory() as s:
        customer_grant = select(om.Authorization).where(om.Authorization.token_class == "A")
        before = s.scalars(customer_grant).one()
    mine = fast(world, {**form, "scope": NARROW})
    assert mine is not None and _body(mine)["scope"] == NARROW
    assert _stored(world, _body(mine)["access_token"])["scope"] == NARROW
    # The grant keeps the scope the customer granted; only its expiry moves.
    with world.factory() as s:
        after = s.get(om.Authorization, before.id)
        assert after is not None and after.scope == before.scope != NARROW
        assert after.expires_at == _stored_expiry(world, _body(mine)["access_token"])


def _stored_expiry(world: World, value: str) -> int | None:
    with world.factory() as s:
        row = s.scalars(select(om.Token).where(om.Token.token_hash == digest(value))).one()
        return row.expires_at


def test_a_reused_refresh_token_is_left_to_the_reference_which_ends_the_family(
    world: World,
) -> None:
    first = world.code_tokens()
    form = {"grant_type": "refresh_token", "refresh_token": str(first["refresh_token"])}
    second = fast(world, form)
    assert second is not None
    assert fast(world, form) is None
    r = _post(world, form)
    assert r.status_code == 400 and r.json()["error"] == "invalid_grant"
    for value in (first["access_token"], _body(second)["access_token"]):
        assert _stored(world, str(value))["revoked_at"] is not None


def test_a_public_client_refreshes_without_a_secret(world: World) -> None:
    world.code_tokens()  # a customer grant, lent to a public client below
    with world.factory() as s, s.begin():
        done = register(
            s, world.settings, name="Public", redirect_uris=[REDIRECT], public=True, approve=True
        )
        auth = s.scalars(select(om.Authorization).where(om.Authorization.token_class == "A"))
        grant = auth.first()
        assert grant is not None
        grant.application_id = done.application.id
        value, _ = issue_token(
            s,
            kind="refresh",
            token_class=om.CUSTOMER,
            application_id=done.application.id,
            authorization_id=grant.id,
            scope=grant.scope,
            lifetime=3600,
        )
        client_id = done.application.client_id
    form = {"grant_type": "refresh_token", "refresh_token": value, "client_id": client_id}
    mine = fast(world, form, headers={})
    assert mine is not None and mine.status_code == 200
    # A public client has no secret: a made-up one is refused (by the reference).
    assert fast(world, {**form, "client_secret": "x"}, headers={}) is None


def _refresh_form(world: World) -> dict[str, str]:
    first = world.code_tokens()
    return {"grant_type": "refresh_token", "refresh_token": str(first["refresh_token"])}


def _set_refresh(world: World, form: dict[str, str], **values: Any) -> None:
    with world.factory() as s, s.begin():
        s.execute(
            update(om.Token)
            .where(om.Token.token_hash == digest(form["refresh_token"]))
            .values(**values)
        )


def _basic(client_id: str, secret: str) -> dict[str, str]:
    return {"Authorization": "Basic " + base64.b64encode(f"{client_id}:{secret}".encode()).decode()}


@pytest.mark.parametrize(
    ("case", "status", "error"),
    [
        ("unknown client", 401, "invalid_client"),
        ("wrong secret", 401, "invalid_client"),
        ("no credentials", 401, "invalid_client"),
        ("unknown grant", 400, "unsupported_grant_type"),
        ("customer scope", 400, "invalid_scope"),
        ("unreadable scope", 400, "invalid_scope"),
        ("on hold", 401, "invalid_client"),
        ("revoked client", 401, "invalid_client"),
        ("grant type not registered", 400, "unauthorized_client"),
    ],
)
def test_client_credentials_refusals_are_the_reference_s(
    world: World, case: str, status: int, error: str
) -> None:
    world.client_token()
    form, headers = dict(CC), world.basic()
    if case == "unknown client":
        headers = _basic("0" * 32, world.client_secret)
    elif case == "wrong secret":
        headers = world.basic(secret="wrong")
    elif case == "no credentials":
        headers = {}
    elif case == "unknown grant":
        form = {"grant_type": "password", "username": "a", "password": "b"}
    elif case == "customer scope":
        form["scope"] = "FB=1_3_4_5"
    elif case == "unreadable scope":
        form["scope"] = "FB=x"
    elif case in ("on hold", "revoked client"):
        with world.factory() as s, s.begin():
            app = s.get(rm.ApplicationInformation, world.app_id)
            assert app is not None
            set_status(s, app, rm.ON_HOLD if case == "on hold" else rm.REVOKED)
    elif case == "grant type not registered":
        with world.factory() as s, s.begin():
            s.execute(
                update(rm.ApplicationInformation)
                .where(rm.ApplicationInformation.id == world.app_id)
                .values(grant_types=["authorization_code", "refresh_token"])
            )
    assert fast(world, form, headers) is None
    r = _post(world, form, headers)
    assert r.status_code == status and r.json()["error"] == error, r.text
    assert r.headers["cache-control"] == "no-store"


@pytest.mark.parametrize(
    ("case", "status", "error"),
    [
        ("unknown token", 400, "invalid_grant"),
        ("expired", 400, "invalid_grant"),
        ("revoked", 400, "invalid_grant"),
        ("missing", 400, "invalid_request"),
        ("wider scope", 400, "invalid_scope"),
        ("grant revoked", 400, "invalid_grant"),
        ("another client", 400, "invalid_grant"),
        ("wrong secret", 401, "invalid_client"),
        ("on hold", 401, "invalid_client"),
    ],
)
def test_refresh_refusals_are_the_reference_s(
    world: World, case: str, status: int, error: str
) -> None:
    form, headers = _refresh_form(world), world.basic()
    if case == "unknown token":
        form["refresh_token"] = "n" * 43
    elif case == "expired":
        _set_refresh(world, form, expires_at=now() - 1)
    elif case == "revoked":
        _set_refresh(world, form, revoked_at=now() - 1)
    elif case == "missing":
        del form["refresh_token"]
    elif case == "wider scope":
        form["scope"] = "FB=1_3_4_5_13_14_15_16_17_18_19_31_32_33_34_35_36_37_38_39_40_41"
    elif case == "grant revoked":
        with world.factory() as s, s.begin():
            s.execute(
                update(om.Authorization)
                .where(om.Authorization.token_class == om.CUSTOMER)
                .values(status=om.REVOKED)
            )
    elif case == "another client":
        with world.factory() as s, s.begin():
            other = register(s, world.settings, name="Other", redirect_uris=[REDIRECT])
            headers = _basic(other.application.client_id, str(other.client_secret))
    elif case == "wrong secret":
        headers = world.basic(secret="wrong")
    elif case == "on hold":
        with world.factory() as s, s.begin():
            app = s.get(rm.ApplicationInformation, world.app_id)
            assert app is not None
            set_status(s, app, rm.ON_HOLD)
    assert fast(world, form, headers) is None
    r = _post(world, form, headers)
    assert r.status_code == status and r.json()["error"] == error, r.text


def test_unusual_requests_are_left_to_the_reference(world: World) -> None:
    world.client_token()
    # A repeated field, a query string, an over-long client id: the reference decides.
    oreq = _request(world, CC, world.basic())
    oreq.payload.datalist["scope"] += ["FB=34", "FB=35"]
    path = TokenFastPath(world.settings, _engine(world), _server(world))
    assert asyncio.run(path.respond(oreq)) is None
    assert fast(world, CC, query="scope=FB%3D34") is None
    assert fast(world, CC, headers=_basic("x" * 65, world.client_secret)) is None
    assert fast(world, CC) is not None


MINE, STRANGER = make_cert("fast-mine"), make_cert("fast-stranger")
ACTOR = Actor("operator", "test", "command line")


def _with_certificate(world: World, revoked: bool = False) -> str:
    """MINE registered to the world's third party (revoked if asked); its thumbprint."""
    with world.factory() as s, s.begin():
        app = s.get(rm.ApplicationInformation, world.app_id)
        assert app is not None
        cert = certs.add_certificate(s, app, MINE, ACTOR)
        if revoked:
            certs.revoke_certificate(s, app, cert.thumbprint, ACTOR)
        return cert.thumbprint


def _presenting(world: World, form: dict[str, str], pem: bytes | None) -> StarletteOAuth2Request:
    oreq = _request(world, form, world.basic())
    oreq.client_thumbprint = None if pem is None else mtls.pem_thumbprint(pem.decode())
    return oreq


def _answers(world: World, settings: Settings, oreq: StarletteOAuth2Request) -> Any:
    path = TokenFastPath(settings, _engine(world), EspiAuthorizationServer(settings))
    return asyncio.run(path.respond(oreq))


def _reference_with(world: World, settings: Settings, oreq: StarletteOAuth2Request) -> Any:
    server = EspiAuthorizationServer(settings)
    return in_session(world.factory, lambda _s: server.create_token_response(oreq))()


@pytest.mark.parametrize("grant", ["client_credentials", "refresh_token"])
def test_mutual_tls_binds_the_token_as_the_reference_does(world: World, grant: str) -> None:
    """GBCONNECT_MTLS required: a registered, current certificate gets a token bound
    to it (RFC 8705 section 3), stored as the reference stores it; no certificate, a
    stranger's or a revoked one is left to the reference, which refuses it (401)."""
    world.client_token()
    form = dict(CC) if grant == "client_credentials" else _refresh_form(world)
    thumb = _with_certificate(world)
    required = world.settings.model_copy(update={"mtls": "required"})
    mine = _answers(world, required, _presenting(world, form, MINE))
    assert mine is not None and mine.status_code == 200
    stored = _stored(world, _body(mine)["access_token"])
    assert stored["cnf_thumbprint"] == thumb
    if grant == "refresh_token":
        assert _stored(world, _body(mine)["refresh_token"])["cnf_thumbprint"] is None
        form["refresh_token"] = _body(mine)["refresh_token"]
    theirs = _reference_with(world, required, _presenting(world, form, MINE))
    _same_answer(mine, theirs)
    assert _stored(world, _body(theirs)["access_token"]) == stored
    for pem in (None, STRANGER):
        assert _answers(world, required, _presenting(world, form, pem)) is None
    optional = world.settings.model_copy(update={"mtls": "optional"})
    if grant == "client_credentials":
        unbound = _answers(world, optional, _presenting(world, form, None))
        assert unbound is not None
        assert _stored(world, _body(unbound)["access_token"])["cnf_thumbprint"] is None


def test_a_revoked_certificate_is_left_to_the_reference(world: World) -> None:
    world.client_token()
    _with_certificate(world, revoked=True)
    for mode in ("optional", "required"):
        settings = world.settings.model_copy(update={"mtls": mode})
        assert _answers(world, settings, _presenting(world, CC, MINE)) is None
        r = _reference_with(world, settings, _presenting(world, CC, MINE))
        assert r.status_code == 401 and _body(r)["error"] == "invalid_client"


def test_a_certificate_is_ignored_when_mutual_tls_is_off(world: World) -> None:
    world.client_token()
    mine = _answers(world, world.settings, _presenting(world, CC, STRANGER))
    assert mine is not None
    assert _stored(world, _body(mine)["access_token"])["cnf_thumbprint"] is None


def test_rate_limits_count_the_fast_path(world: World) -> None:
    world.client_token()
    settings = world.settings.model_copy(
        update={
            "rate_limits": True,
            "rate_vendor_per_second": 1_000_000,
            "rate_client_per_hour": 1,
            "rate_client_per_day": 1_000_000,
        }
    )
    assert fast(world, CC, settings=settings) is not None
    with pytest.raises(RateLimited):
        fast(world, CC, settings=settings)


def test_of_two_rotations_of_one_refresh_token_only_the_first_writes(world: World) -> None:
    """Two requests that both read the refresh token live: the second finds it
    retired when it writes, issues nothing and leaves the request to the reference
    (which then sees a reused token)."""
    first = world.code_tokens()
    with world.factory() as s:
        old = s.scalars(
            select(om.Token).where(om.Token.token_hash == digest(str(first["refresh_token"])))
        ).one()
        old_id, auth_id, app_id = old.id, old.authorization_id, old.application_id
    path = TokenFastPath(world.settings, _engine(world), _server(world))
    at = now()

    def params(n: int) -> dict[str, Any]:
        return {
            "old_id": old_id,
            "access_hash": digest(f"access {n}"),
            "refresh_hash": digest(f"refresh {n}"),
            "app_id": app_id,
            "auth_id": auth_id,
            "new_scope": "FB=1",
            "at": at,
            "access_expires": at + 60,
            "access_cnf": None,
            "refresh_expires": at + 120,
            "refresh_cnf": None,
            "expires": at + 60,
        }

    with path._connect() as conn:
        assert path._rotate(conn, params(1)) is True
    with path._connect() as conn:
        assert path._rotate(conn, params(2)) is False
    with world.factory() as s:
        issued = set(s.scalars(select(om.Token.token_hash).where(om.Token.scope == "FB=1")))
    assert issued == {digest("access 1"), digest("refresh 1")}
