"""Spikes: an hour's mentions well past the same hour of the week in past weeks

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-07 10:00:00.000000

A spike is opened once per product (or for all mentions), at most one open at a time for each (a partial
unique index), and its alert and thread updates are rendered from its events, which their outbox rows name.
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op

import bot.ground.db

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_OPEN = sa.text("ended_at IS NULL")


def upgrade() -> None:
    op.create_table(
        "spike",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("scope", sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
        sa.Column("channel", sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
        sa.Column("mention_id", sa.Integer(), nullable=False),
        sa.Column("started_at", bot.ground.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("checked_at", bot.ground.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.Column("peak", sa.Integer(), nullable=False),
        sa.Column("told", sa.Integer(), nullable=False),
        sa.Column("low", sa.Integer(), nullable=False),
        sa.Column("high", sa.Integer(), nullable=False),
        sa.Column("card_channel", sqlmodel.sql.sqltypes.AutoString(length=40), nullable=True),
        sa.Column("card_ts", sqlmodel.sql.sqltypes.AutoString(length=40), nullable=True),
        sa.Column("ended_at", bot.ground.db.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["mention_id"], ["mention.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("spike", schema=None) as batch_op:
        batch_op.create_index("uq_spike_open_scope", ["scope"], unique=True, postgresql_where=_OPEN, sqlite_where=_OPEN)
    op.create_table(
        "spikeevent",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("spike_id", sa.Integer(), nullable=False),
        sa.Column("kind", sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
        sa.Column("at", bot.ground.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("data", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(["spike_id"], ["spike.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("spikeevent", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_spikeevent_spike_id"), ["spike_id"], unique=False)
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.add_column(sa.Column("spike_event_id", sa.Integer(), nullable=True))
        batch_op.create_foreign_key("fk_outbox_spike_event_id", "spikeevent", ["spike_event_id"], ["id"])


def downgrade() -> None:
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.drop_constraint("fk_outbox_spike_event_id", type_="foreignkey")
        batch_op.drop_column("spike_event_id")
    with op.batch_alter_table("spikeevent", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_spikeevent_spike_id"))
    op.drop_table("spikeevent")
    with op.batch_alter_table("spike", schema=None) as batch_op:
        batch_op.drop_index("uq_spike_open_scope")
    op.drop_table("spike")
