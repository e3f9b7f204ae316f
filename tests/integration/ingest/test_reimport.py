"""Importing the identical file again changes nothing in the database (issue 15 item 16).

Every table is dumped (all rows, all columns, in a stable order) before and after the
second import of each sample file that imports, and the dumps are compared.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import Engine, MetaData, select
from sqlalchemy.orm import Session, sessionmaker

from gbconnect.ingest.services import ingest_file
from tests.integration.ingest.test_samples import REFUSED
from tests.shared import sample_names

ZONE = ZoneInfo("America/Los_Angeles")
IMPORTED = [n for n in sample_names() if n not in REFUSED]


def dump(engine: Engine) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every table, every column, ordered (not the import history, which
    keeps every run by design)."""
    meta = MetaData()
    meta.reflect(engine)
    out: dict[str, list[tuple[Any, ...]]] = {}
    with engine.connect() as conn:
        for name, table in sorted(meta.tables.items()):
            if name in ("alembic_version", "import_run"):
                continue
            rows = conn.execute(select(table)).all()
            out[name] = sorted((tuple(r) for r in rows), key=repr)
    return out


@pytest.mark.parametrize("name", IMPORTED)
def test_reimport_of_identical_file_changes_nothing(
    name: str, engine: Engine, factory: sessionmaker[Session], samples: Path
) -> None:
    path = samples / name
    ingest_file(factory, path, "sample", ZONE)
    before = dump(engine)
    ingest_file(factory, path, "sample", ZONE)
    after = dump(engine)
    for table in before:
        assert after[table] == before[table], table


READING_TYPES_ONLY = """<feed xmlns="http://www.w3.org/2005/Atom"><id>urn:uuid:2</id>
<entry><id>urn:uuid:rt-1</id><title>kWh</title>
<content><ReadingType xmlns="http://naesb.org/espi"><commodity>1</commodity><uom>72</uom>
</ReadingType></content></entry>
<entry><title>therm</title>
<content><ReadingType xmlns="http://naesb.org/espi"><commodity>7</commodity><uom>169</uom>
</ReadingType></content></entry>
</feed>
"""


def test_reimport_of_overlapping_blocks_changes_nothing(
    engine: Engine, factory: sessionmaker[Session], tmp_path: Path
) -> None:
    from tests.integration.ingest.test_replaced_readings import T0, block_entry, feed

    first = [(T0 + i * 3600, 3600, 10 + i) for i in range(3)]
    second = [(T0 + 2 * 3600 + i * 3600, 3600, 20 + i) for i in range(3)]
    path = tmp_path / "overlap.xml"
    path.write_text(
        feed(block_entry(1, first, T0, 3 * 3600), block_entry(2, second, T0 + 7200, 3 * 3600))
    )
    ingest_file(factory, path, "alice", ZONE)
    before = dump(engine)
    again = ingest_file(factory, path, "alice", ZONE)
    assert dump(engine) == before
    assert not again.blocks.changed and len(again.blocks.replaced_readings) == 1


def test_reimport_of_reading_types_alone_changes_nothing(
    engine: Engine, factory: sessionmaker[Session], tmp_path: Path
) -> None:
    path = tmp_path / "types.xml"
    path.write_text(READING_TYPES_ONLY)
    ingest_file(factory, path, "alice", ZONE)
    before = dump(engine)
    ingest_file(factory, path, "alice", ZONE)
    assert dump(engine) == before
