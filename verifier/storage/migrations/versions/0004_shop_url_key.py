"""shops.url_key: shops compare by a normalised URL (one badge per shop)

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-30 11:30:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Add the column, fill it from each shop's URL, then require it and index it."""
    from verifier.badges.shops import url_key

    op.add_column("shops", sa.Column("url_key", sa.String(length=2000), nullable=True))
    shops = sa.table("shops", sa.column("id", sa.Integer), sa.column("url", sa.String),
                     sa.column("url_key", sa.String))
    conn = op.get_bind()
    rows = conn.execute(sa.select(shops.c.id, shops.c.url)).all()
    for shop_id, url in rows:
        conn.execute(shops.update().where(shops.c.id == shop_id).values(url_key=url_key(url)))
    with op.batch_alter_table("shops") as batch:
        batch.alter_column("url_key", existing_type=sa.String(length=2000), nullable=False)
        batch.create_index("ix_shops_url_key", ["url_key"])


def downgrade() -> None:
    """Drop the key."""
    with op.batch_alter_table("shops") as batch:
        batch.drop_index("ix_shops_url_key")
        batch.drop_column("url_key")
