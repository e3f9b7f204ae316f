"""staff console: staff accounts and the import history

Revision ID: 0012
Revises: 0011
Create Date: 2026-11-30 12:30:00

- ``staff_user``: the utility's console accounts (gbconnect.console.models), a role
  each (viewer, operator, administrator), password and optional second factor;
- ``import_run``: every meter-data import, refused ones too (gbconnect.ingest.runs).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "staff_user",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("email", sa.String(length=256), nullable=False),
        sa.Column("name", sa.String(length=256), nullable=False),
        sa.Column("password_hash", sa.String(length=256), nullable=False),
        sa.Column("role", sa.String(length=16), nullable=False),
        sa.Column("totp_secret", sa.String(length=64), nullable=True),
        sa.Column("totp_recovery", sa.JSON(), nullable=True),
        sa.Column("session_epoch", sa.Integer(), server_default="0", nullable=False),
        sa.Column("created_at", sa.Float(), nullable=False),
        sa.Column("disabled_at", sa.Float(), nullable=True),
        sa.CheckConstraint(
            "role IN ('viewer', 'operator', 'administrator')", name=op.f("ck_staff_user_role")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_staff_user")),
        sa.UniqueConstraint("email", name=op.f("uq_staff_user_email")),
    )
    op.create_table(
        "import_run",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("started_at", sa.Float(), nullable=False),
        sa.Column("finished_at", sa.Float(), nullable=False),
        sa.Column("actor_kind", sa.String(length=16), nullable=False),
        sa.Column("actor", sa.String(length=256), nullable=True),
        sa.Column("source", sa.String(length=16), nullable=False),
        sa.Column("name", sa.String(length=512), nullable=True),
        sa.Column("format", sa.String(length=64), nullable=True),
        sa.Column("usage_points", sa.Integer(), nullable=False),
        sa.Column("readings", sa.BigInteger(), nullable=False),
        sa.Column("blocks", sa.Integer(), nullable=False),
        sa.Column("outcome", sa.String(length=8), nullable=False),
        sa.Column("error", sa.String(length=1024), nullable=True),
        sa.CheckConstraint("outcome IN ('ok', 'failed')", name=op.f("ck_import_run_outcome")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_import_run")),
    )
    op.create_index("ix_import_run_started_at", "import_run", ["started_at"])


def downgrade() -> None:
    op.drop_index("ix_import_run_started_at", table_name="import_run")
    op.drop_table("import_run")
    op.drop_table("staff_user")
