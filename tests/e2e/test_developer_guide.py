"""The developer guide (docs/developers) against a real ``gbconnect serve``: every curl
and SDK example runs and must exit 0, on SQLite and PostgreSQL; the MkDocs site builds
with ``--strict`` (a broken link fails it) and loads nothing from elsewhere; ``serve``
answers it at /developers/, or says it is not built."""

from __future__ import annotations

import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from click.testing import CliRunner

from gbconnect.cli import main
from gbconnect.db import make_engine, make_sessionmaker
from gbconnect.registration import models as rm
from gbconnect.registration.signing_keys import ensure_key
from tests.databases import Databases
from tests.e2e.guide import (
    GUIDE,
    ROOT,
    Customer,
    Fresh,
    example_env,
    guide_blocks,
    page_blocks,
    run_all,
)
from tests.factories.parties import REDIRECT
from tests.factories.world import Seed, store_world
from tests.receiver import Receiver
from tests.serverproc import serving

BASE = "/DataCustodian/espi/1_1/resource"

#: At most this many blocks of the guide may be marked ``<!-- not run: why -->``.
MAX_NOT_RUN = 6


@pytest.fixture
def world(databases: Databases) -> Seed:
    """The world's stored state (tests.factories.world), copied into ``db_url``."""
    return databases.template("world", store_world)


def _prepare(db_url: str, world: Seed, notify_uri: str) -> dict[str, str]:
    """Point the third party's notify URI at ``notify_uri``; its signing secret and
    its ids."""
    engine = make_engine(db_url)
    try:
        with make_sessionmaker(engine)() as s:
            app = s.get(rm.ApplicationInformation, world.app_id)
            assert app is not None
            app.notify_uri = notify_uri
            secret = ensure_key(app)
            variables = {
                "NOTIFY_SECRET": secret,
                "BULK_ID": str(app.bulk_id),
                "APPLICATION_ID": str(app.id),
                "USAGE_POINT_ID": str(world.alice_points[0]),
            }
            s.commit()
    finally:
        engine.dispose()
    return variables


def test_every_example_runs(db_url: str, world: Seed, tmp_path: Path) -> None:
    """Each runnable block of each page, in order, against a served gbconnect (and the
    blocks marked ``<!-- server: limited -->`` against a second one on the same
    database that applies the rate limits, answers Batch requests 202 and empty
    windows 204)."""
    receiver = Receiver()
    receiver.start()
    batches = str(tmp_path / "batches")
    try:
        variables = _prepare(db_url, world, receiver.url)
        with (
            serving(
                db_url, GBCONNECT_NOTIFY_IN_PROCESS="true", GBCONNECT_BATCH_DIR=batches
            ) as served,
            serving(
                db_url,
                GBCONNECT_NOTIFY_IN_PROCESS="false",
                GBCONNECT_BATCH_DIR=batches,
                GBCONNECT_RATE_LIMITS="on",
                GBCONNECT_BATCH_ASYNC_BLOCKS="1",
                GBCONNECT_EMPTY_WINDOW_204="true",
            ) as limited,
        ):
            customer = Customer(
                served.base, world.client_id, world.client_secret, world.alice_points
            )
            try:
                base = {
                    **variables,
                    "CLIENT_ID": world.client_id,
                    "CLIENT_SECRET": world.client_secret,
                    "REGISTRATION_TOKEN": world.registration_token,
                    "REDIRECT_URI": REDIRECT,
                }
                envs = {
                    server: example_env(
                        {
                            **base,
                            "DC": url,
                            "RESOURCE_BASE": url + "/DataCustodian/espi/1_1/resource",
                        },
                        db_url,
                    )
                    for server, url in ((None, served.base), ("limited", limited.base))
                }
                blocks = guide_blocks()
                assert sum(b.runs for b in blocks) >= 35
                results = run_all(blocks, envs, Fresh(db_url, customer, receiver, tmp_path))
            finally:
                customer.close()
    finally:
        receiver.stop()
    failures = [r.failure for r in results if r.failure]
    assert not failures, "\n\n".join(failures)
    # The asynchronous examples met a real 202 (not only a ready feed).
    pending = [r for r in results if r.block.server == "limited" and r.block.page == "data.md"]
    assert pending and all("pending: " in r.done.stdout for r in pending)


def test_blocks_not_run_are_few_and_say_why() -> None:
    blocks = guide_blocks()
    skipped = [b for b in blocks if b.not_run is not None]
    assert len(skipped) <= MAX_NOT_RUN, [b.where for b in skipped]
    assert all(b.not_run and len(b.not_run) > 10 for b in skipped)
    # A marker before a block of a language that never runs is a mistake.
    assert all(b.language in ("sh", "python") for b in skipped), [b.where for b in skipped]


def test_block_reader(tmp_path: Path) -> None:
    page = tmp_path / "p.md"
    page.write_text(
        "# T\n\n```sh\necho 1\n```\n\n<!-- not run: opens a browser window -->\n"
        "```python\nimport webbrowser\n```\n\n```json\n{}\n```\n"
    )
    one, two, three = page_blocks(page)
    assert (one.language, one.line, one.code, one.runs) == ("sh", 3, "echo 1\n", True)
    assert two.not_run == "opens a browser window" and not two.runs
    assert three.language == "json" and not three.runs


