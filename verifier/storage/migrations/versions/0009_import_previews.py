"""console import previews in the database: any instance can commit them, and they expire

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-30 12:10:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Apply this migration."""
    op.create_table(
        "import_previews",
        sa.Column("token", sa.String(length=64), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("csv_text", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], name=op.f("fk_import_previews_user_id_users"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("token", name=op.f("pk_import_previews")),
    )
    with op.batch_alter_table("import_previews", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_import_previews_user_id"), ["user_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_import_previews_created_at"), ["created_at"], unique=False)


def downgrade() -> None:
    """Revert this migration."""
    with op.batch_alter_table("import_previews", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_import_previews_created_at"))
        batch_op.drop_index(batch_op.f("ix_import_previews_user_id"))
    op.drop_table("import_previews")
