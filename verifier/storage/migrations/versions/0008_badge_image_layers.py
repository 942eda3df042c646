"""badge images: static layers drawn once, shared by every worker and instance

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-30 10:20:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Apply this migration."""
    op.create_table(
        "badge_image_layers",
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("badge_id", sa.String(length=12), nullable=False),
        sa.Column("kind", sa.String(length=8), nullable=False),
        sa.Column("data", sa.LargeBinary(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_badge_image_layers")),
    )
    with op.batch_alter_table("badge_image_layers", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_badge_image_layers_badge_id"), ["badge_id"], unique=False)


def downgrade() -> None:
    """Revert this migration."""
    with op.batch_alter_table("badge_image_layers", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_badge_image_layers_badge_id"))
    op.drop_table("badge_image_layers")
