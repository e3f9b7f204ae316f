"""The notification seam holds each event with its transaction (REQ.21 FB_39): released
on commit, dropped on rollback, a savepoint's own events dropped with it."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import Engine, create_engine, select, text
from sqlalchemy.orm import Session

from gbconnect.notify.events import (
    AuthorizationRevoked,
    NewData,
    ThirdPartyStatusChanged,
    from_row,
)
from gbconnect.notify.models import NotifyEvent
from gbconnect.notify.outbox import pending, publish, recorded, subscribe


@pytest.fixture
def engine() -> Iterator[Engine]:
    engine = create_engine("sqlite://")
    NotifyEvent.__table__.create(engine)
    yield engine
    engine.dispose()


def test_events_are_released_when_the_transaction_commits(engine: Engine) -> None:
    with recorded() as events, Session(engine) as s:
        s.execute(text("SELECT 1"))
        publish(s, NewData((1, 2)))
        publish(s, AuthorizationRevoked(5, 7, "customer"))
        assert pending(s) == (NewData((1, 2)), AuthorizationRevoked(5, 7, "customer"))
        assert events == []
        s.commit()
        assert pending(s) == ()
    assert events == [NewData((1, 2)), AuthorizationRevoked(5, 7, "customer")]


def test_a_rollback_or_a_close_drops_them(engine: Engine) -> None:
    with recorded() as events:
        with Session(engine) as s:
            s.execute(text("SELECT 1"))
            publish(s, NewData((1,)))
            s.rollback()
            assert pending(s) == ()
            s.execute(text("SELECT 1"))
            publish(s, NewData((2,)))
        with Session(engine) as s:
            s.execute(text("SELECT 1"))
            s.commit()
    assert events == []


def test_a_savepoint_rolled_back_drops_only_its_own(engine: Engine) -> None:
    with recorded() as events, Session(engine) as s:
        s.execute(text("SELECT 1"))
        publish(s, NewData((1,)))
        inner = s.begin_nested()
        publish(s, NewData((2,)))
        inner.rollback()
        kept = s.begin_nested()
        publish(s, NewData((3,)))
        kept.commit()
        assert events == []  # a released savepoint is not a commit
        s.commit()
    assert events == [NewData((1,)), NewData((3,))]


def test_a_failing_listener_does_not_stop_the_others(engine: Engine) -> None:
    def broken(_: object) -> None:
        raise RuntimeError("listener down")

    unsubscribe = subscribe(broken)
    try:
        with recorded() as events, Session(engine) as s:
            publish(s, ThirdPartyStatusChanged(1, 2, 3))
            s.commit()
    finally:
        unsubscribe()
    assert events == [ThirdPartyStatusChanged(1, 2, 3)]


def test_each_event_is_written_in_the_transaction_that_published_it(engine: Engine) -> None:
    """The outbox row commits with the change or not at all (a crash after the commit
    loses nothing; a rollback leaves no row)."""
    with Session(engine) as s:
        s.execute(text("SELECT 1"))
        publish(s, NewData((3, 4)))
        inner = s.begin_nested()
        publish(s, AuthorizationRevoked(1, 2, "customer"))
        inner.rollback()
        publish(s, ThirdPartyStatusChanged(9, 2, 3))
        s.commit()
        publish(s, NewData((5,)))
        s.rollback()
    with Session(engine) as s:
        rows = s.scalars(select(NotifyEvent).order_by(NotifyEvent.id)).all()
        assert [from_row(r.kind, r.payload) for r in rows] == [
            NewData((3, 4)),
            ThirdPartyStatusChanged(9, 2, 3),
        ]
        assert all(r.expanded_at is None and r.created_at > 0 for r in rows)
