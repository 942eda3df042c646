"""members.member_ref: the committee's own member number (optional, unique when set)

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-30 12:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Add the nullable column and its unique constraint (NULLs never clash, on SQLite and PostgreSQL)."""
    with op.batch_alter_table("members") as batch:
        batch.add_column(sa.Column("member_ref", sa.String(length=64), nullable=True))
        batch.create_unique_constraint("uq_members_member_ref", ["member_ref"])


def downgrade() -> None:
    """Drop the constraint and the column."""
    with op.batch_alter_table("members") as batch:
        batch.drop_constraint("uq_members_member_ref", type_="unique")
        batch.drop_column("member_ref")
