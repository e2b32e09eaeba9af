"""A review's star rating and the app version it was written about

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-07 12:15:00.000000

App store reviews (`appstore`, `googleplay`) carry both: the card shows them and triage weighs a low rating
towards needs-a-human. Mentions from other sources, and those heard before, have neither.
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op

revision: str = "0014"
down_revision: str | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("mention", schema=None) as batch_op:
        batch_op.add_column(sa.Column("rating", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("app_version", sqlmodel.sql.sqltypes.AutoString(length=50), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("mention", schema=None) as batch_op:
        batch_op.drop_column("app_version")
        batch_op.drop_column("rating")
