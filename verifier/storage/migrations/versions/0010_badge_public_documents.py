"""badges.public_doc: each badge's public document, precomputed at write time (issue 16, decision 2)

The service refreshes the document in the same transaction as every change it makes. These
triggers guard everything else: a change to a public fact made by any other road (a rename
in SQL, a script, a future path that forgets the refresh) empties the affected documents, and
the read path then reads such a badge through the join and computes its document afresh. So
no road leaves a stale document to be served; ``liang audit verify`` reports the empty ones.

The column starts empty: ``liang init`` computes the missing documents once the schema is at
its newest revision (``verifier.storage.publicdoc.fill_missing``), so this migration runs no
application code (which would break as soon as the models moved on).

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

# (trigger, table, columns whose change makes the documents stale, the badges it concerns)
_GUARDS = (
    ("badges_public_doc_stale", "badges", ("valid_from", "valid_until", "credential", "shop_id", "branch_id"),
     "id = NEW.id"),
    ("shops_public_doc_stale", "shops", ("name", "platform", "url", "hosts", "member_id"), "shop_id = NEW.id"),
    ("members_public_doc_stale", "members", ("name",),
     "shop_id IN (SELECT id FROM shops WHERE member_id = NEW.id)"),
    ("branches_public_doc_stale", "branches", ("code", "name"), "branch_id = NEW.id"),
)


def _changed(columns: tuple[str, ...], *, postgresql: bool) -> str:
    if postgresql:  # json has no equality operator: compare its text
        return " OR ".join(f"OLD.{c}::text IS DISTINCT FROM NEW.{c}::text" for c in columns)
    return " OR ".join(f"OLD.{c} IS NOT NEW.{c}" for c in columns)


def upgrade() -> None:
    """Apply this migration: the column (empty: see the module's note), the guards."""
    with op.batch_alter_table("badges", schema=None) as batch_op:
        batch_op.add_column(sa.Column("public_doc", sa.Text(), nullable=True))
    postgresql = op.get_bind().dialect.name == "postgresql"
    for name, table, columns, which in _GUARDS:
        when = _changed(columns, postgresql=postgresql)
        if table == "badges":  # a write that sets the document itself (the refresh) is left alone
            when = f"({when}) AND " + ("OLD.public_doc IS NOT DISTINCT FROM NEW.public_doc" if postgresql
                                       else "OLD.public_doc IS NEW.public_doc")
        if postgresql:
            op.execute(f"CREATE FUNCTION {name}() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
                       f"UPDATE badges SET public_doc = NULL WHERE {which}; RETURN NULL; END $$")  # noqa: S608 - constants
            op.execute(f"CREATE TRIGGER {name} AFTER UPDATE OF {', '.join(columns)} ON {table} FOR EACH ROW "
                       f"WHEN ({when}) EXECUTE FUNCTION {name}()")
        else:
            op.execute(f"CREATE TRIGGER {name} AFTER UPDATE OF {', '.join(columns)} ON {table} FOR EACH ROW "
                       f"WHEN {when} BEGIN UPDATE badges SET public_doc = NULL WHERE {which}; END")  # noqa: S608 - constants


def downgrade() -> None:
    """Revert this migration."""
    postgresql = op.get_bind().dialect.name == "postgresql"
    for name, table, _columns, _which in _GUARDS:
        op.execute(f"DROP TRIGGER IF EXISTS {name}" + (f" ON {table}" if postgresql else ""))
        if postgresql:
            op.execute(f"DROP FUNCTION IF EXISTS {name}()")
    with op.batch_alter_table("badges", schema=None) as batch_op:
        batch_op.drop_column("public_doc")
