"""A customer.xsd Customer's phone becomes the phone on the retail customer's account
when it has none (guest access); one already there stays. SQLite and PostgreSQL."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker

from gbconnect.customer.models import RetailCustomer
from gbconnect.ingest.services import ingest_file
from tests.factories.world import ZONE


def _feed(phone: str) -> str:
    return (
        '<feed xmlns="http://www.w3.org/2005/Atom"><id>urn:uuid:1</id>\n'
        '<entry><link rel="self" href="https://utility.example/espi/RetailCustomer/7/Customer/1"/>'
        '<content><Customer xmlns="http://naesb.org/espi/customer">'
        f"<Organisation><phone1>{phone}</phone1></Organisation>"
        "<kind>residential</kind></Customer></content></entry>\n</feed>\n"
    )


def test_the_customer_phone_fills_an_empty_phone(
    tmp_path: Path, factory: sessionmaker[Session]
) -> None:
    path = tmp_path / "customer.xml"
    path.write_text(_feed("<areaCode>415</areaCode><localNumber>555-0123</localNumber>"))
    ingest_file(factory, path, "alice", ZONE)
    with factory() as s:
        assert s.scalar(select(RetailCustomer.phone)) == "+14155550123"
        s.execute(update(RetailCustomer).values(phone="+12125550100"))
        s.commit()
    ingest_file(factory, path, "alice", ZONE)
    with factory() as s:
        assert s.scalar(select(RetailCustomer.phone)) == "+12125550100"
