"""customer.xsd resources (REQ.21 retail customer blocks): only with the scope that
grants them, schema-valid for imported and generated records alike."""

from __future__ import annotations

from sqlalchemy import select

from gbconnect.customer.models import RetailCustomer
from gbconnect.espi import scope as espi_scope
from gbconnect.ingest.generator import GeneratorOptions, generate_customers
from gbconnect.oauth import services
from gbconnect.registration.models import ApplicationInformation
from gbconnect.usage.models import UsagePoint
from tests.factories.world import World
from tests.integration.oauth.test_espi_access import NS, bearer, valid

C = {"c": "http://naesb.org/espi/customer", **NS}


def _sid(tokens: dict[str, object]) -> str:
    return str(tokens["resourceURI"]).rsplit("/", 1)[1]


def test_customer_records_need_the_retail_customer_scope(world: World) -> None:
    tokens = world.code_tokens()  # "account" kept
    sid = _sid(tokens)
    token = bearer(tokens["access_token"])
    customer = valid(world.client.get(world.url(f"/Customer/{sid}"), headers=token).content)
    assert customer.findtext(".//c:customerName", namespaces=C) == "Alice Doe"
    related = [x.get("href") for x in customer.iterfind("a:link[@rel='related']", NS)]
    assert len(related) == 4
    accounts = valid(
        world.client.get(world.url(f"/Customer/{sid}/CustomerAccount"), headers=token).content
    )
    assert accounts.findtext(".//c:accountId", namespaces=C) == "4455"
    places = valid(
        world.client.get(world.url(f"/Customer/{sid}/ServiceLocation"), headers=token).content
    )
    assert places.findtext(".//c:townDetail/c:name", namespaces=C) == "Oakland"
    # Without the account group: nothing, as if it did not exist.
    narrow = world.code_tokens(group=["electric"])
    r = world.client.get(
        world.url(f"/Customer/{_sid(narrow)}"), headers=bearer(narrow["access_token"])
    )
    assert r.status_code == 404 and b"Alice" not in r.content


def test_generated_customer_records_are_schema_valid(world: World) -> None:
    generate_customers(world.factory, GeneratorOptions(customers=3, days=2))
    with world.factory() as s:
        app = s.get(ApplicationInformation, world.app_id)
        assert app is not None
        for username in ("customer00000", "customer00001", "customer00002"):
            rc = s.scalars(select(RetailCustomer).where(RetailCustomer.username == username)).one()
            ups = [
                u.id
                for u in s.scalars(select(UsagePoint).where(UsagePoint.retail_customer_id == rc.id))
            ]
            auth = services.grant_customer_authorization(
                s,
                world.settings,
                app,
                rc,
                services.GrantRequest(
                    scope=espi_scope.parse("FB=1_3_4_5_51_57"), usage_point_ids=ups, end=None
                ),
                offline=True,
            )
            assert auth.subscription is not None
            sid = auth.subscription.id
            s.commit()
            for path in (
                "",
                "/CustomerAccount",
                "/CustomerAgreement",
                "/ServiceLocation",
                "/Meter",
            ):
                r = world.client.get(
                    world.url(f"/Customer/{sid}{path}"), headers=bearer(world.admin_token)
                )
                assert r.status_code == 200, (path, r.text)
                valid(r.content)


def _kinds(doc: object) -> list[str]:
    content = "a:entry/a:content/*"
    return [e.tag.split("}")[1] for e in doc.iterfind(content, NS)]  # type: ignore[attr-defined]


def test_batch_retail_customer_is_every_record_of_the_subscription(world: World) -> None:
    tokens = world.code_tokens()
    sid = _sid(tokens)
    token = bearer(tokens["access_token"])
    doc = valid(world.client.get(world.url(f"/Batch/RetailCustomer/{sid}"), headers=token).content)
    kinds = _kinds(doc)
    assert kinds[0] == "Customer"
    assert {"CustomerAccount", "CustomerAgreement", "ServiceLocation", "Meter"} <= set(kinds)
    assert doc.findtext(".//c:customerName", namespaces=C) == "Alice Doe"
    narrow = world.code_tokens(group=["electric"])
    r = world.client.get(
        world.url(f"/Batch/RetailCustomer/{_sid(narrow)}"), headers=bearer(narrow["access_token"])
    )
    assert r.status_code == 404 and b"Alice" not in r.content


def test_bulk_retail_customer_info_for_the_third_party(world: World) -> None:
    tokens = world.code_tokens()
    with world.factory() as s:
        app = s.get(ApplicationInformation, world.app_id)
        assert app is not None
        bulk = app.bulk_id
    client = bearer(world.client_token())
    doc = valid(
        world.client.get(world.url(f"/Batch/BulkRetailCustomerInfo/{bulk}"), headers=client).content
    )
    assert _kinds(doc).count("Customer") == 1
    assert doc.findtext(".//c:customerName", namespaces=C) == "Alice Doe"
    self_links = [x.get("href") for x in doc.iterfind("a:entry/a:link[@rel='self']", NS)]
    assert all(f"/Customer/{_sid(tokens)}" in h for h in self_links)  # type: ignore[operator]
    other = world.client.get(world.url(f"/Batch/BulkRetailCustomerInfo/{bulk + 1}"), headers=client)
    assert other.status_code == 404
    customer = world.client.get(
        world.url(f"/Batch/BulkRetailCustomerInfo/{bulk}"), headers=bearer(tokens["access_token"])
    )
    assert customer.status_code == 403
    # A grant without the account group adds nothing to it.
    world.code_tokens(group=["electric"])  # replaces the grant
    empty = valid(
        world.client.get(world.url(f"/Batch/BulkRetailCustomerInfo/{bulk}"), headers=client).content
    )
    assert _kinds(empty) == []
