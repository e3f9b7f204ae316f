"""``python -m gbconnect.cli``."""

from gbconnect.cli.main import main

main()
