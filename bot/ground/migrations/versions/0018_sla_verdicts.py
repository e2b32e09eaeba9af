"""Each resolved mention's SLA verdicts, recorded once its timers stopped

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-07 16:00:00.000000

The weekly summary replayed every SLA history of the week, tens of thousands of them in a busy week, to count
the shares within target. A resolved mention's verdicts no longer change until it is reopened, so they are
recorded (`bot.act.sla.verdicts`): when, under which targets, and met or missed for each. Nothing is filled
here, as the verdicts depend on `[sla]`, which a migration does not read: the bot records the mentions resolved
before this migration in its first hours after it (a few thousand a minute), and a summary replays whatever is
not recorded yet.

- On PostgreSQL, mention (heard_at, id) carries the record too, so a week's shares come from that index alone.
- mention (id), partial on the resolved mentions not yet recorded: what the recording job takes up.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import bot.ground.db

revision: str = "0018"
down_revision: str | None = "0017"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_CARRIED = ["status", "source", "category", "sentiment", "product", "topic", "polarity", "urgency", "storm_id"]
_RECORD = ["sla_judged_at", "sla_judged_for", "sla_claim_met", "sla_reply_met", "sla_resolve_met"]
_UNJUDGED = sa.text("status = 'resolved' AND sla_judged_at IS NULL")


def upgrade() -> None:
    with op.batch_alter_table("mention", schema=None) as batch_op:
        batch_op.add_column(sa.Column("sla_judged_at", bot.ground.db.UTCDateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("sla_judged_for", sa.String(length=16), nullable=True))
        for target in ("claim", "reply", "resolve"):
            batch_op.add_column(sa.Column(f"sla_{target}_met", sa.Boolean(), nullable=True))
    with op.batch_alter_table("mention", schema=None) as batch_op:
        batch_op.create_index(
            "ix_mention_unjudged", ["id"], unique=False, postgresql_where=_UNJUDGED, sqlite_where=_UNJUDGED
        )
        if op.get_bind().dialect.name == "postgresql":
            batch_op.drop_index("ix_mention_heard_at_id")
            batch_op.create_index(
                "ix_mention_heard_at_id", ["heard_at", "id"], unique=False, postgresql_include=_CARRIED + _RECORD
            )


def downgrade() -> None:
    with op.batch_alter_table("mention", schema=None) as batch_op:
        if op.get_bind().dialect.name == "postgresql":
            batch_op.drop_index("ix_mention_heard_at_id")
            batch_op.create_index(
                "ix_mention_heard_at_id", ["heard_at", "id"], unique=False, postgresql_include=_CARRIED
            )
        batch_op.drop_index("ix_mention_unjudged")
        for column in reversed(_RECORD):
            batch_op.drop_column(column)
