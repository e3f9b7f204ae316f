"""The package structure holds: no import cycle between packages nor between modules,
and ``espi/`` (the standard itself) imports no database or web module
(docs/architecture.md)."""

from __future__ import annotations

import ast
import sys
from collections.abc import Iterator
from pathlib import Path

import gbconnect

SRC = Path(gbconnect.__file__).resolve().parent
#: What ``gbconnect.espi`` may not import: it is the standard, usable without a server.
ESPI_FORBIDDEN = ("sqlalchemy", "fastapi", "starlette", "authlib", "jinja2", "psycopg")


def _module(path: Path) -> str:
    parts = list(path.relative_to(SRC.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _imports(path: Path, typing_only: bool = True) -> Iterator[str]:
    """Every module ``path`` imports, at any depth (a function-level import counts);
    with ``typing_only`` False, not those under ``if TYPE_CHECKING:`` (they do not run)."""
    tree = ast.parse(path.read_text(), str(path))
    skipped: set[int] = set()
    if not typing_only:
        for node in ast.walk(tree):
            if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
                skipped.update(id(n) for n in ast.walk(node))
    for node in ast.walk(tree):
        if id(node) in skipped:
            continue
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            yield node.module
            yield from (f"{node.module}.{alias.name}" for alias in node.names)


def _package(module: str) -> str:
    """``gbconnect.oauth.guard`` -> ``oauth``; a top-level module is its own node."""
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else parts[0]


def _sources() -> list[Path]:
    return [p for p in SRC.rglob("*.py") if "migrations" not in p.relative_to(SRC).parts]


def package_graph() -> dict[str, dict[str, list[str]]]:
    """package -> imported package -> the module edges behind it."""
    modules = {_module(p) for p in _sources()}
    graph: dict[str, dict[str, list[str]]] = {}
    for path in _sources():
        here = _module(path)
        for target in set(_imports(path)):
            if not target.startswith("gbconnect."):
                continue
            while target not in modules and "." in target:
                target = target.rsplit(".", 1)[0]
            a, b = _package(here), _package(target)
            if target in modules and a != b:
                graph.setdefault(a, {}).setdefault(b, []).append(f"{here} -> {target}")
    return graph


def _cycles(graph: dict[str, dict[str, list[str]]]) -> list[list[str]]:
    """Strongly connected components of more than one package (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        for w in graph.get(v, {}):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return found


def test_no_import_cycle_between_packages() -> None:
    graph = package_graph()
    problems = []
    for component in _cycles(graph):
        edges = [e for a in component for b in component for e in graph.get(a, {}).get(b, [])[:2]]
        problems.append(f"{' <-> '.join(component)}: " + "; ".join(edges))
    assert not problems, "import cycles between packages:\n" + "\n".join(problems)


def module_graph() -> dict[str, dict[str, list[str]]]:
    """module -> modules it imports when it runs (a package's ``__init__`` imported by
    its own submodules is left out: Python imports it first anyway)."""
    modules = {_module(p) for p in _sources()}
    graph: dict[str, dict[str, list[str]]] = {}
    for path in _sources():
        here = _module(path)
        for target in set(_imports(path, typing_only=False)):
            if not target.startswith("gbconnect."):
                continue
            while target not in modules and "." in target:
                target = target.rsplit(".", 1)[0]
            if target in modules and target != here and not here.startswith(target + "."):
                graph.setdefault(here, {})[target] = [f"{here} -> {target}"]
    return graph


def test_no_import_cycle_between_modules() -> None:
    """A module never needs another that needs it back (no import inside a function or
    at the bottom of a file to break a loop)."""
    cycles = [" <-> ".join(c) for c in _cycles(module_graph())]
    assert not cycles, "import cycles between modules:\n" + "\n".join(cycles)


def test_espi_imports_no_database_or_web_module() -> None:
    bad = []
    for path in (SRC / "espi").rglob("*.py"):
        for target in _imports(path):
            top = target.split(".")[0]
            # The SDK (gbconnect.client) is the standard from the third party's side and
            # imports nothing else of gbconnect (test below): espi may reuse it.
            inside = target.startswith("gbconnect.") and not target.startswith(
                ("gbconnect.espi", "gbconnect.errors", "gbconnect.client")
            )
            if top in ESPI_FORBIDDEN or inside:
                bad.append(f"{_module(path)} imports {target}")
    assert not bad, "\n".join(bad)


def test_the_sdk_imports_nothing_else_of_gbconnect() -> None:
    """``gbconnect.client`` stands alone: the standard library, httpx and lxml (pandas
    inside ``to_dataframe``), never another gbconnect module (issue 13)."""
    allowed = {"httpx", "lxml", "pandas", "gbconnect"}
    bad = []
    for path in (SRC / "client").rglob("*.py"):
        for target in _imports(path):
            top = target.split(".")[0]
            if (target.startswith("gbconnect.") and not target.startswith("gbconnect.client")) or (
                top not in allowed and top not in sys.stdlib_module_names
            ):
                bad.append(f"{_module(path)} imports {target}")
    assert not bad, "\n".join(bad)


def test_the_checker_sees_a_cycle() -> None:
    """The cycle finder itself: a two-package loop and a three-package loop are found."""
    graph = {"a": {"b": ["x"]}, "b": {"a": ["y"]}, "c": {"d": ["z"]}, "d": {"e": ["z"]}}
    graph["e"] = {"c": ["w"]}
    assert sorted(_cycles(graph)) == [["a", "b"], ["c", "d", "e"]]
    assert _cycles({"a": {"b": ["x"]}}) == []
