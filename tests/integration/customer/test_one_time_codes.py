"""One-time codes (gbconnect.customer.one_time_codes) on SQLite and PostgreSQL: six
digits, ten minutes, once, five wrong tries, three codes an hour, the newest only."""

from __future__ import annotations

import time

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from gbconnect.customer import one_time_codes as codes
from gbconnect.customer.models import OneTimeCode
from gbconnect.customer.services import create_customer

KEY = "k" * 40
PHONE = "+14155550123"


@pytest.fixture
def carol(factory: sessionmaker[Session]) -> int:
    with factory() as s:
        c = create_customer(s, "carol", None)
        s.commit()
        return c.id


def test_a_code_works_once_and_only_its_hmac_is_kept(
    factory: sessionmaker[Session], carol: int
) -> None:
    with factory() as s:
        code = codes.issue(s, KEY, carol, "guest", PHONE)
        s.commit()
        assert len(code) == 6 and code.isdigit()
        row = s.scalars(select(OneTimeCode)).one()
        assert code not in row.code_hash and len(row.code_hash) == 64
        assert row.phone == PHONE and row.expires - row.created == codes.LIFETIME
    with factory() as s:
        # Another purpose's code is another thing.
        assert codes.check(s, KEY, carol, "register", code).outcome is codes.Outcome.WRONG
        done = codes.check(s, KEY, carol, "guest", f" {code[:3]} {code[3:]} ")
        s.commit()
        assert done.ok and done.phone == PHONE and done.message == ""
    with factory() as s:
        again = codes.check(s, KEY, carol, "guest", code)
        assert again.outcome is codes.Outcome.USED
        assert again.message == "That code was already used. Ask for a new one."


def test_five_wrong_tries_then_the_code_is_dead(factory: sessionmaker[Session], carol: int) -> None:
    with factory() as s:
        code = codes.issue(s, KEY, carol, "guest", PHONE)
        s.commit()
    wrong = "000000" if code != "000000" else "111111"
    for typed in [wrong, "12345", "abcdef", wrong, ""]:
        with factory() as s:
            assert codes.check(s, KEY, carol, "guest", typed).outcome is codes.Outcome.WRONG
            s.commit()
    with factory() as s:
        dead = codes.check(s, KEY, carol, "guest", code)
        assert dead.outcome is codes.Outcome.TOO_MANY_TRIES
        assert "Too many wrong tries" in dead.message


def test_a_code_expires_after_ten_minutes(factory: sessionmaker[Session], carol: int) -> None:
    start = time.time()
    with factory() as s:
        code = codes.issue(s, KEY, carol, "phone", PHONE, now=start)
        s.commit()
    with factory() as s:
        late = codes.check(s, KEY, carol, "phone", code, now=start + codes.LIFETIME + 1)
        assert late.outcome is codes.Outcome.EXPIRED and "expired" in late.message
    with factory() as s:
        assert codes.check(s, KEY, carol, "phone", code, now=start + codes.LIFETIME - 1).ok


def test_a_new_code_voids_the_older_and_three_an_hour_at_most(
    factory: sessionmaker[Session], carol: int
) -> None:
    start = time.time()
    with factory() as s:
        first = codes.issue(s, KEY, carol, "guest", PHONE, now=start)
        second = codes.issue(s, KEY, carol, "guest", PHONE, now=start + 1)
        s.commit()
    with factory() as s:
        if first != second:
            assert not codes.check(s, KEY, carol, "guest", first, now=start + 2).ok
        s.rollback()
        older = s.scalars(select(OneTimeCode).order_by(OneTimeCode.id)).first()
        assert older is not None and older.expires <= start + 1
    with factory() as s:
        codes.issue(s, KEY, carol, "guest", PHONE, now=start + 2)
        with pytest.raises(codes.TooManyCodes) as refused:
            codes.issue(s, KEY, carol, "guest", PHONE, now=start + 3)
        assert "We already sent 3 codes in the last hour" in str(refused.value)
        # Another purpose, or an hour later, is fine.
        codes.issue(s, KEY, carol, "phone", PHONE, now=start + 3)
        codes.issue(s, KEY, carol, "guest", PHONE, now=start + 3601)
        s.commit()


def test_no_code_at_all_is_a_wrong_code(factory: sessionmaker[Session], carol: int) -> None:
    with factory() as s:
        assert codes.check(s, KEY, carol, "guest", "123456").outcome is codes.Outcome.WRONG
