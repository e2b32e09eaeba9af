"""The language each mention is written in

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-07 06:10:00.000000

Detected when the mention is heard (`bot.hear.languages`), shown on its card, asked by `lang:` in queries and
routes and by `[listen] languages`. Mentions heard before have none.
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("mention", schema=None) as batch_op:
        batch_op.add_column(sa.Column("lang", sqlmodel.sql.sqltypes.AutoString(length=10), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("mention", schema=None) as batch_op:
        batch_op.drop_column("lang")
