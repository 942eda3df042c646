"""Run Alembic migrations programmatically (``liang init``, tests, start-up checks)."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.engine import Engine

from verifier.storage.publicdoc import fill_missing

_SCRIPTS = str(Path(__file__).parent / "migrations")


def alembic_config(url: str) -> Config:
    """Return an Alembic config pointing at our migration scripts."""
    cfg = Config()
    cfg.set_main_option("script_location", _SCRIPTS)
    cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return cfg


def upgrade(engine: Engine) -> None:
    """Bring the schema to the newest revision, then fill in what the migrations leave to the code.

    The migrations change the schema only (none imports the application); data a migration
    would have computed with application code is computed here, by today's code on the
    newest schema: each badge's public document (``publicdoc.fill_missing``).
    """
    cfg = alembic_config(engine.url.render_as_string(hide_password=False))
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "head")
    fill_missing(engine)


def is_current(engine: Engine) -> bool:
    """Return whether the schema is at the newest revision."""
    heads = set(ScriptDirectory.from_config(alembic_config(str(engine.url))).get_heads())
    with engine.connect() as conn:
        current = set(MigrationContext.configure(conn).get_current_heads())
    return current == heads
