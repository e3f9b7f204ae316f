"""rate limit counters

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-30 12:30:00

- ``rate_counter``: hits per key and window, shared by every API process on
  PostgreSQL (gbconnect.ratelimit): the API's limits per vendor and client id, and
  the sign-in and one-time-code throttles.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "rate_counter",
        sa.Column("key", sa.String(length=300), nullable=False),
        sa.Column("start", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("count", sa.BigInteger(), nullable=False),
        sa.Column("expires", sa.BigInteger(), nullable=False),
        sa.CheckConstraint("count >= 0", name=op.f("ck_rate_counter_count_not_negative")),
        sa.PrimaryKeyConstraint("key", "start", name=op.f("pk_rate_counter")),
    )
    op.create_index("ix_rate_counter_expires", "rate_counter", ["expires"])


def downgrade() -> None:
    op.drop_index("ix_rate_counter_expires", table_name="rate_counter")
    op.drop_table("rate_counter")
