"""What the guest access, online account and phone change tests share: the world
served with its text messages written to a folder, alice holding account 4455 with
the phone (415) 555-0123 on file, and reading the codes texted."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, update

from gbconnect.config import load_settings
from gbconnect.customer.models import RetailCustomer
from gbconnect.sms import read_message
from tests.factories.app import SECRET_KEY, app_client
from tests.factories.world import World, _csrf

PHONE = "+14155550123"
ACCOUNT = "4455"


@contextmanager
def texting_world(world: World, engine: Engine, folder: Path, **alice: Any) -> Iterator[World]:
    """``world`` served with its texts in ``folder``; alice's phone on file (and any
    other ``alice`` values)."""
    settings = load_settings(
        database_url=world.settings.database_url, secret_key=SECRET_KEY, sms_dir=folder
    )
    with world.factory() as s:
        s.execute(
            update(RetailCustomer)
            .where(RetailCustomer.username == "alice")
            .values(phone=PHONE, **alice)
        )
        s.commit()
    with app_client(settings, engine) as client:
        yield replace(world, client=client, settings=settings)


def texts(world: World) -> list[dict[str, str]]:
    folder = world.settings.sms_dir
    return [read_message(p) for p in sorted(folder.glob("*.txt"))] if folder.exists() else []


def last_code(world: World) -> str:
    m = re.search(r"\b(\d{6})\b", texts(world)[-1]["text"])
    assert m
    return m.group(1)


def csrf(world: World, path: str) -> str:
    return _csrf(world.client.get(path).text)
