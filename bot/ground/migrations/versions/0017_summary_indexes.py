"""Indexes for the weekly summary at a year's scale, and its recovered customers

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-07 13:00:00.000000

- mention (heard_at, id), the read API's (0015), on PostgreSQL also carries the columns the week's
  counts read (status, source, category, sentiment, product, topic, polarity, urgency, storm_id): the
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
down_revision: str | None = "0016"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_CARRIED = ["status", "source", "category", "sentiment", "product", "topic", "polarity", "urgency", "storm_id"]
_JOINED = sa.text("duplicate_of IS NOT NULL")


def upgrade() -> None:
    with op.batch_alter_table("mention", schema=None) as batch_op:
        if op.get_bind().dialect.name == "postgresql":  # SQLite has no INCLUDE: its (heard_at, id) stays as it is
            batch_op.drop_index("ix_mention_heard_at_id")
            batch_op.create_index(
                "ix_mention_heard_at_id", ["heard_at", "id"], unique=False, postgresql_include=_CARRIED
            )
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
        if op.get_bind().dialect.name == "postgresql":
            batch_op.drop_index("ix_mention_heard_at_id")
            batch_op.create_index("ix_mention_heard_at_id", ["heard_at", "id"], unique=False)
