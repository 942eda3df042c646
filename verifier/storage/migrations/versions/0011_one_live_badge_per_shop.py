"""badges.shop_key and two partial unique indexes: one live badge per shop, one pending application

Before this revision "one badge per shop" was a SELECT before the INSERT: two instances (or
one administrator's double submit) issuing for one shop at once could both pass it, and on
PostgreSQL did. Now the database refuses the second: ``uq_badges_live_shop`` is unique over
the shop key of badges that are ``active`` or ``suspended``, ``uq_badges_pending_shop`` over
those ``pending``.

The column starts empty: ``liang init`` computes the keys once the schema is at its newest
revision (``verifier.badges.shopkeys.fill_shop_keys``, today's URL folding on today's schema;
this migration runs no application code). What it does with a shop that an older database
already holds two live badges for: nothing public. A migration takes no decision that is
published and permanent, so both badges stay as they are; the one issued first gets the key
(and the index's protection), the other keeps none, and ``liang audit verify`` reports the pair
until an administrator revokes one of them (reason ``superseded``).

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-08 02:30:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None

_LIVE = "state IN ('active', 'suspended')"
_PENDING = "state = 'pending'"


def upgrade() -> None:
    """Apply this migration: the empty column and the two partial unique indexes."""
    with op.batch_alter_table("badges", schema=None) as batch_op:
        batch_op.add_column(sa.Column("shop_key", sa.String(length=64), nullable=True))
    for name, where in (("uq_badges_live_shop", _LIVE), ("uq_badges_pending_shop", _PENDING)):
        op.create_index(name, "badges", ["shop_key"], unique=True,
                        sqlite_where=sa.text(where), postgresql_where=sa.text(where))


def downgrade() -> None:
    """Revert this migration."""
    op.drop_index("uq_badges_pending_shop", table_name="badges")
    op.drop_index("uq_badges_live_shop", table_name="badges")
    with op.batch_alter_table("badges", schema=None) as batch_op:
        batch_op.drop_column("shop_key")
