"""The import history (``import_run``): every ingest path records its run here.

:func:`tracked` wraps an import: the run is written after it, in a transaction of
its own, whether the import was stored or refused (a refused import's transaction is
rolled back, its history row must outlive it). ``gbconnect ingest`` and the upload
endpoint come through :func:`gbconnect.ingest.services.ingest_file`, the generator
through :func:`gbconnect.ingest.generator.generate_customers`.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TypeVar

from sqlalchemy.orm import Session, sessionmaker

from gbconnect.audit import Actor
from gbconnect.ingest.models import FAILED, OK, ImportRun
from gbconnect.ingest.summary import FileSummary

FILE, UPLOAD, GENERATOR = "file", "upload", "generator"


T = TypeVar("T")


def _summary_of(result: object) -> FileSummary:
    """The summary of an import's result (a FileSummary, or a result holding one)."""
    summary = result if isinstance(result, FileSummary) else getattr(result, "summary", None)
    if not isinstance(summary, FileSummary):
        raise TypeError(f"no import summary in {type(result).__name__}")
    return summary


def tracked(
    factory: sessionmaker[Session],
    source: str,
    name: str | None,
    actor: Actor | None,
    work: Callable[[], T],
) -> T:
    """Run ``work`` (an import) and keep its run: counts when it returns, the error
    when it raises (the exception goes on)."""
    started = time.time()
    who = actor or Actor.operator()
    run = ImportRun(
        started_at=started,
        actor_kind=who.kind,
        actor=(who.name or None) and str(who.name)[:256],
        source=source[:16],
        name=name and name[-512:],
    )
    try:
        result = work()
    except Exception as exc:
        run.outcome, run.error = FAILED, str(exc)[:1024]
        _keep(factory, run)
        raise
    summary = _summary_of(result)
    run.outcome = OK
    run.format = summary.format[:64]
    run.usage_points = summary.usage_points
    run.readings = summary.readings
    run.blocks = summary.blocks.inserted + summary.blocks.replaced
    _keep(factory, run)
    return result


def _keep(factory: sessionmaker[Session], run: ImportRun) -> None:
    run.finished_at = time.time()
    with factory() as session, session.begin():
        session.add(run)


__all__ = ["FILE", "GENERATOR", "UPLOAD", "tracked"]
