"""A customer's own export imported again for that customer (issue 15 item 17): the
identity of each usage point survives export and import, nothing is duplicated."""

from __future__ import annotations

import subprocess
from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from gbconnect.customer.services import create_customer
from gbconnect.usage import models as um
from tests.clirun import run_cli
from tests.factories.world import World, store_usage
from tests.integration.ingest.test_replaced_readings import stored_readings

MODELS = (um.UsagePoint, um.MeterReading, um.ReadingType, um.LocalTimeParameters)


def _cli(db_url: str, *args: str) -> subprocess.CompletedProcess[str]:
    return run_cli(db_url, *args)


def _counts(factory: sessionmaker[Session]) -> list[int]:
    with factory() as s:
        return [int(s.scalar(select(func.count()).select_from(m)) or 0) for m in MODELS]


def test_own_export_imported_again_updates_the_same_usage_points(
    db_url: str, factory: sessionmaker[Session], tmp_path: Path
) -> None:
    with factory() as s:
        store_usage(s, create_customer(s, "alice", None))
        s.commit()
    with factory() as s:
        ids = sorted(s.scalars(select(um.UsagePoint.id)))
    counts = _counts(factory)
    readings = stored_readings(factory, "alice")
    out = tmp_path / "alice.xml"
    done = _cli(db_url, "export", "--customer", "alice", "-o", str(out))
    assert done.returncode == 0, done.stderr
    for _ in range(2):
        done = _cli(db_url, "ingest", "--customer", "alice", str(out))
        assert done.returncode == 0, done.stderr
        assert "0 new" in done.stdout, done.stdout
        assert _counts(factory) == counts
        with factory() as s:
            assert sorted(s.scalars(select(um.UsagePoint.id))) == ids
        assert stored_readings(factory, "alice") == readings
    # For another customer the same file is a copy, not a move.
    done = _cli(db_url, "ingest", "--customer", "bob", str(out))
    assert done.returncode == 0, done.stderr
    assert _counts(factory)[0] == 2 * counts[0]


def test_own_export_uploaded_again_updates_the_same_usage_points(world: World) -> None:
    """The same through the API: Download My Data fetched with the upload token and
    posted back to ``Batch/RetailCustomer/{id}/UsagePoint`` adds no usage point."""
    with world.factory() as s:
        rcid = s.scalar(
            select(um.UsagePoint.retail_customer_id).where(
                um.UsagePoint.id == world.alice_points[0]
            )
        )
    token = {"Authorization": f"Bearer {world.upload_token}"}
    url = world.url(f"/Batch/RetailCustomer/{rcid}/UsagePoint")
    export = world.client.get(url, headers=token)
    assert export.status_code == 200
    counts = _counts(world.factory)
    posted = world.client.post(
        url, content=export.content, headers={**token, "content-type": "application/atom+xml"}
    )
    assert posted.status_code == 200, posted.text
    assert _counts(world.factory) == counts
    with world.factory() as s:
        points = s.scalars(select(um.UsagePoint.id).where(um.UsagePoint.retail_customer_id == rcid))
        assert sorted(points) == sorted(world.alice_points)
