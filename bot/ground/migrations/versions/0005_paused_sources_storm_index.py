"""Sources an admin paused from Slack; an index for counting a storm's mentions

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-04 20:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import bot.ground.db

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("sourcestate", schema=None) as batch_op:
        batch_op.add_column(sa.Column("paused_at", bot.ground.db.UTCDateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("paused_by", sa.String(length=40), nullable=True))
    with op.batch_alter_table("mention", schema=None) as batch_op:
        batch_op.create_index("ix_mention_channel_topic_heard_at", ["channel", "topic", "heard_at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("mention", schema=None) as batch_op:
        batch_op.drop_index("ix_mention_channel_topic_heard_at")
    with op.batch_alter_table("sourcestate", schema=None) as batch_op:
        batch_op.drop_column("paused_by")
        batch_op.drop_column("paused_at")
