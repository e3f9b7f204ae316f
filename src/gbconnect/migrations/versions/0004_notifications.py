"""notifications: the outbox, delivery jobs, their attempts, signing secrets

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-30 08:50:00

- ``notify_event``: events written in the transaction of the change (the outbox);
- ``notification``: one BatchList POST to one third party (REQ.21 FB_39), leased by
  a worker while it is delivered, retried until delivered or dead;
- ``notification_attempt``: the delivery log (GBA PSH004);
- ``application_information.notify_secret*``: the per-application key of the
  notifications' HMAC-SHA256 signature, and the previous key during a rotation.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "notify_event",
        sa.Column("id", _ID, primary_key=True, autoincrement=True),
        sa.Column("kind", sa.String(40), nullable=False),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.Float(), nullable=False),
        sa.Column("expanded_at", sa.Float(), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_notify_event"),
    )
    op.create_index("ix_notify_event_pending", "notify_event", ["expanded_at", "id"])
    op.create_table(
        "notification",
        sa.Column("id", _ID, primary_key=True, autoincrement=True),
        sa.Column(
            "application_id",
            sa.BigInteger(),
            sa.ForeignKey(
                "application_information.id",
                ondelete="CASCADE",
                name="fk_notification_application_id_application_information",
            ),
            nullable=False,
        ),
        sa.Column(
            "event_id",
            _ID,
            sa.ForeignKey(
                "notify_event.id",
                ondelete="SET NULL",
                name="fk_notification_event_id_notify_event",
            ),
            nullable=True,
        ),
        sa.Column("reason", sa.String(40), nullable=False),
        sa.Column("uris", sa.JSON(), nullable=False),
        sa.Column("idempotency_key", sa.String(64), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.Float(), nullable=False),
        sa.Column("next_attempt_at", sa.Float(), nullable=False),
        sa.Column("lease_until", sa.Float(), nullable=True),
        sa.Column("lease_owner", sa.String(64), nullable=True),
        sa.Column("finished_at", sa.Float(), nullable=True),
        sa.Column("last_status", sa.Integer(), nullable=True),
        sa.Column("last_error", sa.String(500), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_notification"),
        sa.UniqueConstraint("idempotency_key", name="uq_notification_idempotency_key"),
    )
    op.create_index("ix_notification_due", "notification", ["state", "next_attempt_at"])
    op.create_index("ix_notification_application", "notification", ["application_id", "id"])
    op.create_index("ix_notification_event_id", "notification", ["event_id"])
    op.create_table(
        "notification_attempt",
        sa.Column("id", _ID, primary_key=True, autoincrement=True),
        sa.Column(
            "notification_id",
            _ID,
            sa.ForeignKey(
                "notification.id",
                ondelete="CASCADE",
                name="fk_notification_attempt_notification_id_notification",
            ),
            nullable=False,
        ),
        sa.Column("at", sa.Float(), nullable=False),
        sa.Column("outcome", sa.String(16), nullable=False),
        sa.Column("status", sa.Integer(), nullable=True),
        sa.Column("latency_ms", sa.Integer(), nullable=False),
        sa.Column("error", sa.String(500), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_notification_attempt"),
    )
    op.create_index("ix_notification_attempt_at", "notification_attempt", ["at"])
    op.create_index(
        "ix_notification_attempt_notification_id", "notification_attempt", ["notification_id"]
    )
    # Plain ADD COLUMNs (no batch copy of application_information on SQLite).
    op.add_column("application_information", sa.Column("notify_secret", sa.String(64)))
    op.add_column("application_information", sa.Column("notify_secret_previous", sa.String(64)))
    op.add_column("application_information", sa.Column("notify_secret_previous_until", sa.Float()))


def downgrade() -> None:
    # Plain DROP COLUMNs (SQLite 3.35+): a batch copy would drop application_information
    # and cascade to every row that references it.
    op.drop_column("application_information", "notify_secret_previous_until")
    op.drop_column("application_information", "notify_secret_previous")
    op.drop_column("application_information", "notify_secret")
    op.drop_table("notification_attempt")
    op.drop_table("notification")
    op.drop_table("notify_event")
