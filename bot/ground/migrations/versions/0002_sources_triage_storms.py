"""sources with cursors and backoff, triage, duplicates, storms, replay protection

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-25 21:22:47.502694
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op

import bot.ground.db

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "seenrequest",
        sa.Column("digest", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("seen_at", bot.ground.db.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("digest"),
    )
    with op.batch_alter_table("seenrequest", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_seenrequest_seen_at"), ["seen_at"], unique=False)

    op.create_table(
        "storm",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("channel", sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
        sa.Column("topic", sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
        sa.Column("counted_from", bot.ground.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("started_at", bot.ground.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("last_at", bot.ground.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("card_channel", sqlmodel.sql.sqltypes.AutoString(length=40), nullable=True),
        sa.Column("card_ts", sqlmodel.sql.sqltypes.AutoString(length=40), nullable=True),
        sa.Column("refresh_queued", sa.Boolean(), nullable=False, server_default=sa.false()),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("storm", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_storm_last_at"), ["last_at"], unique=False)

    with op.batch_alter_table("mention", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("category", sqlmodel.sql.sqltypes.AutoString(length=30), nullable=False, server_default="other")
        )
        batch_op.add_column(
            sa.Column("urgency", sqlmodel.sql.sqltypes.AutoString(length=10), nullable=False, server_default="normal")
        )
        batch_op.add_column(sa.Column("needs_human", sa.Boolean(), nullable=False, server_default=sa.false()))
        batch_op.add_column(sa.Column("author_reach", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("canonical_url", sqlmodel.sql.sqltypes.AutoString(length=2000), nullable=True))
        batch_op.add_column(sa.Column("duplicate_of", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("storm_id", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("forwarded_by", sqlmodel.sql.sqltypes.AutoString(length=40), nullable=True))
        batch_op.add_column(sa.Column("topic", sqlmodel.sql.sqltypes.AutoString(length=100), nullable=True))
        batch_op.add_column(sa.Column("reply_to", sa.JSON(), nullable=True))
        batch_op.create_index(batch_op.f("ix_mention_canonical_url"), ["canonical_url"], unique=False)
        batch_op.create_index(batch_op.f("ix_mention_storm_id"), ["storm_id"], unique=False)
        batch_op.create_foreign_key("fk_mention_duplicate_of", "mention", ["duplicate_of"], ["id"])
        batch_op.create_foreign_key("fk_mention_storm_id", "storm", ["storm_id"], ["id"])

    with op.batch_alter_table("sourcestate", schema=None) as batch_op:
        batch_op.add_column(sa.Column("cursor", sa.JSON(), nullable=False, server_default="{}"))
        batch_op.add_column(sa.Column("last_poll_at", bot.ground.db.UTCDateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("backoff_until", bot.ground.db.UTCDateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("sourcestate", schema=None) as batch_op:
        batch_op.drop_column("backoff_until")
        batch_op.drop_column("last_poll_at")
        batch_op.drop_column("cursor")

    with op.batch_alter_table("mention", schema=None) as batch_op:
        batch_op.drop_constraint("fk_mention_storm_id", type_="foreignkey")
        batch_op.drop_constraint("fk_mention_duplicate_of", type_="foreignkey")
        batch_op.drop_index(batch_op.f("ix_mention_storm_id"))
        batch_op.drop_index(batch_op.f("ix_mention_canonical_url"))
        batch_op.drop_column("reply_to")
        batch_op.drop_column("topic")
        batch_op.drop_column("forwarded_by")
        batch_op.drop_column("storm_id")
        batch_op.drop_column("duplicate_of")
        batch_op.drop_column("canonical_url")
        batch_op.drop_column("author_reach")
        batch_op.drop_column("needs_human")
        batch_op.drop_column("urgency")
        batch_op.drop_column("category")

    with op.batch_alter_table("storm", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_storm_last_at"))

    op.drop_table("storm")
    with op.batch_alter_table("seenrequest", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_seenrequest_seen_at"))

    op.drop_table("seenrequest")
