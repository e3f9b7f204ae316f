"""The import history (``import_run``): ``gbconnect ingest`` (stored and refused),
the upload endpoint and the generator each leave a run with who, what and counts."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from gbconnect.customer.models import RetailCustomer
from gbconnect.ingest.models import ImportRun
from tests.clirun import run_cli
from tests.factories.world import World


def _runs(factory: sessionmaker[Session]) -> list[ImportRun]:
    with factory() as session:
        return list(session.scalars(select(ImportRun).order_by(ImportRun.id)))


def test_ingest_and_generate_are_kept(
    db_url: str, factory: sessionmaker[Session], tmp_path: Path
) -> None:
    bad = tmp_path / "broken.xml"
    bad.write_text("<feed xmlns='http://www.w3.org/2005/Atom'><entry>")
    refused = run_cli(db_url, "ingest", "--customer", "carol", str(bad))
    assert refused.returncode == 1
    made = run_cli(db_url, "generate", "--customers", "1", "--days", "2", "--end", "2026-01-10")
    assert made.returncode == 0, made.stderr
    failed, generated = _runs(factory)
    assert (failed.source, failed.name, failed.outcome) == ("file", "broken.xml", "failed")
    assert failed.error and failed.actor_kind == "operator"
    assert (generated.source, generated.outcome, generated.format) == (
        "generator",
        "ok",
        "synthetic",
    )
    assert generated.usage_points >= 1 and generated.readings >= 2 * 96 and generated.blocks >= 2


def test_upload_is_kept(world: World) -> None:
    with world.factory() as session:
        alice = session.scalars(
            select(RetailCustomer.id).where(RetailCustomer.username == "alice")
        ).one()
    before = len(_runs(world.factory))
    r = world.client.post(
        world.url(f"/Batch/RetailCustomer/{alice}/UsagePoint"),
        content=b"<feed xmlns='http://www.w3.org/2005/Atom'></feed>",
        headers={
            "Authorization": f"Bearer {world.upload_token}",
            "Content-Type": "application/xml",
        },
    )
    runs = _runs(world.factory)
    assert len(runs) == before + 1, r.text
    run = runs[-1]
    assert run.source == "upload" and run.actor == "upload API" and run.actor_kind == "system"
