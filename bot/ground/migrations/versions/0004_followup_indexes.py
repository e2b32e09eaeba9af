"""Indexes for finding the conversation a new post continues

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-26 10:00:00.000000
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("mention", schema=None) as batch_op:
        batch_op.create_index("ix_mention_source_author_heard_at", ["source", "author", "heard_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_mention_thread"), ["thread"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("mention", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_mention_thread"))
        batch_op.drop_index("ix_mention_source_author_heard_at")
