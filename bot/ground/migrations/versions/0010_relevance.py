"""The relevance model and each mention's score

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-07 07:15:00.000000

One row holds the workspace's relevance model, learned from what the team does with mentions
(`bot.act.learning`) and read by every process (`bot.hear.relevance`); each mention keeps the score it was
given when the model was on. Mentions heard before have none.
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op

import bot.ground.db

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "relevancemodel",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("model", sa.LargeBinary(), nullable=True),
        sa.Column("library", sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
        sa.Column("learned_to", sa.Integer(), nullable=False),
        sa.Column("relevant", sa.Integer(), nullable=False),
        sa.Column("not_relevant", sa.Integer(), nullable=False),
        sa.Column("updated_at", bot.ground.db.UTCDateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("mention", schema=None) as batch_op:
        batch_op.add_column(sa.Column("relevance", sa.Float(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("mention", schema=None) as batch_op:
        batch_op.drop_column("relevance")
    op.drop_table("relevancemodel")
