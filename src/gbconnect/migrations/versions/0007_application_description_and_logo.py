"""application description and logo

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-30 12:10:00

- ``application_information.description``: espi.xsd ``thirdPartyApplicationDescription``;
- ``application_logo``: the logo of each third party, kept by the utility and served
  from its own host (the customer's list of companies loads nothing from elsewhere).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column(
        "application_information", sa.Column("description", sa.String(length=256), nullable=True)
    )
    op.create_table(
        "application_logo",
        sa.Column("application_id", sa.BigInteger(), nullable=False),
        sa.Column("content_type", sa.String(length=32), nullable=True),
        sa.Column("data", sa.LargeBinary(), nullable=True),
        sa.Column("source", sa.String(length=1024), nullable=False),
        sa.Column("checked_at", sa.Float(), nullable=False),
        sa.Column("error", sa.String(length=512), nullable=True),
        sa.ForeignKeyConstraint(
            ["application_id"], ["application_information.id"], ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("application_id"),
    )


def downgrade() -> None:
    op.drop_table("application_logo")
    op.drop_column("application_information", "description")
