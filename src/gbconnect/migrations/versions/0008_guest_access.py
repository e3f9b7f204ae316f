"""guest access: the phone on the account and one-time codes

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-30 12:00:00

- ``retail_customer.phone``: the account's phone, E.164 (STANDARD.md section 7: PG&E's
  guest access asks for the account number and the phone on the account);
- ``one_time_code``: codes texted for guest access, creating an online account and
  confirming a new phone, kept as HMACs only.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # A plain ADD COLUMN: a batch copy of retail_customer would cascade on SQLite.
    op.add_column("retail_customer", sa.Column("phone", sa.String(32)))
    op.create_table(
        "one_time_code",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True),
        sa.Column(
            "retail_customer_id",
            sa.BigInteger(),
            sa.ForeignKey(
                "retail_customer.id",
                ondelete="CASCADE",
                name="fk_one_time_code_retail_customer_id_retail_customer",
            ),
            nullable=False,
        ),
        sa.Column("purpose", sa.String(16), nullable=False),
        sa.Column("phone", sa.String(32), nullable=False),
        sa.Column("code_hash", sa.String(64), nullable=False),
        sa.Column("created", sa.Float(), nullable=False),
        sa.Column("expires", sa.Float(), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("used_at", sa.Float()),
        sa.PrimaryKeyConstraint("id", name="pk_one_time_code"),
    )
    op.create_index(
        "ix_one_time_code_customer_purpose", "one_time_code", ["retail_customer_id", "purpose"]
    )


def downgrade() -> None:
    op.drop_table("one_time_code")
    op.drop_column("retail_customer", "phone")
