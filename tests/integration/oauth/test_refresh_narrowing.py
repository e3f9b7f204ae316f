"""A client narrows its scope at refresh (RFC 6749 section 6: the requested scope
"MUST NOT include any scope not originally granted"): the new tokens carry the
narrower scope, and the resource server reads them under it; the Authorization, the
tokens issued before and the third party's client token keep the scope the customer
granted. SQLite and PostgreSQL; every document validated against the schemas."""

from __future__ import annotations

from lxml import etree
from sqlalchemy import select, update

from gbconnect.espi import scope as espi_scope
from gbconnect.oauth import models as om
from gbconnect.registration import models as rm
from tests.factories.world import World
from tests.integration.oauth.test_espi_access import NS, bearer, valid

#: The test world's scope with interval cost (FB_12) and natural gas (FB_10).
WIDE = (
    "FB=1_3_4_5_10_12_13_14_15_17_39_51_57;IntervalDuration=900_3600;BlockDuration=daily;"
    "HistoryLength=13"
)
#: WIDE without gas and without interval cost.
NARROW = (
    "FB=1_3_4_5_13_14_15_17_39_51_57;IntervalDuration=900_3600;BlockDuration=daily;HistoryLength=13"
)
ALL_GROUPS = ["electric", "gas", "cost", "billing", "quality", "account"]


def _wide_tokens(world: World) -> dict[str, object]:
    """Customer tokens for WIDE (the third party registered for it)."""
    with world.factory() as s:
        s.execute(
            update(rm.ApplicationInformation)
            .where(rm.ApplicationInformation.id == world.app_id)
            .values(scopes=[WIDE])
        )
        s.commit()
    tokens = world.code_tokens(url=world.authorize_url(scope=WIDE), group=ALL_GROUPS)
    assert tokens["scope"] == WIDE
    return tokens


def _refresh(world: World, refresh_token: object, scope: str) -> dict[str, object]:
    r = world.client.post(
        "/oauth/token",
        data={"grant_type": "refresh_token", "refresh_token": refresh_token, "scope": scope},
        headers=world.basic(),
    )
    assert r.status_code == 200, r.text
    body: dict[str, object] = r.json()
    return body


def _path(world: World, uri: object) -> str:
    text = str(uri)
    return text[text.index(world.settings.resource_base) :]


def _batch(world: World, tokens: dict[str, object]) -> etree._Element:
    r = world.client.get(
        _path(world, tokens["resourceURI"]), headers=bearer(tokens["access_token"])
    )
    assert r.status_code == 200, r.text
    return valid(r.content)


def _kinds(doc: etree._Element) -> set[str | None]:
    return {e.text for e in doc.iterfind(".//e:ServiceCategory/e:kind", NS)}


def _has_cost(doc: etree._Element) -> bool:
    return (
        doc.find(".//e:IntervalReading/e:cost", NS) is not None
        or doc.find(".//e:ReadingType/e:currency", NS) is not None
    )


def _introspect(world: World, token: object) -> dict[str, object]:
    r = world.client.post("/oauth/introspect", data={"token": token}, headers=world.basic())
    assert r.status_code == 200, r.text
    body: dict[str, object] = r.json()
    return body


def _authorization_scope(world: World) -> str:
    with world.factory() as s:
        scopes = s.scalars(
            select(om.Authorization.scope).where(
                om.Authorization.token_class == om.CUSTOMER,
                om.Authorization.status == om.ACTIVE,
            )
        ).all()
    assert len(scopes) == 1
    return scopes[0]


