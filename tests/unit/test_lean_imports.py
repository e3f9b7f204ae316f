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
    runs_clean(code)


def test_the_app_loads_rarely_used_libraries_on_first_use() -> None:
    """Alembic (the schema check reads alembic_version itself), the certificate code
    and its cryptography, Authlib's dynamic registration (JOSE), pygal and segno: each
    is loaded by the request that needs it, not by every served process."""
    code = (
        "import sys, tempfile\n"
        "from gbconnect.app import create_app\n"
        "from gbconnect.config import load_settings\n"
        "d = tempfile.mkdtemp()\n"
        "create_app(load_settings(database_url=f'sqlite:///{d}/x.db', secret_key='x' * 40))\n"
        "lazy = ('alembic', 'cryptography', 'joserfc', 'pygal', 'segno')\n"
        "loaded = [m for m in lazy if m in sys.modules]\n"
        "assert not loaded, loaded\n"
        "from gbconnect.portal.usage_charts import _pygal\n"
        "_pygal()\n"
        "assert 'pygal' in sys.modules\n"
    )
    runs_clean(code)


def runs_clean(code: str) -> None:
    """``code`` runs in a fresh interpreter without an error."""
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
