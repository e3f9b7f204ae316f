"""Settings: validated at start-up, errors that name the variable."""

from __future__ import annotations

import pytest

from gbconnect.config import ConfigError, load_settings


def test_defaults() -> None:
    s = load_settings()
    assert s.database_url.startswith("sqlite")
    assert len(s.secret_key) >= 32
    assert s.resource_base == "/DataCustodian/espi/1_1/resource"


def test_postgres_url_gets_psycopg_driver() -> None:
    s = load_settings(database_url="postgresql://u@h/db")
    assert s.sqlalchemy_url == "postgresql+psycopg://u@h/db"


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"database_url": "mysql://x"}, "GBCONNECT_DATABASE_URL"),
        ({"base_url": "not a url"}, "GBCONNECT_BASE_URL"),
        ({"timezone": "Mars/Olympus"}, "GBCONNECT_TIMEZONE"),
        ({"resource_base": "espi"}, "GBCONNECT_RESOURCE_BASE"),
        (
            {"env": "production", "secret_key": "short", "base_url": "https://x.example"},
            "GBCONNECT_SECRET_KEY",
        ),
        ({"env": "production", "secret_key": "k" * 40, "base_url": "http://x.example"}, "https"),
        ({"batch_async_blocks": -1}, "GBCONNECT_BATCH_ASYNC_BLOCKS"),
        ({"batch_retention_days": 0}, "GBCONNECT_BATCH_RETENTION_DAYS"),
        ({"batch_duplicate": "queue"}, "GBCONNECT_BATCH_DUPLICATE"),
        ({"empty_window_204": "perhaps"}, "GBCONNECT_EMPTY_WINDOW_204"),
    ],
)
def test_invalid(overrides: dict[str, object], message: str) -> None:
    with pytest.raises(ConfigError) as info:
        load_settings(**overrides)
    assert message in str(info.value)


def test_asynchronous_batch_defaults_keep_ordinary_requests_synchronous() -> None:
    """GBA's 202 rule is opt-in by size: the default threshold is large, packages are
    kept 7 days, a second request gets the same package and 204 is off."""
    s = load_settings()
    assert s.batch_async_blocks >= 10_000
    assert s.batch_retention_days == 7
    assert s.batch_duplicate == "same"
    assert s.empty_window_204 is False
    assert load_settings(batch_async_blocks=0).batch_async_blocks == 0  # never
