"""Ids in ESPI paths (issue 15 item 1): an id the store cannot hold, or that is not a
number, is answered like an unknown resource (404, the API's JSON body, no echo of the
input or of parameter names), with or without a token, and the connection stays
usable; any other path under the resource base is the same JSON 404."""

from __future__ import annotations

import httpx
import pytest

from tests.factories.world import World

BAD_IDS = [str(2**63), str(2**64), "-1", "abc", "1e3", "9" * 40]

TEMPLATES = [
    "/Subscription/{x}",
    "/Subscription/{x}/UsagePoint",
    "/Subscription/1/UsagePoint/{x}",
    "/Subscription/1/UsagePoint/1/MeterReading/{x}",
    "/Subscription/1/UsagePoint/1/MeterReading/1/IntervalBlock/{x}",
    "/Subscription/{x}/UsagePoint/1/MeterReading/1/IntervalBlock/1",
    "/Subscription/1/UsagePoint/{x}/UsageSummary",
    "/Subscription/1/UsagePoint/1/UsageSummary/{x}",
    "/Subscription/1/UsagePoint/1/ElectricPowerQualitySummary/{x}",
    "/Batch/Subscription/{x}",
    "/Batch/Subscription/1/UsagePoint/{x}",
    "/Batch/Bulk/{x}",
    "/Batch/RetailCustomer/{x}/UsagePoint",
    "/Batch/RetailCustomer/1/UsagePoint/{x}",
    "/Batch/RetailCustomer/{x}",
    "/Batch/BulkRetailCustomerInfo/{x}",
    "/Authorization/{x}",
    "/ApplicationInformation/{x}",
    "/ReadingType/{x}",
    "/LocalTimeParameters/{x}",
    "/Customer/{x}",
    "/Customer/1/CustomerAgreement/{x}",
    "/UsagePoint/{x}",
    "/MeterReading/{x}",
    "/IntervalBlock/{x}",
]

WRITABLE = ["/Authorization/{x}", "/ApplicationInformation/{x}", "/UsagePoint/{x}"]


def _tokens(world: World) -> dict[str, str | None]:
    return {"none": None, "admin": world.admin_token, "client": world.client_token()}


def _assert_unknown(r: httpx.Response, bad: str) -> None:
    assert r.status_code == 404, (r.request.url, r.status_code, r.text)
    assert r.json() == {"error": "not_found", "error_description": "no such resource"}
    assert bad not in r.text


@pytest.mark.parametrize("bad", BAD_IDS)
def test_id_outside_the_store_or_not_numeric_is_404(world: World, bad: str) -> None:
    for token in _tokens(world).values():
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        for template in TEMPLATES:
            path = world.url(template.replace("{x}", bad))
            _assert_unknown(world.client.get(path, headers=headers), bad)
        for method in ("PUT", "DELETE"):
            for template in (
                "/Authorization/{x}",
                "/ApplicationInformation/{x}",
                "/UsagePoint/{x}",
            ):
                path = world.url(template.replace("{x}", bad))
                _assert_unknown(world.client.request(method, path, headers=headers), bad)
        path = world.url(f"/Batch/RetailCustomer/{bad}/UsagePoint")
        _assert_unknown(world.client.post(path, headers=headers, content=b"<x/>"), bad)


def test_id_beyond_int64_keeps_the_connection_usable(world: World) -> None:
    headers = {"Authorization": f"Bearer {world.admin_token}"}
    client = world.client
    r = client.get(world.url(f"/UsagePoint/{2**63}"), headers=headers)
    assert r.status_code == 404 and "connection" not in r.headers
    again = client.get(world.url("/ReadServiceStatus"), headers=headers)
    assert again.status_code == 200


def test_largest_id_is_an_unknown_resource(world: World) -> None:
    headers = {"Authorization": f"Bearer {world.admin_token}"}
    r = world.client.get(world.url(f"/UsagePoint/{2**63 - 1}"), headers=headers)
    assert r.status_code == 404 and r.json()["error"] == "not_found"


def test_unknown_path_under_the_resource_base_is_the_api_404(world: World) -> None:
    for path in ("/NoSuchThing", "/Subscription", "/Subscription/1/Nothing", "/"):
        r = world.client.get(world.url(path))
        assert r.status_code == 404
        assert r.json() == {"error": "not_found", "error_description": "no such resource"}


def test_known_path_with_another_method_is_405(world: World) -> None:
    r = world.client.post(world.url("/ReadServiceStatus"))
    assert r.status_code == 405 and r.headers["allow"] == "GET"
    assert r.json()["error"] == "method_not_allowed"


# oauth/routes.py serves one handler on several methods of /oauth/register/{client_id}.
@pytest.mark.filterwarnings("ignore:Duplicate Operation ID configure_client")
def test_openapi_names_the_ids_as_integers(world: World) -> None:
    r = world.client.get("/openapi.json")
    assert r.status_code == 200
    paths = r.json()["paths"]
    entry = paths[world.url("/Batch/Subscription/{sid}")]["get"]
    assert [p["name"] for p in entry["parameters"] if p["in"] == "path"] == ["sid"]
