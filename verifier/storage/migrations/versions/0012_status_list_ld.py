"""each status list also as JSON-LD with a Data Integrity proof

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-08 03:00:00

`/status/<list id>` answers `Accept: application/vc` or `application/ld+json` with the list as a
`BitstringStatusListCredential` in JSON-LD secured by an `eddsa-rdfc-2022` proof, kept here beside
the JWS. Lists signed before this revision have none yet: `liang init` signs them (a migration
cannot sign: the key-encryption key is deliberately not part of the schema tooling's environment).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Apply this migration."""
    with op.batch_alter_table("status_lists") as batch:
        batch.add_column(sa.Column("credential_ld", sa.Text(), nullable=True))


def downgrade() -> None:
    """Revert this migration."""
    with op.batch_alter_table("status_lists") as batch:
        batch.drop_column("credential_ld")
