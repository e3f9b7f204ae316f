"""Feeds compressed as the client accepts (gbconnect.web.compression), on SQLite and
PostgreSQL: zstd and gzip decode to the identity body byte for byte, streamed feeds
too, and small answers go as they are."""

from __future__ import annotations

import gzip

import pytest
import zstandard

from tests.factories.world import World
from tests.integration.oauth.test_espi_access import bearer


def _raw(world: World, path: str, headers: dict[str, str]) -> tuple[bytes, dict[str, str]]:
    with world.client.stream("GET", world.url(path), headers=headers) as r:
        assert r.status_code == 200, r.read()
        return b"".join(r.iter_raw()), dict(r.headers)


def _batch(world: World) -> tuple[str, dict[str, str]]:
    tokens = world.code_tokens()
    sid = str(tokens["resourceURI"]).rsplit("/", 1)[1]
    return f"/Batch/Subscription/{sid}", bearer(tokens["access_token"])


@pytest.mark.parametrize("coding", ["zstd", "gzip"])
def test_a_feed_decodes_to_the_identity_body(world: World, coding: str) -> None:
    path, token = _batch(world)
    plain, plain_headers = _raw(world, path, {**token, "Accept-Encoding": "identity"})
    assert "content-encoding" not in plain_headers
    assert len(plain) > 2 * 256 * 1024  # streamed in several chunks
    body, headers = _raw(world, path, {**token, "Accept-Encoding": f"{coding}, deflate"})
    assert headers["content-encoding"] == coding
    assert "Accept-Encoding" in headers["vary"]
    decoded = (
        zstandard.ZstdDecompressor().decompressobj().decompress(body)
        if coding == "zstd"
        else gzip.decompress(body)
    )
    assert decoded == plain
    assert len(body) * 10 < len(plain)


def test_gzip_is_chosen_when_zstd_is_refused(world: World) -> None:
    path, token = _batch(world)
    _, headers = _raw(world, path, {**token, "Accept-Encoding": "zstd;q=0, gzip"})
    assert headers["content-encoding"] == "gzip"


def test_a_small_answer_is_not_compressed(world: World) -> None:
    r = world.client.get("/livez", headers={"Accept-Encoding": "zstd, gzip"})
    assert r.status_code == 200 and "content-encoding" not in r.headers
