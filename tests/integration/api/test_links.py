"""Links lead somewhere (issue 15 item 6): the Authorization's customerResourceURI,
Download My Data's RetailCustomer hrefs, the Customer entry's up link, and the
ServiceLocation's UsagePoints (FB_58). The authorization matrix
(tests/integration/oauth/test_espi_access.py) follows every link of every document."""

from __future__ import annotations

from lxml import etree

from gbconnect.usage.models import UsagePoint
from tests.factories.world import World
from tests.integration.oauth.test_espi_access import NS, bearer, valid

C = {"c": "http://naesb.org/espi/customer", **NS}


def _path(world: World, href: str) -> str:
    return href[href.index(world.settings.resource_base) :]


def test_customer_resource_uri_is_served(world: World) -> None:
    tokens = world.code_tokens()
    customer = bearer(tokens["access_token"])
    auth = world.client.get(
        _path(world, str(tokens["authorizationURI"])), headers=bearer(world.client_token())
    )
    uri = valid(auth.content).findtext(".//e:customerResourceURI", namespaces=NS)
    assert uri is not None and "/Customer/" in uri
    r = world.client.get(_path(world, uri), headers=customer)
    assert r.status_code == 200
    doc = valid(r.content)
    up = doc.find("a:link[@rel='up']", NS)
    assert up is not None
    assert world.client.get(_path(world, str(up.get("href"))), headers=customer).status_code == 200


def test_download_my_data_links_are_served(world: World) -> None:
    with world.factory() as s:
        point = s.get(UsagePoint, world.alice_points[0])
        assert point is not None
        rcid = point.retail_customer_id
    admin = bearer(world.admin_token)
    r = world.client.get(world.url(f"/Batch/RetailCustomer/{rcid}/UsagePoint"), headers=admin)
    doc = valid(r.content)
    hrefs = {
        str(x.get("href"))
        for x in doc.iter("{http://www.w3.org/2005/Atom}link")
        if f"/RetailCustomer/{rcid}/" in str(x.get("href"))
    }
    kinds = {h.rstrip("0123456789/").rsplit("/", 1)[-1] for h in hrefs}
    assert {"UsagePoint", "MeterReading", "IntervalBlock", "UsageSummary"} <= kinds
    for href in sorted(hrefs):
        for token in (world.admin_token, world.upload_token):
            one = world.client.get(_path(world, href), headers=bearer(token))
            assert one.status_code == 200, (href, one.text)
            valid(one.content)
    other = world.client.get(
        world.url(f"/RetailCustomer/{rcid}/UsagePoint/{world.bob_points[0]}"), headers=admin
    )
    assert other.status_code == 404  # bob's usage point is not alice's


def test_service_location_references_its_usage_points(world: World) -> None:
    tokens = world.code_tokens()
    sid = str(tokens["resourceURI"]).rsplit("/", 1)[1]
    customer = bearer(tokens["access_token"])
    r = world.client.get(world.url(f"/Customer/{sid}/ServiceLocation"), headers=customer)
    doc = valid(r.content)
    refs = [str(x.text) for x in doc.iterfind(".//c:ServiceLocation/c:UsagePoints/c:UsagePoint", C)]
    assert refs == [
        world.settings.resource_url(f"Subscription/{sid}/UsagePoint/{world.alice_points[0]}")
    ]
    one = world.client.get(_path(world, refs[0]), headers=customer)
    assert one.status_code == 200
    assert etree.fromstring(one.content).find(".//e:UsagePoint", NS) is not None
