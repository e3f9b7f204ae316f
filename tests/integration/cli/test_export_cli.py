"""``gbconnect export``: Download My Data as ESPI XML and as CSV, both readable back."""

from __future__ import annotations

import subprocess
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from gbconnect.customer.models import RetailCustomer
from gbconnect.ingest.services import ingest_file
from gbconnect.usage import blocks
from gbconnect.usage import models as um
from tests.clirun import run_cli
from tests.factories.world import ZONE, store_usage


def _cli(db_url: str, *args: str) -> subprocess.CompletedProcess[str]:
    return run_cli(db_url, *args)


def _readings(
    factory: sessionmaker[Session], username: str
) -> dict[int, list[tuple[int, int, int | None]]]:
    out: dict[int, list[tuple[int, int, int | None]]] = {}
    with factory() as s:
        rows = s.execute(
            select(um.UsagePoint.service_kind, um.IntervalBlock.data)
            .join(um.MeterReading, um.MeterReading.usage_point_id == um.UsagePoint.id)
            .join(um.IntervalBlock, um.IntervalBlock.meter_reading_id == um.MeterReading.id)
            .join(RetailCustomer, RetailCustomer.id == um.UsagePoint.retail_customer_id)
            .where(RetailCustomer.username == username)
        ).all()
    for kind, data in rows:
        r = blocks.decode(data)
        costs = r.costs or [None] * len(r)
        out.setdefault(kind, []).extend(zip(r.starts, r.values, costs, strict=True))  # type: ignore[arg-type]
    return {k: sorted(v) for k, v in out.items()}


def _world(factory: sessionmaker[Session]) -> None:
    from gbconnect.customer.services import create_customer

    with factory() as s:
        store_usage(s, create_customer(s, "alice", None))
        s.commit()


def test_export_xml_and_csv_read_back(
    db_url: str, factory: sessionmaker[Session], tmp_path: Path, schemas: Path
) -> None:
    _world(factory)
    original = _readings(factory, "alice")
    for fmt in ("xml", "csv"):
        out = tmp_path / f"alice.{fmt}"
        done = _cli(db_url, "export", "--customer", "alice", "--format", fmt, "-o", str(out))
        assert done.returncode == 0, done.stderr
        ingest_file(factory, out, f"copy-{fmt}", ZONE)
        assert _readings(factory, f"copy-{fmt}") == original, fmt
        if fmt == "xml":  # our own file passes our own validator, warnings included
            checked = _cli(db_url, "validate", "--schemas", str(schemas), str(out))
            assert checked.returncode == 0 and "(0 error(s), 0 warning(s))" in checked.stdout, (
                checked.stdout[-2000:]
            )


def test_export_window_and_refusals(
    db_url: str, factory: sessionmaker[Session], tmp_path: Path
) -> None:
    _world(factory)
    from gbconnect.espi.times import iso
    from tests.factories.world import TODAY

    day = iso(TODAY - 3 * 86400)[:10]
    next_day = iso(TODAY - 2 * 86400)[:10]
    done = _cli(
        db_url, "export", "--customer", "alice", "--format", "csv", "--from", day, "--to", next_day
    )
    assert done.returncode == 0
    rows = done.stdout.strip().splitlines()
    assert rows[0].startswith("usage_point,start") and len(rows) == 1 + 96 + 1  # + one gas day
    for args, message in (
        (("--customer", "nobody"), "no customer"),
        (("--customer", "alice", "--from", "yesterday"), "YYYY-MM-DD"),
        (("--customer", "alice", "--from", next_day, "--to", day), "after"),
        (("--customer", "alice", "--usage-point", "1"), "does not belong"),
    ):
        done = _cli(db_url, "export", *args)
        assert done.returncode == 1 and message in done.stderr and "Traceback" not in done.stderr
