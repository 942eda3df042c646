"""A one-route Flask app served by the same gunicorn settings as ``liang serve`` (the benchmark's baseline)."""

from __future__ import annotations

import sys
from typing import Any

from flask import Flask
from gunicorn.app.base import BaseApplication

from verifier.cli.serve import gunicorn_options


def create_bare() -> Flask:
    """Return the bare app: ``GET /`` answers ``{"status": "ok"}``."""
    app = Flask(__name__)

    @app.get("/")
    def ok() -> dict[str, str]:
        return {"status": "ok"}

    return app


class _Bare(BaseApplication):  # type: ignore[misc]
    def __init__(self, options: dict[str, Any]) -> None:
        self._options = options
        super().__init__()

    def load_config(self) -> None:
        for key, value in self._options.items():
            self.cfg.set(key, value)

    def load(self) -> Flask:
        return create_bare()


if __name__ == "__main__":
    port, workers = int(sys.argv[1]), int(sys.argv[2])
    _Bare(gunicorn_options(host="127.0.0.1", port=port, workers=workers)).run()
