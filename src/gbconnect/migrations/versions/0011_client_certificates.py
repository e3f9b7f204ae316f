"""client certificates; certificate-bound access tokens

Revision ID: 0011
Revises: 0010
Create Date: 2026-11-30 12:30:00

- ``application_certificate``: the client certificates registered to each application
  (mutual TLS, PG&E; RFC 8705 ``x5t#S256`` thumbprints), revoked but never deleted;
- ``oauth_token.cnf_thumbprint``: the certificate an access token is bound to
  (RFC 8705 section 3).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "application_certificate",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("application_id", sa.BigInteger(), nullable=False),
        sa.Column("thumbprint", sa.String(length=43), nullable=False),
        sa.Column("subject", sa.String(length=1024), nullable=False),
        sa.Column("issuer", sa.String(length=1024), nullable=False),
        sa.Column("serial", sa.String(length=64), nullable=False),
        sa.Column("not_before", sa.BigInteger(), nullable=False),
        sa.Column("not_after", sa.BigInteger(), nullable=False),
        sa.Column("added_at", sa.BigInteger(), nullable=False),
        sa.Column("revoked_at", sa.BigInteger(), nullable=True),
        sa.Column("source", sa.String(length=16), nullable=False),
        sa.Column("pem", sa.Text(), nullable=False),
        sa.CheckConstraint(
            "not_before < not_after", name=op.f("ck_application_certificate_validity")
        ),
        sa.CheckConstraint(
            "length(thumbprint) = 43", name=op.f("ck_application_certificate_thumbprint_length")
        ),
        sa.ForeignKeyConstraint(
            ["application_id"],
            ["application_information.id"],
            name=op.f("fk_application_certificate_application_id_application_information"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_application_certificate")),
        sa.UniqueConstraint("thumbprint", name=op.f("uq_application_certificate_thumbprint")),
    )
    op.create_index(
        op.f("ix_application_certificate_application_id"),
        "application_certificate",
        ["application_id"],
    )
    op.add_column("oauth_token", sa.Column("cnf_thumbprint", sa.String(length=43), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("oauth_token") as batch_op:
        batch_op.drop_column("cnf_thumbprint")
    op.drop_index(
        op.f("ix_application_certificate_application_id"), table_name="application_certificate"
    )
    op.drop_table("application_certificate")
