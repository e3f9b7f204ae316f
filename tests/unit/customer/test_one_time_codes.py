"""One-time codes (gbconnect.customer.one_time_codes) on an in-memory database: a
code is bound to its account and purpose, lives ten minutes, and each outcome has
its sentence."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import create_engine
from sqlalchemy.orm import Session

from gbconnect.customer import one_time_codes as codes
from gbconnect.customer.models import OneTimeCode, RetailCustomer

KEY = "k" * 40


@pytest.fixture
def session() -> Iterator[Session]:
    engine = create_engine("sqlite://")
    tables = [RetailCustomer.__table__, OneTimeCode.__table__]
    RetailCustomer.metadata.create_all(engine, tables=tables)  # type: ignore[arg-type]
    with Session(engine) as s:
        s.add_all([RetailCustomer(id=1, username="a"), RetailCustomer(id=2, username="b")])
        s.flush()
        yield s
    engine.dispose()


def test_a_code_is_bound_to_its_account_and_purpose(session: Session) -> None:
    code = codes.issue(session, KEY, 1, "guest", "+14155550123", now=1000.0)
    assert codes.check(session, KEY, 2, "guest", code, now=1001.0).outcome is codes.Outcome.WRONG
    assert codes.check(session, KEY, 1, "phone", code, now=1001.0).outcome is codes.Outcome.WRONG
    assert codes.check(session, "x" * 40, 1, "guest", code, now=1001.0).outcome is (
        codes.Outcome.WRONG
    )
    assert codes.check(session, KEY, 1, "guest", code, now=1001.0).ok


def test_the_lifetime_is_ten_minutes(session: Session) -> None:
    code = codes.issue(session, KEY, 1, "register", "+14155550123", now=0.0)
    late = codes.check(session, KEY, 1, "register", code, now=codes.LIFETIME)
    assert late.outcome is codes.Outcome.EXPIRED


def test_every_outcome_but_ok_has_a_sentence() -> None:
    for outcome in codes.Outcome:
        checked = codes.Checked(outcome)
        assert (checked.message == "") is (outcome is codes.Outcome.OK)
        assert checked.message == "" or checked.message.endswith(".")
    assert "%(count)s" in codes.TOO_MANY_CODES


def test_an_unknown_purpose_is_a_programming_error(session: Session) -> None:
    with pytest.raises(ValueError, match="unknown purpose"):
        codes.issue(session, KEY, 1, "other", "+14155550123")
