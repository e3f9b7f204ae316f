"""Nothing a third party receives carries the customer's login, name or email unless
its grant includes the retail customer records that carry them (REQ.21 FB_13, GBA
TC001-011: tokens and ids carry no PII). Walks the token response, introspection,
the Authorization feed and entry, Batch/Subscription and Batch/Bulk, on SQLite and
PostgreSQL."""

from __future__ import annotations

from sqlalchemy import select, update

from gbconnect.customer.models import RetailCustomer
from gbconnect.oauth import models as om
from tests.factories.world import World

EMAIL = "alice.private@example.com"
PII = ("alice", "Alice", EMAIL)


def _bearer(token: object) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def test_third_party_receives_no_customer_login_name_or_email(world: World) -> None:
    with world.factory() as s:
        s.execute(
            update(RetailCustomer).where(RetailCustomer.username == "alice").values(email=EMAIL)
        )
        s.commit()
    # Usage only: no retail customer records in the grant.
    tokens = world.code_tokens(group=["electric", "gas", "billing", "quality"])
    client = world.client_token()
    c = world.client
    received: dict[str, str] = {"token response": str(tokens)}
    received["introspection"] = c.post(
        "/oauth/introspect", data={"token": tokens["access_token"]}, headers=world.basic()
    ).text
    auth_uri = str(tokens["authorizationURI"]).replace(world.settings.base_url, "")
    sub_uri = str(tokens["resourceURI"]).replace(world.settings.base_url, "")
    for name, path, token in (
        ("Authorization feed", world.url("/Authorization"), client),
        ("Authorization entry", auth_uri, client),
        ("Batch/Subscription", sub_uri, tokens["access_token"]),
    ):
        r = c.get(path, headers=_bearer(token))
        assert r.status_code == 200, (name, r.text)
        received[name] = r.text
    bulk = c.post(
        "/oauth/token", data={"grant_type": "client_credentials"}, headers=world.basic()
    ).json()
    r = c.get(
        str(bulk["resourceURI"]).replace(world.settings.base_url, ""), headers=_bearer(client)
    )
    assert r.status_code == 200
    received["Batch/Bulk"] = r.text
    for name, text in received.items():
        for secret in PII:
            assert secret not in text, f"{name} carries {secret!r}"
    with world.factory() as s:
        auth = s.scalars(select(om.Authorization).where(om.Authorization.token_class == "A")).one()
        assert auth.title == f"Solar Helper authorization {auth.id}"
