"""The OpenAPI pages (``/docs``, ``/redoc``) work without internet access: their scripts
and styles come from the application itself, and the OpenAPI schema builds cleanly."""

from __future__ import annotations

import re
import warnings
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from gbconnect.app import create_app
from gbconnect.config import load_settings

_ASSET = re.compile(r"""(?:src|href)\s*=\s*["']([^"']+)["']|url:\s*['"]([^'"]+)['"]""")


@pytest.fixture
def client(tmp_path: Path) -> Iterator[TestClient]:
    settings = load_settings(database_url=f"sqlite:///{tmp_path / 'docs.db'}", secret_key="k" * 40)
    with TestClient(create_app(settings)) as c:
        yield c


@pytest.mark.parametrize("page", ["/docs", "/redoc"])
def test_api_docs_load_their_assets_from_the_application(client: TestClient, page: str) -> None:
    response = client.get(page)
    assert response.status_code == 200
    html = response.text
    assert "https://" not in html and "http://" not in html, html
    assets = [a or b for a, b in _ASSET.findall(html)]
    scripts = [a for a in assets if a.endswith(".js")]
    assert scripts, html
    for asset in assets:
        assert asset.startswith("/"), asset
        got = client.get(asset)
        assert got.status_code == 200, asset
        assert got.content, asset


def test_openapi_schema_builds_without_duplicate_operation_ids(client: TestClient) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        schema = client.app.openapi()  # type: ignore[attr-defined]
    ops = [
        op["operationId"]
        for path in schema["paths"].values()
        for op in path.values()
        if isinstance(op, dict) and "operationId" in op
    ]
    assert len(ops) == len(set(ops))
    methods = schema["paths"]["/oauth/register/{client_id}"]
    assert set(methods) >= {"get", "put", "delete"}
