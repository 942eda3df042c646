"""The benchmark's reference apps, served by the same gunicorn settings as ``liang serve``.

``python bench/bare_app.py PORT WORKERS`` serves the bare app (the baseline every ratio is taken
against); ``python bench/bare_app.py PORT WORKERS floor`` serves **our** app (``create_app()``,
configured by the LIANG_* environment exactly as ``liang serve`` is) with one more route,
``GET /__floor``, whose view does nothing but pays every cost the verify API pays outside its
own view: the app-wide hooks (request id, body-size check, CSRF and limiter guards, metrics, the
access log, security headers, session and login hooks) and the per-client read limit. Its ratio
is the most any endpoint of ours can reach with those hooks in place.
"""

from __future__ import annotations

import sys
from typing import Any

from flask import Flask
from gunicorn.app.base import BaseApplication

from verifier.cli.serve import gunicorn_options

FLOOR_PATH = "/__floor"


def create_bare() -> Flask:
    """Return the bare app: ``GET /`` answers ``{"status": "ok"}``."""
    app = Flask(__name__)

    @app.get("/")
    def ok() -> dict[str, str]:
        return {"status": "ok"}

    return app


def create_floor() -> Flask:
    """Return our app with ``GET /__floor``: the API's read limit around a view that answers ``{"status": "ok"}``."""
    from verifier.app import create_app
    from verifier.web.ratelimit import read_limit

    app = create_app()

    @read_limit("VERIFY_RATE_LIMIT", "300 per minute")
    def floor() -> dict[str, str]:
        return {"status": "ok"}

    app.add_url_rule(FLOOR_PATH, endpoint="bench_floor", view_func=floor, methods=["GET"])
    return app


class _Served(BaseApplication):  # type: ignore[misc]
    def __init__(self, options: dict[str, Any], floor: bool) -> None:
        self._options = options
        self._floor = floor
        super().__init__()

    def load_config(self) -> None:
        for key, value in self._options.items():
            self.cfg.set(key, value)

    def load(self) -> Flask:
        return create_floor() if self._floor else create_bare()


if __name__ == "__main__":
    port, workers = int(sys.argv[1]), int(sys.argv[2])
    _Served(gunicorn_options(host="127.0.0.1", port=port, workers=workers), floor=sys.argv[3:] == ["floor"]).run()