def test_refresh_with_a_narrower_scope_narrows_what_the_new_token_sees(world: World) -> None:
    wide = _wide_tokens(world)
    before = _batch(world, wide)
    assert _kinds(before) == {"0", "1"} and _has_cost(before)
    entry_links = [
        str(x.get("href"))
        for x in before.iterfind("a:entry/a:link[@rel='self']", NS)
        if "/IntervalBlock/" in str(x.get("href"))
    ]
    electric, gas = world.alice_points
    gas_block = next(h for h in entry_links if f"/UsagePoint/{gas}/" in h)
    electric_block = next(h for h in entry_links if f"/UsagePoint/{electric}/" in h)

    narrow = _refresh(world, wide["refresh_token"], NARROW)
    assert narrow["scope"] == NARROW
    assert narrow["resourceURI"] == wide["resourceURI"]
    assert narrow["authorizationURI"] == wide["authorizationURI"]

    # The new access token sees no gas and no interval cost, on every path.
    token = bearer(narrow["access_token"])
    after = _batch(world, narrow)
    assert _kinds(after) == {"0"} and not _has_cost(after)
    assert after.find(".//e:IntervalReading", NS) is not None  # electricity still there
    r = world.client.get(_path(world, gas_block), headers=token)
    assert r.status_code == 404
    r = world.client.get(_path(world, electric_block), headers=token)  # the hot path
    assert r.status_code == 200 and not _has_cost(valid(r.content))
    sub = _path(world, narrow["resourceURI"]).replace("Batch/", "")
    r = world.client.get(f"{sub}/UsagePoint/{gas}", headers=token)
    assert r.status_code == 404
    r = world.client.get(world.url("/ReadingType"), headers=token)
    assert r.status_code == 200
    reading_types = valid(r.content)
    assert reading_types.find(".//e:ReadingType", NS) is not None
    assert not _has_cost(reading_types)

    # The access token issued before lives on under the scope it was issued with.
    assert _introspect(world, wide["access_token"])["scope"] == WIDE
    again = _batch(world, wide)
    assert _kinds(again) == {"0", "1"} and _has_cost(again)
    r = world.client.get(_path(world, gas_block), headers=bearer(wide["access_token"]))
    assert r.status_code == 200

    # Introspection reports the narrow scope for both new tokens (RFC 7662).
    seen = _introspect(world, narrow["access_token"])
    assert seen["active"] is True and seen["scope"] == NARROW
    assert _introspect(world, narrow["refresh_token"])["scope"] == NARROW

    # The Authorization keeps the scope the customer granted: in the store, in its
    # resource, and for the third party's client token (Batch/Bulk).
    assert _authorization_scope(world) == WIDE
    client = world.client_token()
    r = world.client.get(_path(world, wide["authorizationURI"]), headers=bearer(client))
    assert valid(r.content).findtext(".//e:scope", namespaces=NS) == WIDE
    bulk_uri = world.client.post(
        "/oauth/token", data={"grant_type": "client_credentials"}, headers=world.basic()
    ).json()["resourceURI"]
    bulk = valid(world.client.get(_path(world, bulk_uri), headers=bearer(client)).content)
    assert _kinds(bulk) == {"0", "1"} and _has_cost(bulk)


def test_a_narrowed_refresh_token_cannot_widen_again(world: World) -> None:
    wide = _wide_tokens(world)
    narrow = _refresh(world, wide["refresh_token"], NARROW)
    r = world.client.post(
        "/oauth/token",
        data={
            "grant_type": "refresh_token",
            "refresh_token": narrow["refresh_token"],
            "scope": WIDE,
        },
        headers=world.basic(),
    )
    assert r.status_code == 400 and r.json()["error"] == "invalid_scope"
    # Refreshing without a scope keeps the narrow one (RFC 6749 section 6).
    same = _refresh(world, narrow["refresh_token"], "")
    assert same["scope"] == NARROW
    assert not _has_cost(_batch(world, same))


def test_a_narrower_scope_in_another_spelling_narrows_too(world: World) -> None:
    """The scope grammar is lenient (STANDARD.md section 2): keys in any case, a
    trailing ``;``."""
    wide = _wide_tokens(world)
    lenient = NARROW.lower().replace("fb=", "FB=") + ";"
    narrow = _refresh(world, wide["refresh_token"], lenient)
    assert (
        espi_scope.parse(str(narrow["scope"])).function_blocks
        == espi_scope.parse(NARROW).function_blocks
    )
    after = _batch(world, narrow)
    assert _kinds(after) == {"0"} and not _has_cost(after)


def test_a_token_stored_without_a_scope_reads_under_its_authorization(world: World) -> None:
    wide = _wide_tokens(world)
    with world.factory() as s:
        s.execute(
            update(om.Token)
            .where(om.Token.kind == "access", om.Token.token_class == om.CUSTOMER)
            .values(scope="")
        )
        s.commit()
    doc = _batch(world, wide)
    assert _kinds(doc) == {"0", "1"} and _has_cost(doc)


def test_a_stored_scope_that_does_not_parse_is_refused_not_emptied(world: World) -> None:
    """A fault in the store is a 403 with a reason (and a log line), never a feed
    that silently holds nothing."""
    wide = _wide_tokens(world)
    with world.factory() as s:
        s.execute(
            update(om.Token)
            .where(om.Token.kind == "access", om.Token.token_class == om.CUSTOMER)
            .values(scope="FB=not-a-number")
        )
        s.commit()
    r = world.client.get(_path(world, wide["resourceURI"]), headers=bearer(wide["access_token"]))
    assert r.status_code == 403
    assert r.json()["error"] == "insufficient_scope"
    assert "scope" in r.json()["error_description"]
