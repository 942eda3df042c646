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
    """Add the nullable column and a unique index (NULLs never clash, on SQLite and PostgreSQL).

    No batch mode: on SQLite it would copy and drop ``members``, which ``shops`` references, and
    with foreign keys enforced that fails on any database that already has shops. ``ADD COLUMN``
    and ``CREATE UNIQUE INDEX`` work in place on both.
    """
    op.add_column("members", sa.Column("member_ref", sa.String(length=64), nullable=True))
    op.create_index("ix_members_member_ref", "members", ["member_ref"], unique=True)


def downgrade() -> None:
    """Drop the index and the column (SQLite 3.35+ drops a column in place)."""
    op.drop_index("ix_members_member_ref", table_name="members")
    op.drop_column("members", "member_ref")
