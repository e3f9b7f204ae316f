"""The ``gbconnect`` console script. The base install is only the SDK
(``gbconnect.client``: httpx and lxml); the service's command line needs the
``server`` extra. Without it, one clear line instead of a traceback."""

from __future__ import annotations

import sys


def main() -> None:
    """Run the CLI, or say which service dependency is missing (exit status 1)."""
    try:
        from gbconnect.cli.main import main as cli_main
    except ModuleNotFoundError as exc:
        missing = (exc.name or "").split(".")[0]
        if not missing or missing == "gbconnect":
            raise
        sys.stderr.write(
            "gbconnect: the service needs its dependencies: "
            f"pip install 'gbconnect[server]' (missing: {missing})\n"
        )
        raise SystemExit(1) from None
    cli_main()
