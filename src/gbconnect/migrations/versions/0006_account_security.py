"""account security: session epochs, TOTP second factor, recent sign-ins

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-30 10:10:00

- ``retail_customer.session_epoch``: "sign out everywhere" and a password reset move
  it on; older sessions end;
- ``retail_customer.totp_secret`` and ``totp_recovery``: the optional second factor
  (RFC 6238) and the hashes of its unused recovery codes;
- ``sign_in``: each sign-in to an account, and each failed try, for the account's
  recent sign-ins.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Plain ADD COLUMNs: a batch copy of retail_customer would cascade on SQLite.
    op.add_column(
        "retail_customer",
        sa.Column("session_epoch", sa.Integer(), nullable=False, server_default="0"),
    )
    op.add_column("retail_customer", sa.Column("totp_secret", sa.String(64)))
    op.add_column("retail_customer", sa.Column("totp_recovery", sa.JSON()))
    op.create_table(
        "sign_in",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True),
        sa.Column(
            "retail_customer_id",
            sa.BigInteger(),
            sa.ForeignKey(
                "retail_customer.id",
                ondelete="CASCADE",
                name="fk_sign_in_retail_customer_id_retail_customer",
            ),
            nullable=False,
        ),
        sa.Column("at", sa.Float(), nullable=False),
        sa.Column("outcome", sa.String(32), nullable=False),
        sa.Column("address", sa.String(64)),
        sa.Column("user_agent", sa.String(256)),
        sa.PrimaryKeyConstraint("id", name="pk_sign_in"),
    )
    op.create_index("ix_sign_in_customer_at", "sign_in", ["retail_customer_id", "at"])


def downgrade() -> None:
    op.drop_table("sign_in")
    op.drop_column("retail_customer", "totp_recovery")
    op.drop_column("retail_customer", "totp_secret")
    op.drop_column("retail_customer", "session_epoch")
