"""third-party portal: companies, their users, connectivity test results

Revision ID: 0013
Revises: 0012
Create Date: 2026-11-30 12:30:00

- ``company``: a third party's company as it signed up on the portal (legal name,
  PG&E's kind, technical and business contacts);
- ``company_user``: the people who sign in for it (argon2id password, confirmed
  email, optional TOTP second factor);
- ``application_information.company_id``: the company that registered an application
  (NULL for the operator's CLI and RFC 7591 registrations; indexed, no foreign key:
  see below);
- ``application_information.connectivity_passed_at``, ``connectivity_fingerprint``,
  ``connectivity_report``: PG&E's connectivity test, its date, the URIs it was passed
  with and the report of its steps.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None

ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "company",
        sa.Column("id", ID, autoincrement=True, nullable=False),
        sa.Column("legal_name", sa.String(256), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("technical_email", sa.String(254), nullable=False),
        sa.Column("technical_phone", sa.String(32), nullable=False),
        sa.Column("business_email", sa.String(254), nullable=False),
        sa.Column("business_phone", sa.String(32), nullable=False),
        sa.Column("created_at", sa.Float(), nullable=False),
        sa.CheckConstraint(
            "kind IN ('standard', 'self-access', 'ee-financing', 'cca')",
            name=op.f("ck_company_kind"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_company")),
    )
    op.create_table(
        "company_user",
        sa.Column("id", ID, autoincrement=True, nullable=False),
        sa.Column("company_id", sa.BigInteger(), nullable=False),
        sa.Column("name", sa.String(256), nullable=False),
        sa.Column("email", sa.String(254), nullable=False),
        sa.Column("password_hash", sa.String(256), nullable=False),
        sa.Column("confirmed_at", sa.Float(), nullable=True),
        sa.Column("session_epoch", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("totp_secret", sa.String(64), nullable=True),
        sa.Column("totp_recovery", sa.JSON(), nullable=True),
        sa.Column("created_at", sa.Float(), nullable=False),
        sa.ForeignKeyConstraint(
            ["company_id"],
            ["company.id"],
            ondelete="CASCADE",
            name=op.f("fk_company_user_company_id_company"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_company_user")),
        sa.UniqueConstraint("email", name=op.f("uq_company_user_email")),
    )
    op.create_index("ix_company_user_company_id", "company_user", ["company_id"])
    # Plain ADD COLUMNs: a batch copy of application_information would cascade on
    # SQLite, and SQLite's ALTER TABLE cannot add a named foreign key that reflects
    # back; company_id is therefore an indexed column without a foreign key (the
    # portal sets it, and no path deletes a company).
    op.add_column(
        "application_information", sa.Column("company_id", sa.BigInteger(), nullable=True)
    )
    op.add_column(
        "application_information", sa.Column("connectivity_passed_at", sa.Float(), nullable=True)
    )
    op.add_column(
        "application_information",
        sa.Column("connectivity_fingerprint", sa.String(64), nullable=True),
    )
    op.add_column(
        "application_information", sa.Column("connectivity_report", sa.JSON(), nullable=True)
    )
    op.create_index(
        "ix_application_information_company_id", "application_information", ["company_id"]
    )


def downgrade() -> None:
    op.drop_index("ix_application_information_company_id", table_name="application_information")
    for column in ("connectivity_report", "connectivity_fingerprint", "connectivity_passed_at"):
        op.drop_column("application_information", column)
    op.drop_column("application_information", "company_id")
    op.drop_index("ix_company_user_company_id", table_name="company_user")
    op.drop_table("company_user")
    op.drop_table("company")
