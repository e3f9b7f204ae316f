"""Customer data (customer.xsd, REQ.21 FB_51-71) and the bill (UsageSummary, FB_15)
served by the real app and read by the SDK parser, on SQLite and PostgreSQL."""

from __future__ import annotations

from gbconnect.client import (
    CustomerRecord,
    DataCustodianClient,
    LocalTime,
    MeterReading,
    Reading,
    ReadingType,
    UsagePoint,
    UsageSummary,
    parse,
)
from tests.factories.world import World
from tests.integration.client.conftest import customer_tokens, endpoints_of


def test_batch_retail_customer_gives_customer_records(world: World) -> None:
    tokens = customer_tokens(world)
    assert tokens.resource_uri
    sid = tokens.resource_uri.rsplit("/", 1)[1]
    with DataCustodianClient(endpoints_of(world), tokens, http=world.client) as api:
        body = api.get(f"Batch/RetailCustomer/{sid}")
    assert isinstance(body, bytes)
    records = [i for i in parse(body) if isinstance(i, CustomerRecord)]
    kinds = {r.kind for r in records}
    assert {"Customer", "CustomerAccount", "ServiceLocation"} <= kinds, kinds
    assert all(r.href and r.fields for r in records)


def test_subscription_gives_every_kind_of_record_linked(world: World) -> None:
    tokens = customer_tokens(world)
    with DataCustodianClient(endpoints_of(world), tokens, http=world.client) as api:
        body = api.subscription()
    assert isinstance(body, bytes)
    items = list(parse(body))
    points = [i for i in items if isinstance(i, UsagePoint)]
    summaries = [i for i in items if isinstance(i, UsageSummary)]
    types = {i.href: i for i in items if isinstance(i, ReadingType)}
    meters = [i for i in items if isinstance(i, MeterReading)]
    got = [i for i in items if isinstance(i, Reading)]
    assert {p.service_kind for p in points} == {0, 1}
    assert all(isinstance(p.local_time, LocalTime) for p in points)
    assert all(p.local_time and p.local_time.tz_offset == -28800 for p in points)
    assert all(m.reading_type in types for m in meters)
    assert {p.href for p in points} == {m.usage_point for m in meters}
    assert {r.unit for r in got} == {"Wh", "therm"}
    assert summaries and summaries[0].overall_consumption_last_period == 612000.0
    assert summaries[0].usage_point in {p.href for p in points}
