"""the public transparency log (issue 22): entries, stored hashes, head, checkpoint, log key; badges.log_index

``log_head`` (one row) hands out entry indexes: every decision's transaction locks it, so the
indexes are gapless whatever the number of instances. ``log_checkpoints`` (one row) holds the
latest signed checkpoint, replaced only by compare-and-swap on its ``serial``. ``log_keys``
holds the log's own Ed25519 key (the private part encrypted under the KEK, like the badge
keys, never one of them); ``liang init`` creates it. The log starts empty: badges issued before
this revision have no entry (``badges.log_index`` NULL) until their next decision.

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-08 03:10:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Apply this migration."""
    op.create_table(
        "log_entries",
        sa.Column("idx", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("data", sa.LargeBinary(), nullable=False),
        sa.Column("badge_id", sa.String(length=12), nullable=True),
        sa.PrimaryKeyConstraint("idx", name=op.f("pk_log_entries")),
    )
    with op.batch_alter_table("log_entries", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_log_entries_badge_id"), ["badge_id"], unique=False)
    op.create_table(
        "log_hashes",
        sa.Column("idx", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("hash", sa.LargeBinary(length=32), nullable=False),
        sa.PrimaryKeyConstraint("idx", name=op.f("pk_log_hashes")),
    )
    head = op.create_table(
        "log_head",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("size", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_log_head")),
    )
    op.bulk_insert(head, [{"id": 1, "size": 0}])
    op.create_table(
        "log_checkpoints",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("serial", sa.BigInteger(), nullable=False),
        sa.Column("size", sa.BigInteger(), nullable=False),
        sa.Column("root", sa.LargeBinary(length=32), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("signed_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_log_checkpoints")),
    )
    op.create_table(
        "log_keys",
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("public_raw", sa.LargeBinary(length=32), nullable=False),
        sa.Column("encrypted_private", sa.LargeBinary(length=128), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_log_keys")),
    )
    with op.batch_alter_table("badges", schema=None) as batch_op:
        batch_op.add_column(sa.Column("log_index", sa.BigInteger(), nullable=True))


def downgrade() -> None:
    """Revert this migration."""
    with op.batch_alter_table("badges", schema=None) as batch_op:
        batch_op.drop_column("log_index")
    op.drop_table("log_keys")
    op.drop_table("log_checkpoints")
    op.drop_table("log_head")
    op.drop_table("log_hashes")
    with op.batch_alter_table("log_entries", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_log_entries_badge_id"))
    op.drop_table("log_entries")
