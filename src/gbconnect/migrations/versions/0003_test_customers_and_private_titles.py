"""test customers and authorization titles without the customer's login

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-30 07:15:00

- ``retail_customer.is_test``: a test account of the utility, the only kind that may
  authorize a third party the utility has not approved yet (PG&E's connectivity test:
  the OAuth step is done with test accounts).
- Authorization titles named the customer's login ("Acme for customer00006"); a third
  party receives the title, and nothing it receives may carry PII it was not granted
  (REQ.21 FB_13). Stored titles become "{client name} authorization {id}".
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # A plain ADD COLUMN on every database: SQLite's batch mode would copy the table,
    # and dropping retail_customer would cascade to every row that references it.
    op.add_column(
        "retail_customer",
        sa.Column("is_test", sa.Boolean(), nullable=False, server_default=sa.false()),
    )
    authorization = sa.table(
        "authorization",
        sa.column("id", sa.BigInteger()),
        sa.column("title", sa.String()),
        sa.column("application_id", sa.BigInteger()),
        sa.column("retail_customer_id", sa.BigInteger()),
    )
    application = sa.table(
        "application_information",
        sa.column("id", sa.BigInteger()),
        sa.column("client_name", sa.String()),
    )
    name = (
        sa.select(application.c.client_name)
        .where(application.c.id == authorization.c.application_id)
        .scalar_subquery()
    )
    title = sa.func.substr(
        name + sa.literal(" authorization ") + sa.cast(authorization.c.id, sa.String()), 1, 256
    )
    op.execute(
        authorization.update()
        .where(authorization.c.retail_customer_id.is_not(None))
        .values(title=title)
    )


def downgrade() -> None:
    op.drop_column("retail_customer", "is_test")  # SQLite 3.35+: a plain DROP COLUMN
