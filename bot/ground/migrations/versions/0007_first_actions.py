"""When each mention was first claimed and first resolved, and indexes for a week's waits

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-04 23:00:00.000000

The weekly figures measured the waits for a first claim, reply and resolve by finding, for each of the
week's events, whether the mention had one of that kind before: one index probe per event, the summary's
costliest statement at a year's scale. The mention now keeps those moments (`first_reply_at` it kept
already), filled here from the events for what was recorded before.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import bot.ground.db

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_FIRSTS = ("first_claimed_at", "first_reply_at", "first_resolved_at")


def upgrade() -> None:
    with op.batch_alter_table("mention", schema=None) as batch_op:
        batch_op.add_column(sa.Column("first_claimed_at", bot.ground.db.UTCDateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("first_resolved_at", bot.ground.db.UTCDateTime(timezone=True), nullable=True))
    op.execute(
        "UPDATE mention SET"
        " first_claimed_at = (SELECT min(at) FROM event WHERE mention_id = mention.id AND kind = 'claimed'),"
        " first_resolved_at = (SELECT min(at) FROM event WHERE mention_id = mention.id AND kind = 'resolved')"
        " WHERE EXISTS (SELECT 1 FROM event WHERE mention_id = mention.id AND kind IN ('claimed', 'resolved'))"
    )
    with op.batch_alter_table("mention", schema=None) as batch_op:
        for first in _FIRSTS:
            where = sa.text(f"{first} IS NOT NULL")
            batch_op.create_index(
                f"ix_mention_{first}", [first, "heard_at"], unique=False, postgresql_where=where, sqlite_where=where
            )


def downgrade() -> None:
    with op.batch_alter_table("mention", schema=None) as batch_op:
        for first in _FIRSTS:
            batch_op.drop_index(f"ix_mention_{first}")
        batch_op.drop_column("first_resolved_at")
        batch_op.drop_column("first_claimed_at")