# -- the site --------------------------------------------------------------------

_EXTERNAL_ASSET = re.compile(
    r"<(?:script|link|img|iframe)\b[^>]*\b(?:src|href)=\"(?:https?:)?//", re.IGNORECASE
)


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The site built by ``gbconnect docs build --out`` (a process, as an operator runs
    it; MkDocs --strict: a broken link or a page outside the nav fails it)."""
    out = tmp_path_factory.mktemp("site") / "developers"
    done = subprocess.run(
        [sys.executable, "-m", "gbconnect.cli", "docs", "build", "--out", str(out)],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert f"developer guide built in {out}" in done.stdout
    return out


def test_site_builds_strict_and_loads_nothing_from_elsewhere(site: Path) -> None:
    pages = list(site.rglob("*.html"))
    assert (site / "index.html").is_file()
    for name in ("authorization", "notifications", "errors", "tokens", "data"):
        assert (site / "developers" / name / "index.html").is_file()
    assert (site / "mtls" / "index.html").is_file()  # the operators' documents too
    for page in pages:
        assert not _EXTERNAL_ASSET.search(page.read_text(encoding="utf-8")), page


def test_docs_build_fails_clearly_on_a_broken_link(tmp_path: Path) -> None:
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "index.md").write_text("# Home\n\nSee [nowhere](missing.md).\n")
    config = tmp_path / "mkdocs.yml"
    config.write_text("site_name: t\ndocs_dir: docs\n")
    result = CliRunner().invoke(
        main, ["docs", "build", "--config", str(config), "--out", str(tmp_path / "o")]
    )
    assert result.exit_code == 1
    assert "mkdocs build failed" in result.output and "missing.md" in result.output


def test_guide_pages_link_relatively() -> None:
    """Pages read on GitHub too: no site-absolute links, no MkDocs-only syntax."""
    for page in GUIDE.glob("*.md"):
        text = page.read_text(encoding="utf-8")
        assert not re.search(r"\]\(/", text), page
        assert "!!!" not in text and "{{" not in text, page


@pytest.fixture
def database(tmp_path: Path) -> str:
    url = f"sqlite:///{tmp_path / 'serve.db'}"
    assert CliRunner().invoke(main, ["--database-url", url, "init"]).exit_code == 0
    return url


def test_served_at_developers(database: str, site: Path) -> None:
    with serving(database, GBCONNECT_DEVELOPER_DOCS_DIR=str(site)) as served:
        index = httpx.get(served.base + "/developers/")
        assert index.status_code == 200 and "text/html" in index.headers["content-type"]
        assert "Developer guide" in index.text
        # The theme's own scripts run (the API docs' policy), nothing from elsewhere.
        assert "script-src 'self'" in index.headers["content-security-policy"]
        deep = httpx.get(served.base + "/developers/developers/notifications/")
        assert deep.status_code == 200 and "Gbconnect-Signature" in deep.text
        # Without the slash, the folder's index by redirect; its assets are served.
        bare = httpx.get(served.base + "/developers", follow_redirects=True)
        assert bare.status_code == 200 and str(bare.url).endswith("/developers/")
        assert httpx.get(served.base + "/developers/css/base.css").status_code == 200
        assert httpx.get(served.base + "/developers/no/such/page/").status_code == 404
        # Traversal out of the folder is refused.
        escape = httpx.get(served.base + "/developers/..%2f..%2fmkdocs.yml")
        assert escape.status_code == 404
        # The third-party portal links to it.
        portal = httpx.get(served.base + "/thirdparty/login")
        assert portal.status_code == 200 and 'href="/developers/"' in portal.text


def test_missing_site_answers_an_honest_page(database: str, tmp_path: Path) -> None:
    folder = tmp_path / "not-built"
    with serving(database, GBCONNECT_DEVELOPER_DOCS_DIR=str(folder)) as served:
        r = httpx.get(served.base + "/developers/developers/tokens/")
        assert r.status_code == 404
        assert "not built on this server" in r.text and "gbconnect docs build" in r.text
        assert "docs/developers/index.md" in r.text and str(folder) in r.text
        # Built while the server runs: served at once.
        done = subprocess.run(
            [sys.executable, "-m", "gbconnect.cli", "docs", "build", "--out", str(folder)],
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )
        assert done.returncode == 0, done.stderr
        assert httpx.get(served.base + "/developers/").status_code == 200


def test_default_folder_is_where_docs_build_writes() -> None:
    from gbconnect.config import load_settings
    from gbconnect.developers import default_site_dir, site_dir

    assert default_site_dir() == ROOT / "build" / "developers"
    settings = load_settings(secret_key="k" * 40)
    assert site_dir(settings) == default_site_dir()


def _iter_python_blocks() -> Iterator[str]:
    for b in guide_blocks():
        if b.language == "python":
            yield b.code


def test_python_examples_compile() -> None:
    for code in _iter_python_blocks():
        compile(code, "<example>", "exec")
