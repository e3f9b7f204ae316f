"""``gbconnect serve`` as a real process on a local port."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from click.testing import CliRunner

from gbconnect.cli import main
from tests.serverproc import serving


@pytest.fixture
def server(tmp_path: Path) -> Iterator[str]:
    url = f"sqlite:///{tmp_path / 'serve.db'}"
    runner = CliRunner()
    assert runner.invoke(main, ["--database-url", url, "init"]).exit_code == 0
    result = runner.invoke(
        main,
        [
            "--database-url",
            url,
            "generate",
            "--customers",
            "2",
            "--days",
            "3",
            "--end",
            "2024-05-03",
        ],
    )
    assert result.exit_code == 0, result.output
    with serving(url) as served:
        yield served.base


def test_health_and_home(server: str) -> None:
    health = httpx.get(server + "/healthz").json()
    assert health["status"] == "ok" and health["database"] == "sqlite"
    home = httpx.get(server + "/")
    assert home.status_code == 200
    assert "Interval readings" in home.text and "/DataCustodian/espi/1_1/resource" in home.text
    assert httpx.get(server + "/docs").status_code == 200
    assert httpx.get(server + "/metrics").status_code in (200, 307)


def test_serve_refuses_an_uninitialised_database(tmp_path: Path) -> None:
    result = CliRunner().invoke(main, ["--database-url", f"sqlite:///{tmp_path / 'x.db'}", "serve"])
    assert result.exit_code == 1 and "gbconnect init" in result.output
