"""The sample third party is a third party: of gbconnect it uses only the SDK
(``gbconnect.client``), beside the standard library, Starlette, Jinja2, uvicorn and
httpx (the SDK's own HTTP client); never the server's database or internals."""

from __future__ import annotations

import ast
import sys
from pathlib import Path

import gbconnect.sample_thirdparty as sample

PACKAGE = Path(sample.__file__).parent
ALLOWED = {"starlette", "jinja2", "uvicorn", "httpx"}


def _imported(path: Path) -> set[str]:
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
    return found


def test_the_sample_app_imports_only_the_sdk_of_gbconnect() -> None:
    wrong: dict[str, list[str]] = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        for module in _imported(path):
            top = module.split(".")[0]
            if module.startswith("gbconnect."):
                ok = module.startswith(("gbconnect.client", "gbconnect.sample_thirdparty"))
            else:
                ok = top == "__future__" or top in sys.stdlib_module_names or top in ALLOWED
            if not ok:
                wrong.setdefault(path.name, []).append(module)
    assert wrong == {}
