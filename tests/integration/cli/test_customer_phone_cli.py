"""``gbconnect customer create --phone`` keeps the phone in E.164 and refuses junk in
one line; the demo gives its customers phones and names an account for guest access.
SQLite and PostgreSQL."""

from __future__ import annotations

from sqlalchemy import Engine, select
from sqlalchemy.orm import Session, sessionmaker

from gbconnect.cli.serve import _demo_guest
from gbconnect.customer.models import RetailCustomer
from tests.clirun import run_cli
from tests.factories.records import add_customer_records
from tests.factories.usage import empty_usage_point


def test_customer_create_phone(db_url: str, factory: sessionmaker[Session]) -> None:
    done = run_cli(
        db_url, "customer", "create", "dana", "--password", "long enough pass",
        "--phone", "(415) 555-0123",
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    with factory() as s:
        phone = s.scalar(select(RetailCustomer.phone).where(RetailCustomer.username == "dana"))
        assert phone == "+14155550123"
    bad = run_cli(
        db_url, "customer", "create", "erin", "--password", "long enough pass", "--phone", "12"
    )
    assert bad.returncode != 0 and "too short" in bad.stderr and "Traceback" not in bad.stderr


def test_the_demo_names_an_account_for_guest_access(
    engine: Engine, factory: sessionmaker[Session]
) -> None:
    with factory() as s:
        for name, password in (("aaron", "x" * 40), ("beth", None)):
            row = RetailCustomer(username=name, password_hash=password)
            s.add(row)
            s.flush()
            add_customer_records(s, row.id, empty_usage_point(s, row, name).id)
        s.commit()
    assert _demo_guest(engine) == ("4455", "(415) 555-0101")
    with factory() as s:
        phones = s.scalars(select(RetailCustomer.phone).order_by(RetailCustomer.username)).all()
        assert phones == ["+14155550100", "+14155550101"]
