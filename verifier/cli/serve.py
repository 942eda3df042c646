"""Run the app under gunicorn (``liang serve``)."""

from __future__ import annotations

import os
from typing import Any

from gunicorn.app.base import BaseApplication


class _Gunicorn(BaseApplication):  # type: ignore[misc]
    """Embed gunicorn with an app factory (each worker builds its own app)."""

    def __init__(self, options: dict[str, Any], overrides: dict[str, Any]) -> None:
        self._options = options
        self._overrides = overrides
        super().__init__()

    def load_config(self) -> None:
        """Apply our options to gunicorn's config."""
        for key, value in self._options.items():
            self.cfg.set(key, value)

    def load(self) -> Any:
        """Build the WSGI app in the worker."""
        from verifier.app import create_app

        return create_app(dict(self._overrides))


def gunicorn_options(*, host: str, port: int, workers: int) -> dict[str, Any]:
    """Return the gunicorn settings ``liang serve`` uses (the benchmark serves its bare app with them too)."""
    options: dict[str, Any] = {
        "bind": f"{host}:{port}",
        "workers": workers,
        "worker_class": "gthread",
        "threads": 4,
        "timeout": 30,
        "graceful_timeout": 10,
        "keepalive": 5,
        "accesslog": None,
        "errorlog": "-",
        "loglevel": "warning",
        "limit_request_line": 8190,
        "forwarded_allow_ips": "127.0.0.1",
        "proc_name": "liang",
    }
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        options["child_exit"] = _mark_process_dead
    return options


def _mark_process_dead(_server: Any, worker: Any) -> None:
    # prometheus-client multiprocess mode: drop a dead worker's live gauges.
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(worker.pid)  # type: ignore[no-untyped-call]


def run_gunicorn(*, host: str, port: int, workers: int, overrides: dict[str, Any]) -> None:
    """Serve until interrupted."""
    _Gunicorn(gunicorn_options(host=host, port=port, workers=workers), overrides).run()


def app() -> Any:
    """Return an app for ``gunicorn 'verifier.cli.serve:app()'`` deployments."""
    from verifier.app import create_app

    return create_app()
