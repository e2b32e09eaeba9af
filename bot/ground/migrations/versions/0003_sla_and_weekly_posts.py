"""SLA nudges, snoozes, conversations, weekly posts

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-25 22:25:20.782223
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op

import bot.ground.db

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "weeklypost",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("week", sqlmodel.sql.sqltypes.AutoString(length=10), nullable=False),
        sa.Column("channel", sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
        sa.Column("status", sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("lease_until", bot.ground.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("message_ts", sqlmodel.sql.sqltypes.AutoString(length=40), nullable=True),
        sa.Column("file_id", sqlmodel.sql.sqltypes.AutoString(length=40), nullable=True),
        sa.Column("last_error", sqlmodel.sql.sqltypes.AutoString(), nullable=True),
        sa.Column("created_at", bot.ground.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("posted_at", bot.ground.db.UTCDateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("week", "channel", name="uq_weeklypost_week_channel"),
    )
    op.create_table(
        "nudge",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("mention_id", sa.Integer(), nullable=False),
        sa.Column("key", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column("at", bot.ground.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["mention_id"],
            ["mention.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("mention_id", "key", name="uq_nudge_mention_key"),
    )
    with op.batch_alter_table("nudge", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_nudge_mention_id"), ["mention_id"], unique=False)

    with op.batch_alter_table("mention", schema=None) as batch_op:
        batch_op.add_column(sa.Column("thread", sqlmodel.sql.sqltypes.AutoString(length=500), nullable=True))
        batch_op.add_column(sa.Column("snoozed_until", bot.ground.db.UTCDateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("mention", schema=None) as batch_op:
        batch_op.drop_column("snoozed_until")
        batch_op.drop_column("thread")

    with op.batch_alter_table("nudge", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_nudge_mention_id"))

    op.drop_table("nudge")
    op.drop_table("weeklypost")
