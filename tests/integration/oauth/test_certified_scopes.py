"""The certified scope strings of real Data Custodians (STANDARD.md section 5) under the
default configuration: a third party registers with each and gets it, is authorized
with it, and the metadata advertises FB_36, FB_38 and FB_39 (REQ.21 section 5)."""

from __future__ import annotations

from typing import Any

import pytest

from gbconnect.config import Settings
from gbconnect.espi import blocks as fb
from gbconnect.espi import scope as espi_scope
from gbconnect.oauth.clients import register
from tests.factories.world import REDIRECT, World
from tests.integration.oauth.test_registration import METADATA, bearer, invite

PGE = "FB=1_3_4_5_8_10_13_14_16_18_19_31_32_35_37_38_39_40_46_47"
UTILITYAPI = "FB=1_3_4_5_6_7_8_9_13_14_15_16_17_27_28_35_37_39_40"
CERTIFIED = {"pge": PGE, "utilityapi": UTILITYAPI}


@pytest.mark.parametrize("utility", sorted(CERTIFIED))
def test_certified_scope_registers_under_the_default_configuration(
    world: World, utility: str
) -> None:
    certified = CERTIFIED[utility]
    assert Settings().function_blocks == world.settings.function_blocks
    metadata: dict[str, Any] = {**METADATA, "scope": certified}
    r = world.client.post("/oauth/register", json=metadata, headers=bearer(invite(world)))
    assert r.status_code == 201, r.text
    assert r.json()["scope"] == certified


def test_pge_scope_with_older_customer_numbers_is_authorized(world: World) -> None:
    with world.factory() as s:
        done = register(
            s,
            world.settings,
            name="PGE Certified",
            redirect_uris=[REDIRECT],
            scopes=[PGE],
            approve=True,
        )
        s.commit()
        assert done.client_secret is not None
        client_id, secret = done.application.client_id, done.client_secret
    world.client_id, world.client_secret = client_id, secret
    tokens = world.code_tokens(url=world.authorize_url(client_id=client_id, scope=PGE))
    assert tokens["scope"] == PGE
    # FB_46/47 grant the retail customer records FB_51/57 grant.
    sub = str(tokens["resourceURI"]).rsplit("/", 1)[1]
    r = world.client.get(
        world.url(f"/Batch/RetailCustomer/{sub}"), headers=bearer(tokens["access_token"])
    )
    assert r.status_code == 200 and "CustomerAccount" in r.text


def test_metadata_offers_registration_on_demand_and_push(world: World) -> None:
    meta = world.client.get("/.well-known/oauth-authorization-server").json()
    offered = set(meta["espi_function_blocks_supported"])
    assert {36, 38, 39} <= offered
    for certified in CERTIFIED.values():
        asked = espi_scope.parse(certified).function_blocks
        assert fb.not_offered(asked, frozenset(offered)) == []
