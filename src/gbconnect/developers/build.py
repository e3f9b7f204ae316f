"""``mkdocs build`` of the developer guide, in a subprocess (the server never imports
MkDocs; it is the optional ``docs`` extra: ``pip install 'gbconnect[docs]'``)."""

from __future__ import annotations

import importlib.util
import subprocess
import sys
from pathlib import Path

from gbconnect.errors import GbconnectError


class BuildError(GbconnectError):
    """The guide could not be built (MkDocs missing, no ``mkdocs.yml``, a broken link
    under ``--strict``...); the message says why."""


def build_site(out: Path, *, config: Path | None = None, strict: bool = True) -> str:
    """Build the site of ``config`` (default: ``mkdocs.yml`` at the source tree's root)
    into ``out``; returns MkDocs' log. ``strict``: a warning (a broken link, a page
    missing from the nav) fails the build."""
    from gbconnect.developers.site import source_root

    config = config or source_root() / "mkdocs.yml"
    if not config.is_file():
        raise BuildError(
            f"no MkDocs configuration at {config}: the guide is built from a copy of "
            "gbconnect's source tree (mkdocs.yml and docs/)"
        )
    if importlib.util.find_spec("mkdocs") is None:
        raise BuildError("MkDocs is not installed: pip install 'gbconnect[docs]'")
    command = [sys.executable, "-m", "mkdocs", "build", "--clean"]
    command += ["--config-file", str(config), "--site-dir", str(out.resolve())]
    if strict:
        command.append("--strict")
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    log = (done.stdout + done.stderr).strip()
    if done.returncode != 0:
        raise BuildError(f"mkdocs build failed:\n{log}")
    return log


__all__ = ["BuildError", "build_site"]
