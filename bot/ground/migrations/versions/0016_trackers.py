"""Tracker issues: mentions made evidence on a GitHub, Jira or Linear issue, and told when it ships

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-07 12:30:00.000000

One row per tracker issue, its state changed with conditional updates; each mention names the issue it is
evidence on.
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op

import bot.ground.db

revision: str = "0016"
down_revision: str | None = "0015"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_LINKED = sa.text("tracker_issue_id IS NOT NULL")


def upgrade() -> None:
    op.create_table(
        "trackerissue",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("tracker", sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
        sa.Column("key", sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
        sa.Column("ref", sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
        sa.Column("url", sqlmodel.sql.sqltypes.AutoString(length=2000), nullable=False),
        sa.Column("title", sqlmodel.sql.sqltypes.AutoString(length=500), nullable=False),
        sa.Column("state", sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
        sa.Column("created_at", bot.ground.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("created_from", sa.Integer(), nullable=True),
        sa.Column("shipped_at", bot.ground.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("checked_at", bot.ground.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("problem", sqlmodel.sql.sqltypes.AutoString(), nullable=True),
        sa.ForeignKeyConstraint(["created_from"], ["mention.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("tracker", "key", name="uq_trackerissue_tracker_key"),
    )
    with op.batch_alter_table("trackerissue", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_trackerissue_created_at"), ["created_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_trackerissue_shipped_at"), ["shipped_at"], unique=False)
    with op.batch_alter_table("mention", schema=None) as batch_op:
        batch_op.add_column(sa.Column("tracker_issue_id", sa.Integer(), nullable=True))
        batch_op.create_index(
            "ix_mention_tracker_issue_id",
            ["tracker_issue_id", "source", "author", "external_id"],
            unique=False,
            postgresql_where=_LINKED,
            sqlite_where=_LINKED,
        )


def downgrade() -> None:
    with op.batch_alter_table("mention", schema=None) as batch_op:
        batch_op.drop_index("ix_mention_tracker_issue_id")
        batch_op.drop_column("tracker_issue_id")
    with op.batch_alter_table("trackerissue", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_trackerissue_shipped_at"))
        batch_op.drop_index(batch_op.f("ix_trackerissue_created_at"))
    op.drop_table("trackerissue")
