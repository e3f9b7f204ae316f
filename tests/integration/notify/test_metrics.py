"""The notification jobs on /metrics, read from the database at scrape time (REQ.21
FB_39, GBA PSH004), on SQLite and PostgreSQL; a database that fails leaves out only
what it could not give."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest
from prometheus_client import CollectorRegistry, Gauge, generate_latest
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy.orm import Session, sessionmaker

from gbconnect.db import Base, make_engine, make_sessionmaker
from gbconnect.notify.metrics import register_metrics
from gbconnect.notify.models import CANCELLED, DEAD, DELIVERED, QUEUED, Notification
from tests.factories.app import make_settings
from tests.factories.notifications import make_application, make_attempt, make_job

NOW = 2_000_000.0

Samples = dict[tuple[str, tuple[tuple[str, str], ...]], float]


def _scrape(registry: CollectorRegistry) -> Samples:
    text = generate_latest(registry).decode()
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def _by_label(samples: Samples, wanted: str) -> dict[str, float]:
    """The samples of family ``wanted`` by the value of their one label."""
    return {labels[0][1]: value for (name, labels), value in samples.items() if name == wanted}


def _notification_names(samples: Samples) -> set[str]:
    return {name for name, _ in samples if name.startswith("gbconnect_notification")}


def test_the_families_say_what_the_database_holds(
    db_url: str, factory: sessionmaker[Session]
) -> None:
    registry = CollectorRegistry()
    unregister = register_metrics(factory, registry, clock=lambda: NOW)
    empty = _scrape(registry)
    assert empty[("gbconnect_notifications", (("state", QUEUED),))] == 0
    assert empty[("gbconnect_notification_oldest_queued_age_seconds", ())] == 0
    assert empty[("gbconnect_notification_attempts", (("outcome", "dead"),))] == 0

    with factory() as s:
        app_id, _ = make_application(s, make_settings(db_url), "Solar Helper")
        make_job(s, app_id, created_at=NOW - 120)
        make_job(s, app_id, created_at=NOW - 20)
        dead = make_job(s, app_id, state=DEAD, created_at=NOW - 9000)
        delivered = make_job(s, app_id, state=DELIVERED, created_at=NOW - 500)
        make_job(s, app_id, state=CANCELLED)
        make_attempt(s, dead, NOW - 5000, "retry", 503, "HTTP 503")  # before the hour
        make_attempt(s, dead, NOW - 100, "retry", 503, "HTTP 503")
        make_attempt(s, dead, NOW - 50, "dead", 404, "HTTP 404")
        make_attempt(s, delivered, NOW - 400, "delivered", 200)
        s.commit()

    got = _scrape(registry)
    assert _by_label(got, "gbconnect_notifications") == {
        QUEUED: 2,
        DELIVERED: 1,
        DEAD: 1,
        CANCELLED: 1,
    }
    assert got[("gbconnect_notification_oldest_queued_age_seconds", ())] == 120
    assert _by_label(got, "gbconnect_notification_attempts") == {
        "delivered": 1,
        "retry": 1,
        "dead": 1,
    }

    unregister()
    unregister()  # twice is harmless
    assert _notification_names(_scrape(registry)) == set()


def test_registering_again_replaces_the_earlier_collector(
    factory: sessionmaker[Session], tmp_path: Path
) -> None:
    """A second application in the same process (tests build many) takes over the
    families instead of failing on duplicate names; the first one's unregister then
    leaves the second's in place."""
    registry = CollectorRegistry()
    broken = make_engine(f"sqlite:///{tmp_path / 'missing' / 'gone.db'}")
    try:
        first = register_metrics(make_sessionmaker(broken), registry, clock=lambda: NOW)
        second = register_metrics(factory, registry, clock=lambda: NOW)
        first()
        assert _scrape(registry)[("gbconnect_notifications", (("state", DEAD),))] == 0
        second()
        assert _notification_names(_scrape(registry)) == set()
    finally:
        broken.dispose()


def test_a_database_error_leaves_out_only_what_it_could_not_read(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """Only the notification table exists: the attempts family is left out, logged,
    and the rest of /metrics is served."""
    engine = make_engine(f"sqlite:///{tmp_path / 'partial.db'}")
    try:
        Base.metadata.create_all(engine, tables=[Notification.__table__])  # type: ignore[list-item]
        registry = CollectorRegistry()
        Gauge("gbconnect_other", "Another metric of the process.", registry=registry).set(7)
        register_metrics(make_sessionmaker(engine), registry, clock=lambda: NOW)
        with caplog.at_level(logging.ERROR, logger="gbconnect.notify.metrics"):
            got = _scrape(registry)
    finally:
        engine.dispose()
    assert got[("gbconnect_other", ())] == 7
    assert _notification_names(got) == {
        "gbconnect_notifications",
        "gbconnect_notification_oldest_queued_age_seconds",
    }
    assert "gbconnect_notification_attempts left out of this scrape" in caplog.text


def test_an_unreachable_database_does_not_break_the_scrape(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """Registering reads nothing; a scrape without a database serves everything else."""
    engine = make_engine(f"sqlite:///{tmp_path / 'missing' / 'gone.db'}")
    try:
        registry = CollectorRegistry()
        Gauge("gbconnect_other", "Another metric of the process.", registry=registry).set(3)
        register_metrics(make_sessionmaker(engine), registry)
        with caplog.at_level(logging.ERROR, logger="gbconnect.notify.metrics"):
            got = _scrape(registry)
    finally:
        engine.dispose()
    assert got[("gbconnect_other", ())] == 3
    assert _notification_names(got) == set()
    assert "notification metrics" in caplog.text
