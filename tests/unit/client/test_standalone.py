"""The SDK installs and runs without the service's dependencies (issue 13,
packaging): a fresh interpreter that refuses to import them imports
``gbconnect.client``, parses a sample, and loads no other gbconnect module; the
console script then says in one line what to install."""

from __future__ import annotations

import os
import subprocess
import sys
import tomllib
from pathlib import Path

import gbconnect.client
from tests.shared import samples_dir

REFUSED = [
    "fastapi",
    "starlette",
    "sqlalchemy",
    "alembic",
    "click",
    "authlib",
    "pydantic",
    "jinja2",
    "uvicorn",
    "psycopg",
    "pyarrow",
    "numpy",
]

FINDER = f"""
import sys
REFUSED = {REFUSED!r}
class Refuse:
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in REFUSED:
            raise ModuleNotFoundError(f"No module named {{name!r}}", name=name)
        return None
sys.meta_path.insert(0, Refuse())
"""

ROOT = Path(__file__).resolve().parents[3]


def run(code: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src")}
    return subprocess.run(
        [sys.executable, "-c", FINDER + code],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )


def test_the_sdk_runs_without_the_service_dependencies() -> None:
    sample = samples_dir() / "15minLP_15Days.xml"
    code = f"""
import gbconnect.client as c
n = sum(1 for _ in c.readings({str(sample)!r}))
assert n == 1340, n
extra = sorted(m for m in sys.modules
               if m.startswith("gbconnect.") and not m.startswith("gbconnect.client"))
assert not extra, extra
refused = sorted(m for m in sys.modules if m.split(".")[0] in REFUSED)
assert not refused, refused
print("ok", n)
"""
    done = run(code)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "ok 1340"


def test_the_console_script_names_what_is_missing() -> None:
    done = run("from gbconnect._entry import main; main()")
    assert done.returncode == 1
    assert done.stderr.strip().splitlines() == [
        "gbconnect: the service needs its dependencies: pip install 'gbconnect[server]' "
        f"(missing: {done.stderr.split('missing: ')[1].split(')')[0]})"
    ]
    assert done.stderr.split("missing: ")[1].split(")")[0] in REFUSED
    assert "Traceback" not in done.stderr


def test_the_package_root_stays_import_free() -> None:
    done = run("import gbconnect, sys; print(sorted(m for m in sys.modules if 'gbconnect' in m))")
    assert done.returncode == 0 and done.stdout.strip() == "['gbconnect']"


def test_pyproject_splits_client_and_server() -> None:
    meta = tomllib.loads((ROOT / "pyproject.toml").read_text())
    project = meta["project"]
    assert sorted(d.split(">")[0] for d in project["dependencies"]) == ["httpx", "lxml"]
    extras = project["optional-dependencies"]
    assert {"server", "client", "pandas", "dev"} <= set(extras)
    assert any(d.startswith("fastapi") for d in extras["server"])
    assert any(d.startswith("pandas") for d in extras["dev"])
    assert project["scripts"]["gbconnect"] == "gbconnect._entry:main"
    assert "client/py.typed" in meta["tool"]["setuptools"]["package-data"]["gbconnect"]
    assert (Path(gbconnect.client.__file__).parent / "py.typed").exists()


def test_the_console_script_runs_the_cli_when_all_is_installed() -> None:
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src")}
    done = subprocess.run(
        [sys.executable, "-c", "from gbconnect._entry import main; main()", "--help"],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    assert done.returncode == 0 and "Usage" in done.stdout
