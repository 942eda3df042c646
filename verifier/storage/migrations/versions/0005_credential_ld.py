"""the JSON-LD form of each credential, with its Data Integrity proof

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-30 10:30:00

Badges signed before this revision have no JSON-LD form yet: a node holding the signing
key creates it on first request, and `liang badge backfill-ld` creates all at once.
(A migration cannot sign: the key-encryption key is deliberately not part of the schema
tooling's environment.)
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Apply this migration."""
    with op.batch_alter_table("badges") as batch:
        batch.add_column(sa.Column("credential_ld", sa.Text(), nullable=True))


def downgrade() -> None:
    """Revert this migration."""
    with op.batch_alter_table("badges") as batch:
        batch.drop_column("credential_ld")
