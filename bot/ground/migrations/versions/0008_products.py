"""Which product a mention is about, and the query's words that kept it

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-06 20:30:00.000000

`[[listen.products]]` lets one bot listen for several products (a company's own and its competitors'); each
mention keeps the first whose query it matched, for routing and the summary's share of voice, and the words
and phrases that matched, which its card shows. Mentions heard before have neither.
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("mention", schema=None) as batch_op:
        batch_op.add_column(sa.Column("product", sqlmodel.sql.sqltypes.AutoString(length=100), nullable=True))
        batch_op.add_column(sa.Column("matched", sqlmodel.sql.sqltypes.AutoString(length=500), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("mention", schema=None) as batch_op:
        batch_op.drop_column("matched")
        batch_op.drop_column("product")
