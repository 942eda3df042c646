"""badges.public_doc: each badge's public document, precomputed at write time (issue 16, decision 2)

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-30 13:45:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Apply this migration: add the column and compute every existing badge's document."""
    from verifier.storage.publicdoc import backfill

    with op.batch_alter_table("badges", schema=None) as batch_op:
        batch_op.add_column(sa.Column("public_doc", sa.Text(), nullable=True))
    backfill(op.get_bind())


def downgrade() -> None:
    """Revert this migration."""
    with op.batch_alter_table("badges", schema=None) as batch_op:
        batch_op.drop_column("public_doc")
