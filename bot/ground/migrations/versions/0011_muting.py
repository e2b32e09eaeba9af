"""Muted mentions and the daily digest

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-07 10:00:00.000000

A mention the relevance model finds very likely not relevant is muted: no card, but a line in its channel's
daily digest (`digest`), which `mention.digest_id` points to. The model keeps the scores it gave relevant
labels before learning them: how low a relevant mention may score sets the bar below which it mutes.
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op

import bot.ground.db

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "digest",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("channel", sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
        sa.Column("day", sqlmodel.sql.sqltypes.AutoString(length=10), nullable=False),
        sa.Column("muted", sa.Integer(), nullable=False),
        sa.Column("created_at", bot.ground.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("card_channel", sqlmodel.sql.sqltypes.AutoString(length=40), nullable=True),
        sa.Column("card_ts", sqlmodel.sql.sqltypes.AutoString(length=40), nullable=True),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("channel", "day", name="uq_digest_channel_day"),
    )
    # A plain column, no foreign key: on SQLite a key means rebuilding `mention`, which the events and the
    # outbox reference; digests are never deleted.
    op.add_column("mention", sa.Column("digest_id", sa.Integer(), nullable=True))
    op.create_index(
        "ix_mention_digest_id",
        "mention",
        ["digest_id", "id"],
        unique=False,
        postgresql_where=sa.text("digest_id IS NOT NULL"),
        sqlite_where=sa.text("digest_id IS NOT NULL"),
    )
    with op.batch_alter_table("relevancemodel", schema=None) as batch_op:
        batch_op.add_column(sa.Column("relevant_scores", sa.JSON(), nullable=False, server_default="[]"))


def downgrade() -> None:
    with op.batch_alter_table("relevancemodel", schema=None) as batch_op:
        batch_op.drop_column("relevant_scores")
    op.drop_index("ix_mention_digest_id", table_name="mention")
    with op.batch_alter_table("mention", schema=None) as batch_op:
        batch_op.drop_column("digest_id")
    op.drop_table("digest")
