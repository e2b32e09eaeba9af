"""Indexes for the weekly summary at a year's scale, and its recovered customers

Revision ID: 0017
Revises: 0012
Create Date: 2026-12-07 13:00:00.000000

- mention (heard_at) replaces the index on heard_at alone and, on PostgreSQL, carries the columns the week's
  counts read (status, source, category, sentiment, product, topic, polarity, urgency, storm_id, id): the
  volume, the topics, the praise, the most negative and the SLA shares' mentions come from the index alone,
  not from a busy week's rows spread over tens of thousands of table pages.
- mention (id, heard_at, status): whether a mention changed since a moment was open
  then, and how old it was (the backlog, the most negative still open), read from the index for each of the
  tens of thousands of mentions resolved or reopened since, not from their rows. The one index a new mention
  adds an entry to that it did not before.
- mention (duplicate_of, heard_at) for the mentions joined to another (a customer writing again, a post heard
  again elsewhere): what a customer said after an answer, one probe per answered mention. Partial, so the
  mentions joined to nothing (nearly all) cost no entry.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0017"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_CARRIED = ["status", "source", "category", "sentiment", "product", "topic", "polarity", "urgency", "storm_id", "id"]
_JOINED = sa.text("duplicate_of IS NOT NULL")


def upgrade() -> None:
    with op.batch_alter_table("mention", schema=None) as batch_op:
        batch_op.create_index("ix_mention_heard_at_figures", ["heard_at"], unique=False, postgresql_include=_CARRIED)
        batch_op.drop_index("ix_mention_heard_at")
        batch_op.create_index("ix_mention_id_heard_at_status", ["id", "heard_at", "status"], unique=False)
        batch_op.create_index(
            "ix_mention_duplicate_of_heard_at",
            ["duplicate_of", "heard_at"],
            unique=False,
            postgresql_where=_JOINED,
            sqlite_where=_JOINED,
        )


def downgrade() -> None:
    with op.batch_alter_table("mention", schema=None) as batch_op:
        batch_op.drop_index("ix_mention_duplicate_of_heard_at")
        batch_op.drop_index("ix_mention_id_heard_at_status")
        batch_op.create_index("ix_mention_heard_at", ["heard_at"], unique=False)
        batch_op.drop_index("ix_mention_heard_at_figures")
