"""The read API's pages: mentions in the order they were heard, all of them or one owner's, product's or source's

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-07 12:30:00.000000

Each page of `GET /api/v1/mentions` is one range scan (keyset on heard_at, then id) of one of these:
- mention (heard_at, id), which replaces mention (heard_at): every heard_at range it served it still serves;
- mention (owner_id, heard_at, id), which replaces mention (owner_id);
- mention (product, heard_at, id), partial: mentions of no product (most, without `[[listen.products]]`) cost no
  entry;
- mention (source, heard_at, id): a source with few of the mentions would otherwise be a scan of all of them.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0015"
down_revision: str | None = "0014"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_PRODUCT = {"postgresql_where": sa.text("product IS NOT NULL"), "sqlite_where": sa.text("product IS NOT NULL")}


def upgrade() -> None:
    with op.batch_alter_table("mention", schema=None) as batch_op:
        batch_op.create_index("ix_mention_heard_at_id", ["heard_at", "id"], unique=False)
        batch_op.create_index("ix_mention_owner_heard_at", ["owner_id", "heard_at", "id"], unique=False)
        batch_op.create_index("ix_mention_product_heard_at", ["product", "heard_at", "id"], unique=False, **_PRODUCT)
        batch_op.create_index("ix_mention_source_heard_at", ["source", "heard_at", "id"], unique=False)
        batch_op.drop_index("ix_mention_heard_at")
        batch_op.drop_index("ix_mention_owner_id")


def downgrade() -> None:
    with op.batch_alter_table("mention", schema=None) as batch_op:
        batch_op.create_index("ix_mention_owner_id", ["owner_id"], unique=False)
        batch_op.create_index("ix_mention_heard_at", ["heard_at"], unique=False)
        batch_op.drop_index("ix_mention_source_heard_at")
        batch_op.drop_index("ix_mention_product_heard_at")
        batch_op.drop_index("ix_mention_owner_heard_at")
        batch_op.drop_index("ix_mention_heard_at_id")
