"""The ``import_run`` table: the history of meter-data imports (issue 12, "import
history"): when, who, from what, what it stored, and how it ended."""

from __future__ import annotations

from sqlalchemy import BigInteger, CheckConstraint, Float, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from gbconnect.db import Base

OK, FAILED = "ok", "failed"


class ImportRun(Base):
    """One import: a file (``gbconnect ingest``), an upload
    (``Batch/RetailCustomer/{id}/UsagePoint``) or the synthetic generator."""

    __tablename__ = "import_run"
    __table_args__ = (
        CheckConstraint("outcome IN ('ok', 'failed')", name="outcome"),
        Index("ix_import_run_started_at", "started_at"),
    )

    id: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True
    )
    started_at: Mapped[float] = mapped_column(Float)
    finished_at: Mapped[float] = mapped_column(Float)
    #: Who: the audit log's actor kind and name (gbconnect.audit.Actor).
    actor_kind: Mapped[str] = mapped_column(String(16))
    actor: Mapped[str | None] = mapped_column(String(256))
    #: From what: "file", "upload" or "generator", and the file's name.
    source: Mapped[str] = mapped_column(String(16))
    name: Mapped[str | None] = mapped_column(String(512))
    #: The format read (an ESPI XML feed, a CSV layout, "synthetic").
    format: Mapped[str | None] = mapped_column(String(64))
    usage_points: Mapped[int] = mapped_column(Integer, default=0)
    readings: Mapped[int] = mapped_column(BigInteger, default=0)
    blocks: Mapped[int] = mapped_column(Integer, default=0)
    outcome: Mapped[str] = mapped_column(String(8))
    error: Mapped[str | None] = mapped_column(String(1024))


__all__ = ["FAILED", "OK", "ImportRun"]
