"""``gbconnect`` run as its own process, as an operator runs it (tests only)."""

from __future__ import annotations

import subprocess
import sys


def run_cli(db_url: str, *args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    """``gbconnect --database-url DB_URL ARGS...``; output captured as text."""
    return subprocess.run(
        [
            sys.executable,
            "-c",
            "from gbconnect.cli import main; main()",
            "--database-url",
            db_url,
            *args,
        ],
        capture_output=True,
        text=True,
        timeout=timeout,
    )
