"""The customer's Download My Data page (Green Button Download My Data; REQ.21 ESPI):
the XML is the API's Batch/RetailCustomer feed for the same customer and period,
schema-valid; the CSV imports back to the same readings; services and dates filter;
every refusal is a page, never a 500. On SQLite and PostgreSQL (the ``world``)."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
from lxml import etree
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from gbconnect.customer.models import RetailCustomer
from gbconnect.espi.validate import SchemaSet
from gbconnect.ingest.services import ingest_file
from gbconnect.usage import blocks
from gbconnect.usage import models as um
from tests.factories.world import TODAY, ZONE, World

NS = {"a": "http://www.w3.org/2005/Atom", "e": "http://naesb.org/espi"}
Readings = dict[int, list[tuple[int, int, int | None]]]


@pytest.fixture
def dmd(world: World) -> World:
    """The world, its application serving the Download My Data page, alice signed in."""
    world.login()
    return world


def customer_id(world: World, username: str = "alice") -> int:
    with world.factory() as s:
        found = s.scalar(select(RetailCustomer.id).where(RetailCustomer.username == username))
        assert found is not None
        return found


def readings(factory: sessionmaker[Session], username: str) -> Readings:
    """(start, value, cost) of every stored reading of ``username``, by service kind."""
    out: Readings = {}
    with factory() as s:
        rows = s.execute(
            select(um.UsagePoint.service_kind, um.IntervalBlock.data)
            .join(um.MeterReading, um.MeterReading.usage_point_id == um.UsagePoint.id)
            .join(um.IntervalBlock, um.IntervalBlock.meter_reading_id == um.MeterReading.id)
            .join(RetailCustomer, RetailCustomer.id == um.UsagePoint.retail_customer_id)
            .where(RetailCustomer.username == username)
        ).all()
    for kind, data in rows:
        r = blocks.decode(data)
        costs = r.costs or [None] * len(r)
        out.setdefault(kind, []).extend(zip(r.starts, r.values, costs, strict=True))  # type: ignore[arg-type]
    return {k: sorted(v) for k, v in out.items()}


def entries(body: bytes) -> list[bytes]:
    """The feed's entries, canonical (the feed's own ``updated`` is when it was made)."""
    doc = etree.fromstring(body)
    return [etree.tostring(e, method="c14n") for e in doc.findall("a:entry", NS)]


def api_feed(world: World, rcid: int, lo: int | None = None, hi: int | None = None) -> bytes:
    params = {}
    if lo is not None:
        params["published-min"] = str(lo)
    if hi is not None:
        params["published-max"] = str(hi)
    r = world.client.get(
        world.url(f"/Batch/RetailCustomer/{rcid}/UsagePoint"),
        params=params,
        headers={"Authorization": f"Bearer {world.admin_token}"},
    )
    assert r.status_code == 200, r.text
    return bytes(r.content)


def local_midnight(day: date) -> int:
    return int(datetime.combine(day, time(), tzinfo=ZONE).timestamp())


def a_day(offset: int) -> date:
    """A local day ``offset`` days before the last day of data."""
    return datetime.fromtimestamp(TODAY, ZONE).date() - timedelta(days=offset)


def test_the_form_offers_every_service_ticked(dmd: World) -> None:
    r = dmd.client.get("/account/download")
    assert r.status_code == 200
    page = r.text
    for up in dmd.alice_points:
        assert f'name="service" value="{up}" checked' in page
    for up in dmd.bob_points:
        assert f'value="{up}"' not in page
    assert "Electricity · Home electric" in page and "Natural gas · Home gas" in page
    assert "<legend>Which services</legend>" in page and '<label for="from">' in page
    assert 'name="format" value="xml" checked' in page
    assert 'action="/account/download/file"' in page


def test_xml_is_the_api_feed_and_schema_valid(dmd: World, schemas: Path) -> None:
    rcid = customer_id(dmd)
    services = [("service", str(up)) for up in dmd.alice_points]
    r = dmd.client.get("/account/download/file", params=[*services, ("format", "xml")])
    assert r.status_code == 200, r.text
    assert r.headers["content-type"].startswith("application/atom+xml")
    disposition = r.headers["content-disposition"]
    assert disposition.startswith("attachment;") and 'filename="GreenButton_alice_' in disposition
    assert disposition.endswith('.xml"') and r.headers["cache-control"] == "no-store"
    SchemaSet(schemas).schema.assertValid(etree.fromstring(r.content))
    whole = entries(r.content)
    assert len(whole) > 40 and whole == entries(api_feed(dmd, rcid))

    first, last = a_day(10), a_day(8)
    r = dmd.client.get(
        "/account/download/file",
        params=[*services, ("format", "xml"), ("from", str(first)), ("to", str(last))],
    )
    assert r.status_code == 200
    SchemaSet(schemas).schema.assertValid(etree.fromstring(r.content))
    lo, hi = local_midnight(first), local_midnight(last + timedelta(days=1))
    window = entries(r.content)
    assert window == entries(api_feed(dmd, rcid, lo, hi)) and len(window) < len(whole)
    doc = etree.fromstring(r.content)
    found = doc.xpath("//e:IntervalReading/e:timePeriod/e:start/text()", namespaces=NS)
    assert isinstance(found, list)
    starts = [int(str(t)) for t in found]
    assert starts and all(lo <= s < hi for s in starts)


def test_csv_imports_back_to_the_same_readings(dmd: World, tmp_path: Path) -> None:
    r = dmd.client.get(
        "/account/download/file", params={"format": "csv", "service": dmd.alice_points}
    )
    assert r.status_code == 200, r.text
    assert r.headers["content-type"].startswith("text/csv")
    assert r.headers["content-disposition"].endswith('.csv"')
    path = tmp_path / "alice.csv"
    path.write_bytes(r.content)
    ingest_file(dmd.factory, path, "alice-copy", ZONE)
    original = readings(dmd.factory, "alice")
    assert original and readings(dmd.factory, "alice-copy") == original


def test_services_filter(dmd: World, tmp_path: Path) -> None:
    electric, gas = dmd.alice_points[:2]
    r = dmd.client.get("/account/download/file", params={"format": "csv", "service": gas})
    assert r.status_code == 200
    rows = r.text.strip().splitlines()[1:]
    assert rows and all(",therm," in row for row in rows)
    path = tmp_path / "gas.csv"
    path.write_bytes(r.content)
    ingest_file(dmd.factory, path, "gas-copy", ZONE)
    original = readings(dmd.factory, "alice")
    assert readings(dmd.factory, "gas-copy") == {1: original[1]}

    r = dmd.client.get("/account/download/file", params={"format": "xml", "service": electric})
    doc = etree.fromstring(r.content)
    kinds = doc.xpath("//e:UsagePoint/e:ServiceCategory/e:kind/text()", namespaces=NS)
    assert kinds == ["0"]


def test_dates_filter(dmd: World) -> None:
    day = a_day(5)
    r = dmd.client.get(
        "/account/download/file",
        params={"format": "csv", "service": dmd.alice_points, "from": str(day), "to": str(day)},
    )
    assert r.status_code == 200
    assert f"_{day}_{day}.csv" in r.headers["content-disposition"]
    lo, hi = local_midnight(day), local_midnight(day + timedelta(days=1))
    expected = sum(
        1 for kind in readings(dmd.factory, "alice").values() for s, _, _ in kind if lo <= s < hi
    )
    rows = r.text.strip().splitlines()[1:]
    assert len(rows) == expected and expected >= 92  # a local day of 15-minute readings
    for row in rows:
        stamp = datetime.fromisoformat(row.split(",")[1].replace("Z", "+00:00"))
        assert lo <= stamp.timestamp() < hi

    # Only a start: from that day on; only an end: up to and including it.
    since = dmd.client.get(
        "/account/download/file",
        params={"format": "csv", "service": dmd.alice_points, "from": str(day)},
    )
    until = dmd.client.get(
        "/account/download/file",
        params={"format": "csv", "service": dmd.alice_points, "to": str(day)},
    )
    whole = dmd.client.get(
        "/account/download/file", params={"format": "csv", "service": dmd.alice_points}
    )
    n = [len(x.text.strip().splitlines()) - 1 for x in (since, until, whole)]
    assert n[0] + n[1] - len(rows) == n[2]


def test_signed_out_goes_to_sign_in_and_back(world: World) -> None:
    for url in (
        "/account/download",
        f"/account/download/file?service={world.alice_points[0]}&format=csv",
    ):
        r = world.client.get(url, follow_redirects=False)
        assert r.status_code == 303
        location = urlsplit(r.headers["location"])
        assert location.path == "/login"
        back = parse_qs(location.query)["next"][0]
        assert back.startswith("/account/download")
        assert "/file" not in back
    world.login()
    r = world.client.get(back)
    assert r.status_code == 200 and "Download my data" in r.text


@pytest.mark.parametrize("service", ["bob", "999999", "abc", "-1", "99999999999999999999999", "١"])
def test_someone_elses_or_unknown_service_is_not_found(dmd: World, service: str) -> None:
    value = str(dmd.bob_points[0]) if service == "bob" else service
    for extra in ([], [("service", str(dmd.alice_points[0]))]):
        r = dmd.client.get(
            "/account/download/file", params=[*extra, ("service", value), ("format", "xml")]
        )
        assert r.status_code == 404
        assert "There is no such service" in r.text and "bob" not in r.text
        assert "<feed" not in r.text


@pytest.mark.parametrize(
    ("params", "sentence", "kept"),
    [
        ({"from": "2024-05-10", "to": "2024-05-01"}, "is after the end date", 'value="2024-05-10"'),
        ({"from": "10/05/2024"}, "could not read the start date", 'value="10/05/2024"'),
        ({"to": "2024-02-30"}, "could not read the end date", 'value="2024-02-30"'),
        ({"from": "0001-01-01"}, "between 1900 and 2999", 'value="0001-01-01"'),
        ({"format": "pdf", "to": "2024-05-03"}, "Choose one of the formats", 'value="2024-05-03"'),
    ],
)
def test_a_choice_to_correct_is_the_form_again(
    dmd: World, params: dict[str, str], sentence: str, kept: str
) -> None:
    gas = dmd.alice_points[1]
    r = dmd.client.get("/account/download/file", params={"format": "csv", "service": gas, **params})
    assert r.status_code == 400
    assert sentence in r.text and 'role="alert"' in r.text and kept in r.text
    assert f'value="{gas}" checked' in r.text
    assert f'value="{dmd.alice_points[0]}" checked' not in r.text
    assert 'aria-invalid="true"' in r.text


def test_no_service_chosen_is_the_form_again(dmd: World) -> None:
    r = dmd.client.get("/account/download/file", params={"format": "csv", "to": "2024-05-03"})
    assert r.status_code == 400 and "Choose at least one service" in r.text
    assert 'value="2024-05-03"' in r.text


def test_a_customer_without_services_sees_so(dmd: World) -> None:
    from gbconnect.customer.services import create_customer

    with dmd.factory() as s:
        create_customer(s, "carol", "correct horse battery")
        s.commit()
    dmd.client.cookies.clear()
    dmd.login("carol")
    r = dmd.client.get("/account/download")
    assert r.status_code == 200 and "no services yet" in r.text
    r = dmd.client.get("/account/download/file", params={"format": "csv"})
    assert r.status_code == 400


def test_the_file_streams_and_gives_its_slot_back(dmd: World) -> None:
    """Streamed like an API feed (no length known beforehand), in one of the feed
    slots, released once the last byte is sent."""
    streams = dmd.client.app.state.responder.streams  # type: ignore[attr-defined]
    with dmd.client.stream(
        "GET", "/account/download/file", params={"format": "xml", "service": dmd.alice_points}
    ) as r:
        assert r.status_code == 200 and "content-length" not in r.headers
        size = sum(len(chunk) for chunk in r.iter_bytes())
    assert size > 256 * 1024  # more than one chunk of gbconnect.web.serving.CHUNK
    assert streams.borrowed_tokens == 0
