"""What a served process does not load until it needs it (issue: lean processes)."""

from __future__ import annotations

import subprocess
import sys


def test_the_app_loads_no_csv_reader_until_a_csv_comes() -> None:
    """pyarrow (27 MiB) belongs to the CSV readers: a served process that takes no CSV
    upload never holds it."""
    code = (
        "import sys, tempfile\n"
        "from gbconnect.app import create_app\n"
        "from gbconnect.config import load_settings\n"
        "d = tempfile.mkdtemp()\n"
        "create_app(load_settings(database_url=f'sqlite:///{d}/x.db', secret_key='x' * 40))\n"
        "assert 'pyarrow' not in sys.modules\n"
        "from gbconnect.ingest.csv import read_csv\n"
        "assert 'pyarrow' in sys.modules\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
