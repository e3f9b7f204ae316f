"""The ``gbconnect`` command line (Click); ``gbconnect.cli:main`` is the script."""

from gbconnect.cli.main import main

__all__ = ["main"]

if __name__ == "__main__":  # pragma: no cover
    main()
