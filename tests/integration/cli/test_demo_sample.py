"""``gbconnect demo``'s sample third party (gbconnect.cli.sample.demo_sample): registered
once, approved, with the sample app's redirect, notify and portal URIs; a second run
keeps the one registration and gives it a fresh secret."""

from __future__ import annotations

from sqlalchemy import Engine, select
from sqlalchemy.orm import Session, sessionmaker

from gbconnect.cli.sample import DEMO_NAME, demo_sample
from gbconnect.oauth.secrets import matches
from gbconnect.registration import models as rm
from tests.factories.app import make_settings


def test_demo_registers_the_sample_once_and_renews_its_secret(
    db_url: str, engine: Engine, factory: sessionmaker[Session]
) -> None:
    settings = make_settings(db_url)
    first = demo_sample(settings, engine, "127.0.0.1", 8001)
    second = demo_sample(settings, engine, "0.0.0.0", 8001)
    assert first.client_id == second.client_id
    assert first.client_secret != second.client_secret
    assert first.public_url == second.public_url == "http://127.0.0.1:8001"
    assert first.redirect_uri == "http://127.0.0.1:8001/callback"
    assert first.notify_secret and first.notify_secret == second.notify_secret
    assert first.data_custodian == settings.base_url.rstrip("/")
    with factory() as s:
        (app,) = s.scalars(
            select(rm.ApplicationInformation).where(
                rm.ApplicationInformation.client_name == DEMO_NAME
            )
        ).all()
        assert app.data_custodian_status == rm.PRODUCTION
        assert app.redirect_uris == ["http://127.0.0.1:8001/callback"]
        assert app.notify_uri == "http://127.0.0.1:8001/notify"
        assert app.portal_uri == "http://127.0.0.1:8001/start"
        assert matches(second.client_secret, app.client_secret_hash)
        assert not matches(first.client_secret, app.client_secret_hash)


def test_demo_sample_follows_the_port(db_url: str, engine: Engine) -> None:
    settings = make_settings(db_url)
    demo_sample(settings, engine, "127.0.0.1", 8001)
    moved = demo_sample(settings, engine, "127.0.0.1", 9101)
    assert moved.redirect_uri == "http://127.0.0.1:9101/callback"
    assert moved.notify_uri == "http://127.0.0.1:9101/notify"
