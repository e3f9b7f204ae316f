"""Self access (STANDARD.md section 7): a customer registers as their own third
party, sees the secret once, and reads their own data with the client token:
ReadServiceStatus, Authorization, Batch/Bulk. SQLite and PostgreSQL."""

from __future__ import annotations

import re

from lxml import etree

from tests.factories.world import World, _csrf
from tests.integration.oauth.test_espi_access import NS, bearer, valid


def register(world: World) -> str:
    page = world.client.get("/account/self-access")
    assert page.status_code == 200 and "Register for self access" in page.text
    r = world.client.post("/account/self-access", data={"csrf": _csrf(page.text)})
    assert r.status_code == 200, r.text
    assert r.headers["cache-control"] == "no-store"
    return r.text


def code(html: str, ident: str) -> str:
    m = re.search(rf'<code id="{ident}">([^<]+)</code>', html)
    assert m, html
    return m.group(1)


def test_a_customer_reads_their_own_data_with_their_own_client(world: World) -> None:
    world.login()
    html = register(world)
    client_id, secret, bulk = (
        code(html, "client-id"),
        code(html, "client-secret"),
        code(html, "bulk-url"),
    )
    r = world.client.post(
        "/oauth/token",
        data={"grant_type": "client_credentials"},
        headers=world.basic(client_id, secret),
    )
    assert r.status_code == 200, r.text
    token = r.json()["access_token"]
    status = world.client.get(world.url("/ReadServiceStatus"), headers=bearer(token))
    assert status.status_code == 200
    auths = world.client.get(world.url("/Authorization"), headers=bearer(token))
    assert auths.status_code == 200
    assert valid(auths.content).findtext(".//e:status", namespaces=NS) == "1"
    feed = world.client.get(bulk[bulk.index(world.settings.resource_base) :], headers=bearer(token))
    assert feed.status_code == 200
    doc = valid(feed.content)
    links = {
        int(h.rsplit("/", 1)[1])
        for h in doc.xpath("//a:link[@rel='self']/@href", namespaces=NS)
        if re.search(r"/UsagePoint/\d+$", h)
    }
    assert set(world.alice_points) <= links
    assert not set(world.bob_points) & links
    # Later visits show the client id, never the secret again; a second POST makes
    # no second client.
    again = world.client.get("/account/self-access").text
    assert code(again, "client-id") == client_id and secret not in again
    csrf = _csrf(world.client.get("/account").text)
    r = world.client.post("/account/self-access", data={"csrf": csrf})
    assert code(r.text, "client-id") == client_id and secret not in r.text
    assert isinstance(doc, etree._Element)


def test_self_access_is_the_customers_own(world: World) -> None:
    world.login()
    register(world)
    world.client.post("/logout", data={"csrf": _csrf(world.client.get("/account").text)})
    world.login("bob")
    page = world.client.get("/account/self-access").text
    assert "Register for self access" in page and "client-id" not in page


def test_signed_out_and_forged_forms_are_refused(world: World) -> None:
    r = world.client.get("/account/self-access", follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"].startswith("/login")
    world.login()
    r = world.client.post("/account/self-access", data={"csrf": "forged"})
    assert r.status_code == 403
