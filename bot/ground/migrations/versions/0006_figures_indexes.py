"""Indexes for the weekly figures, the Home tab and the queues at a year's scale

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-04 21:00:00.000000

Each replaces an index it begins with, so writes maintain no more indexes than before but one:
- event (kind, at, mention_id, actor): a week's claims, replies and resolves, and who acted, read from
  the index alone (was (kind, at));
- event (mention_id, kind, at): "had it been claimed before the week?" and a mention's last resolve
  or reopen, one index probe each (was (mention_id));
- mention (status, owner_id, channel, heard_at, id): the open backlog by age and the queues' counts
  from the index alone (was (status)).
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("event", schema=None) as batch_op:
        batch_op.create_index("ix_event_kind_at_mention_actor", ["kind", "at", "mention_id", "actor"], unique=False)
        batch_op.create_index("ix_event_mention_id_kind_at", ["mention_id", "kind", "at"], unique=False)
        batch_op.drop_index("ix_event_kind_at")
        batch_op.drop_index("ix_event_mention_id")
    with op.batch_alter_table("mention", schema=None) as batch_op:
        batch_op.create_index(
            "ix_mention_status_owner_channel", ["status", "owner_id", "channel", "heard_at", "id"], unique=False
        )
        batch_op.drop_index("ix_mention_status")


def downgrade() -> None:
    with op.batch_alter_table("mention", schema=None) as batch_op:
        batch_op.create_index("ix_mention_status", ["status"], unique=False)
        batch_op.drop_index("ix_mention_status_owner_channel")
    with op.batch_alter_table("event", schema=None) as batch_op:
        batch_op.create_index("ix_event_mention_id", ["mention_id"], unique=False)
        batch_op.create_index("ix_event_kind_at", ["kind", "at"], unique=False)
        batch_op.drop_index("ix_event_mention_id_kind_at")
        batch_op.drop_index("ix_event_kind_at_mention_actor")
