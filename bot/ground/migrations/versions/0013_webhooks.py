"""Outbound webhooks: the receivers, and the outbox rows that carry an event to one of them

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-07 12:30:00.000000

A receiver is written from `[[webhooks]]` at each start and keeps its health (failures, backoff, pause);
a webhook row names its receiver, the event it tells of and that event's id (the same for every receiver).
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op

import bot.ground.db

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "webhookreceiver",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("url", sqlmodel.sql.sqltypes.AutoString(length=2000), nullable=False),
        sa.Column("events", sa.JSON(), nullable=False),
        sa.Column("last_success_at", bot.ground.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("last_error", sqlmodel.sql.sqltypes.AutoString(), nullable=True),
        sa.Column("failing_since", bot.ground.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("failures", sa.Integer(), nullable=False),
        sa.Column("retry_at", bot.ground.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("paused_at", bot.ground.db.UTCDateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("url"),
    )
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.add_column(sa.Column("webhook_id", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("webhook_event", sqlmodel.sql.sqltypes.AutoString(length=30), nullable=True))
        batch_op.add_column(sa.Column("webhook_event_id", sqlmodel.sql.sqltypes.AutoString(length=40), nullable=True))
        batch_op.create_foreign_key("fk_outbox_webhook_id", "webhookreceiver", ["webhook_id"], ["id"])


def downgrade() -> None:
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.drop_constraint("fk_outbox_webhook_id", type_="foreignkey")
        batch_op.drop_column("webhook_event_id")
        batch_op.drop_column("webhook_event")
        batch_op.drop_column("webhook_id")
    op.drop_table("webhookreceiver")
