"""batch packages: the deferred answers of asynchronous Batch requests

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-30 09:00:00

- ``batch_package``: one Batch/Bulk or Batch/Subscription request answered 202
  Accepted (GBA 2024: any resource GET may answer 202), who asked for it, its state
  (pending, ready, failed), its times and its gzip file in GBCONNECT_BATCH_DIR
  (gbconnect.api.packages).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "batch_package",
        sa.Column("id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("token_class", sa.String(2), nullable=False),
        sa.Column(
            "application_id",
            sa.BigInteger(),
            sa.ForeignKey(
                "application_information.id",
                ondelete="CASCADE",
                name="fk_batch_package_application_id_application_information",
            ),
            nullable=True,
        ),
        sa.Column(
            "authorization_id",
            sa.BigInteger(),
            sa.ForeignKey(
                "authorization.id",
                ondelete="CASCADE",
                name="fk_batch_package_authorization_id_authorization",
            ),
            nullable=True,
        ),
        sa.Column("scope", sa.String(2048), nullable=False),
        sa.Column("path", sa.String(1024), nullable=False),
        sa.Column("query", sa.String(2048), nullable=False),
        sa.Column("pending_key", sa.String(64), nullable=True),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("created_at", sa.Float(), nullable=False),
        sa.Column("ready_at", sa.Float(), nullable=True),
        sa.Column("expires_at", sa.Float(), nullable=False),
        sa.Column("lease_until", sa.Float(), nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("file", sa.String(255), nullable=True),
        sa.Column("size", sa.BigInteger(), nullable=True),
        sa.Column("error", sa.String(500), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_batch_package"),
        sa.UniqueConstraint("pending_key", name="uq_batch_package_pending_key"),
        sa.CheckConstraint(
            "state IN ('pending', 'ready', 'failed')", name=op.f("ck_batch_package_state")
        ),
    )
    op.create_index("ix_batch_package_due", "batch_package", ["state", "created_at"])
    op.create_index("ix_batch_package_application_id", "batch_package", ["application_id"])
    op.create_index("ix_batch_package_authorization_id", "batch_package", ["authorization_id"])
    op.create_index("ix_batch_package_expires_at", "batch_package", ["expires_at"])


def downgrade() -> None:
    op.drop_table("batch_package")
