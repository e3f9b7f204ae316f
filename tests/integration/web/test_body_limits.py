"""Request body limits (gbconnect.web.limits): 413 with the usual error body, whether
``Content-Length`` announces the size or a chunked body grows past the limit; the
upload's limit is GBCONNECT_MAX_BODY_BYTES, forms and other bodies have small ones."""

from __future__ import annotations

from collections.abc import Iterator

from sqlalchemy import Engine, func, select

from gbconnect.config import load_settings
from gbconnect.customer.models import RetailCustomer
from gbconnect.usage.models import UsagePoint
from tests.factories.app import SECRET_KEY, app_client
from tests.factories.world import World

BROWSER = {"Accept": "text/html"}
LIMIT = 4096


def chunks(total: int, size: int = 1024) -> Iterator[bytes]:
    """A body without Content-Length (chunked), ``total`` bytes in ``size`` pieces."""
    sent = 0
    while sent < total:
        yield b"<" * min(size, total - sent)
        sent += size


def _alice(world: World) -> int:
    with world.factory() as s:
        return s.scalars(select(RetailCustomer.id).where(RetailCustomer.username == "alice")).one()


def _points(world: World) -> int:
    with world.factory() as s:
        return int(s.scalar(select(func.count()).select_from(UsagePoint)) or 0)


def test_upload_beyond_max_body_bytes_is_413(world: World, engine: Engine) -> None:
    settings = load_settings(
        database_url=world.settings.database_url, secret_key=SECRET_KEY, max_body_bytes=LIMIT
    )
    url = world.url(f"/Batch/RetailCustomer/{_alice(world)}/UsagePoint")
    token = {"Authorization": f"Bearer {world.upload_token}", "Content-Type": "application/xml"}
    before = _points(world)
    with app_client(settings, engine) as client:
        r = client.post(url, content=b"<" * (LIMIT + 1), headers=token)
        assert r.status_code == 413
        assert r.json()["error"] == "invalid_request" and "4 KiB" in r.json()["error_description"]
        r = client.post(url, content=chunks(LIMIT * 3), headers=token)
        assert r.status_code == 413 and r.json()["error"] == "invalid_request"
    assert _points(world) == before


def test_default_upload_limit_is_64_mib(world: World) -> None:
    assert world.settings.max_body_bytes == 64 * 1024 * 1024


def test_oversized_form_is_413_page_for_a_browser(world: World) -> None:
    body = "username=alice&password=" + "x" * 70_000
    form = {"Content-Type": "application/x-www-form-urlencoded", **BROWSER}
    r = world.client.post("/login", content=body, headers=form)
    assert r.status_code == 413 and "text/html" in r.headers["content-type"]
    assert "larger than 64 KiB" in r.text and "Traceback" not in r.text
    r = world.client.post("/login", content=chunks(70_000), headers=form)
    assert r.status_code == 413 and "larger than 64 KiB" in r.text


def test_oversized_token_request_is_413_json(world: World) -> None:
    form = {"Content-Type": "application/x-www-form-urlencoded"}
    r = world.client.post("/oauth/token", content="grant_type=" + "x" * 70_000, headers=form)
    assert r.status_code == 413 and r.json()["error"] == "invalid_request"
    r = world.client.post("/oauth/token", content=chunks(70_000), headers=form)
    assert r.status_code == 413 and r.json()["error"] == "invalid_request"


def test_oversized_json_registration_is_413(world: World) -> None:
    kind = {"Content-Type": "application/json"}
    r = world.client.post("/oauth/register", content=chunks(2 << 20, 65536), headers=kind)
    assert r.status_code == 413 and r.json()["error"] == "invalid_request"
