"""Storage: the engine and sessions, the models and their Alembic migrations."""
