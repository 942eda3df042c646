"""administration: daily verification counts per branch

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-25 11:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Apply this migration."""
    op.create_table(
        "verification_counts",
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("branch_id", sa.Integer(), nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["branch_id"], ["branches.id"], ondelete="CASCADE",
                                name=op.f("fk_verification_counts_branch_id_branches")),
        sa.PrimaryKeyConstraint("day", "branch_id", name=op.f("pk_verification_counts")),
    )


def downgrade() -> None:
    """Revert this migration."""
    op.drop_table("verification_counts")
