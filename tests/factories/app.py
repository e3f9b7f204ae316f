"""The application in-process, on a given database, with a test client."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from fastapi.testclient import TestClient
from sqlalchemy import Engine

from gbconnect.app import create_app
from gbconnect.config import Settings, load_settings

SECRET_KEY = "k" * 40


def make_settings(database_url: str) -> Settings:
    """Development settings on ``database_url`` with a fixed secret key."""
    return load_settings(database_url=database_url, secret_key=SECRET_KEY)


@contextmanager
def app_client(settings: Settings, engine: Engine) -> Iterator[TestClient]:
    """A client of the application on ``engine``, started (lifespan) until the block
    ends."""
    with TestClient(create_app(settings, engine)) as client:
        yield client
