"""Alembic environment: run against the connection or URL the caller passes."""

from __future__ import annotations

from alembic import context
from sqlalchemy.engine import Connection

from verifier.storage import logmodels  # noqa: F401 - its tables join Base.metadata
from verifier.storage.engine import make_engine
from verifier.storage.models import Base

config = context.config
target_metadata = Base.metadata


def _run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


connection = config.attributes.get("connection")
if connection is not None:
    _run(connection)
else:
    url = config.get_main_option("sqlalchemy.url")
    if url is None:
        raise RuntimeError("no database: pass a connection or set sqlalchemy.url (see verifier.migrate)")
    engine = make_engine(url)
    with engine.connect() as conn:
        _run(conn)
    engine.dispose()
