"""gbconnect.developers: the build's refusals and the not-built page, without a
server (the served tests are tests/e2e/test_developer_guide.py)."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest
from click.testing import CliRunner
from starlette.applications import Starlette
from starlette.testclient import TestClient

from gbconnect.cli import main
from gbconnect.config import load_settings
from gbconnect.developers import BuildError, build_site, mount
from gbconnect.developers.site import DeveloperSite, not_built_page


def test_build_without_a_configuration_says_so(tmp_path: Path) -> None:
    with pytest.raises(BuildError, match=r"no MkDocs configuration at .*mkdocs\.yml"):
        build_site(tmp_path / "out", config=tmp_path / "mkdocs.yml")


def test_build_without_mkdocs_names_the_extra(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = tmp_path / "mkdocs.yml"
    config.write_text("site_name: t\n")
    real = importlib.util.find_spec

    def find_spec(name: str, *args: object) -> object:
        return None if name == "mkdocs" else real(name, *args)  # type: ignore[arg-type]

    monkeypatch.setattr(importlib.util, "find_spec", find_spec)
    with pytest.raises(BuildError, match=r"pip install 'gbconnect\[docs\]'"):
        build_site(tmp_path / "out", config=config)


def test_cli_refuses_a_missing_config_file(tmp_path: Path) -> None:
    result = CliRunner().invoke(main, ["docs", "build", "--config", str(tmp_path / "nope.yml")])
    assert result.exit_code == 2 and "does not exist" in result.output


def test_not_built_page_escapes_the_folder() -> None:
    page = not_built_page(Path("/srv/<script>"))
    assert "<script>" not in page and "&lt;script&gt;" in page
    assert "gbconnect docs build" in page and "GBCONNECT_DEVELOPER_DOCS_DIR" in page


def test_mount_serves_the_folder_or_the_page(tmp_path: Path) -> None:
    settings = load_settings(secret_key="k" * 40, developer_docs_dir=tmp_path / "site")
    app = Starlette()
    mount(app, settings)
    with TestClient(app) as client:
        missing = client.get("/developers/")
        assert missing.status_code == 404 and "not built on this server" in missing.text
        (tmp_path / "site").mkdir()
        (tmp_path / "site" / "index.html").write_text("<h1>guide</h1>")
        assert client.get("/developers/").text == "<h1>guide</h1>"
        assert client.get("/developers/other.html").status_code == 404


def test_a_folder_without_an_index_counts_as_not_built(tmp_path: Path) -> None:
    (tmp_path / "half").mkdir()
    assert not DeveloperSite(tmp_path / "half").built()
