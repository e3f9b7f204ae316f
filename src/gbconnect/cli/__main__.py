"""``python -m gbconnect.cli``."""

from gbconnect.cli import main

main()
