"""Run the app under gunicorn (``liang serve``)."""

from __future__ import annotations

import os
from collections.abc import Callable
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
        # Start-up time: `liang` imports a command's modules only when that command runs.
        from verifier.app import create_app
        from verifier.transparency.service import start_serving

        app = create_app(dict(self._overrides))
        start_serving(app)  # the log's checkpointer runs from the start, not from the first request
        return app


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
    cores = _cores()
    if os.environ.get("LIANG_PIN_WORKERS", "1") != "0" and len(cores) > 1 and workers >= len(cores):
        options["pre_fork"] = _choose_core
        options["post_fork"] = _pin_to_core
    return options


def _cores() -> list[int]:
    return sorted(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else []


# One worker per core, each kept on its core (``LIANG_PIN_WORKERS=0`` turns it off). A worker's
# threads share one GIL: left to the kernel, they flip every few seconds between sharing a
# core and handing the GIL from core to core, and the second costs about twice the CPU per
# request (bench/RESULTS.md). Two workers on two cores, verify API, twelve 4 s wrk runs each:
# unpinned a median of 2,070 req/s with three runs near 750; pinned a median of 2,350, the
# lowest 1,134. Only when there are at least as many workers as cores, so that no core is left
# idle and every core gets its share.
def _choose_core(server: Any, worker: Any) -> None:
    # In the master, before the fork: the core fewest live workers are on (a replaced worker
    # takes the core its predecessor left).
    taken = [getattr(other, "liang_core", None) for other in server.WORKERS.values()]
    worker.liang_core = min(_cores(), key=taken.count)


def _pin_to_core(_server: Any, worker: Any) -> None:
    # In the worker, before its threads start: they inherit the placement.
    core = getattr(worker, "liang_core", None)
    if core is not None:
        os.sched_setaffinity(0, {core})


def _mark_process_dead(_server: Any, worker: Any) -> None:
    # prometheus-client multiprocess mode: drop a dead worker's live gauges.
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(worker.pid)  # type: ignore[no-untyped-call]


def run_gunicorn(*, host: str, port: int, workers: int, overrides: dict[str, Any]) -> None:
    """Serve until interrupted."""
    _Gunicorn(gunicorn_options(host=host, port=port, workers=workers), overrides).run()


class _FactoryGunicorn(BaseApplication):  # type: ignore[misc]
    """Embed gunicorn with any WSGI app factory (``liang log witness``), built in each worker."""

    def __init__(self, options: dict[str, Any], factory: Callable[[], Any]) -> None:
        self._options = options
        self._factory = factory
        super().__init__()

    def load_config(self) -> None:
        """Apply our options to gunicorn's config."""
        for key, value in self._options.items():
            self.cfg.set(key, value)

    def load(self) -> Any:
        """Build the WSGI app in the worker."""
        return self._factory()


def run_wsgi(factory: Callable[[], Any], *, host: str, port: int, workers: int, name: str) -> None:
    """Serve another app of ours with the same server and settings as ``liang serve``, until interrupted."""
    options = gunicorn_options(host=host, port=port, workers=workers)
    options["proc_name"] = name
    _FactoryGunicorn(options, factory).run()


def app() -> Any:
    """Return an app for ``gunicorn 'verifier.cli.serve:app()'`` deployments."""
    # Start-up time: `liang` imports a command's modules only when that command runs.
    from verifier.app import create_app

    return create_app()
