"""The served documents stay byte-identical for the same data (issue: performance).

A world is stored from a fixed seed: resource ids from a seeded generator and a fixed
clock, so that every id, time and href is the same on every run and on both
databases. Each document a third party reads is fetched and its SHA-256 compared with
the digest the request path wrote before it was specialised for speed: a faster path
must write the same bytes (REQ.21 section 1; GBA's schema tests see them).
"""

from __future__ import annotations

import hashlib
import random
import re
import types
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from gbconnect.espi import scope as espi_scope
from gbconnect.oauth import services
from tests.factories.app import app_client, make_settings
from tests.factories.customers import make_customer
from tests.factories.parties import make_third_party
from tests.factories.tokens import client_token, customer_token
from tests.factories.usage import store_usage

#: The fixed clock: 2025-06-01T00:00:00Z, the day after the last reading.
CLOCK = 1748736000
SCOPE = "FB=1_3_4_5_13_14_15_17_39_51_57"
BASE = "/DataCustodian/espi/1_1/resource"


@pytest.fixture
def seeded(monkeypatch: pytest.MonkeyPatch) -> None:
    """Ids from a seeded generator and a clock that stands still."""
    import gbconnect.espi.ids as ids
    import gbconnect.resource as resource

    rng = random.Random(1414)
    monkeypatch.setattr(ids, "secrets", types.SimpleNamespace(randbits=rng.getrandbits))
    monkeypatch.setattr(resource, "time", types.SimpleNamespace(time=lambda: float(CLOCK)))


@pytest.fixture
def served(
    seeded: None, db_url: str, engine: Engine, factory: sessionmaker[Session]
) -> Iterator[tuple[TestClient, dict[str, str]]]:
    """The seeded world served in-process, with the paths and tokens to read it."""
    settings = make_settings(db_url)
    with factory() as session:
        alice = make_customer(session, "alice", name="Alice")
        points = store_usage(session, alice.row, days=12, today=CLOCK)
        party = make_third_party(session, settings)
        auth = services.grant_customer_authorization(
            session,
            settings,
            party.application,
            alice.row,
            services.GrantRequest(
                scope=espi_scope.parse(SCOPE), usage_point_ids=points, end=None, start=0
            ),
        )
        customer = customer_token(session, auth, lifetime=3600)
        client = client_token(session, party.application, lifetime=3600)
        assert auth.subscription is not None
        sid = auth.subscription.id
        session.commit()
        auth_id = auth.id
    with app_client(settings, engine) as http:
        bearer = {"Authorization": f"Bearer {customer}"}

        def first_id(path: str, kind: str) -> str:
            found = re.search(rf'href="[^"]*/{kind}/(\d+)"', http.get(path, headers=bearer).text)
            assert found is not None, (path, kind)
            return found.group(1)

        sub = f"{BASE}/Subscription/{sid}"
        up = f"{sub}/UsagePoint/{points[0]}"
        mr = f"{up}/MeterReading/{first_id(f'{up}/MeterReading', 'MeterReading')}"
        paths = {
            "batch": f"{BASE}/Batch/Subscription/{sid}",
            "usage point feed": f"{sub}/UsagePoint",
            "usage point": up,
            "meter reading feed": f"{up}/MeterReading",
            "meter reading": mr,
            "block feed": f"{mr}/IntervalBlock",
            "block feed, one day": f"{mr}/IntervalBlock"
            "?published-min=2025-05-25T07:00:00Z&published-max=2025-05-26T07:00:00Z",
            "summary feed": f"{up}/UsageSummary",
            "summary": f"{up}/UsageSummary/{first_id(f'{up}/UsageSummary', 'UsageSummary')}",
            "reading types": f"{BASE}/ReadingType",
            "reading type": f"{BASE}/ReadingType/{first_id(mr, 'ReadingType')}",
            "customer": f"{BASE}/Customer/{sid}",
            "customer account": f"{BASE}/Customer/{sid}/CustomerAccount/"
            + first_id(f"{BASE}/Customer/{sid}/CustomerAccount", "CustomerAccount"),
            "authorization": f"{BASE}/Authorization/{auth_id}",
        }
        yield http, {"customer token": customer, "client token": client, **paths}


#: SHA-256 of each document, written by the request path before its fast paths.
DIGESTS: dict[str, str] = {
    "batch": "2e40766132c72aec2e1ba211b45543547dfb74bd1c335665b33f608eaa756e2b",
    "usage point feed": "f33de4160db15dd0919bde743d03877f26deebd934aaac1d25872158823f32ec",
    "usage point": "ecfba482841ad9bb4d9e264e4409fdfbdb81c03a3320fc677401ad1ef61b7dd2",
    "meter reading feed": "6b53d5ac5b25251e68e1c17c68bcdac50a536c7f3f7aa5573d86a8c02da3d06e",
    "meter reading": "794e4f90ec9dfc2a911ff0bf2ab32e36eb85b58ba25f4478e4f7424ebfe88156",
    "block feed": "8732ed5ee93e49a4d258748592790e04f4b6d6ad76870150e55d4784c34ce7ec",
    "block feed, one day": "6bb2ccb67c3aad3cd7ad3f439de14ad140190d3535f5a7a5f8357feaccbfd30b",
    "summary feed": "bef99df98ef65ce7f8bf42c69877611c127651076f646c58b92833b9c2f3f896",
    "summary": "7a324b85da8b16cc6443738ab038f778318610847de2b52664136b652ba30f85",
    "reading types": "4d8302d4b363ac00a4572bb8a57f1a3f62d19cfe3ca12036b8073e3eb951bfe5",
    "reading type": "dfcc20d7a267931affa9ce027e573b2c40f4fbbdb035155c84fce976e47195b0",
    "customer": "af65bd8f30b2a0f54d5a6f9a63075324d2d83ad9c81926b824a48ae69b18ea5f",
    "customer account": "4424bb798959faee92990b76e0c02410b822d5f9fa0afec8f0e59d58b140806e",
    "authorization": "14f1519b9a10c8495f8d1cb5e5ac212b3f9d94873c5fd77ac4205044f9ada2de",
}


@pytest.mark.parametrize("name", sorted(DIGESTS))
def test_document_is_byte_identical(served: tuple[TestClient, dict[str, str]], name: str) -> None:
    http, paths = served
    token = paths["client token" if name == "authorization" else "customer token"]
    r = http.get(paths[name], headers={"Authorization": f"Bearer {token}"})
    assert r.status_code == 200, r.text
    assert hashlib.sha256(r.content).hexdigest() == DIGESTS[name]
