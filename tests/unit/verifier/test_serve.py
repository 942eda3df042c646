"""`liang serve`'s gunicorn settings: one worker per core, each kept on its core."""

from __future__ import annotations

import os
from types import SimpleNamespace
from typing import Any

import pytest

from verifier.cli import serve


@pytest.fixture
def two_cores(monkeypatch: pytest.MonkeyPatch) -> list[tuple[int, set[int]]]:
    placed: list[tuple[int, set[int]]] = []
    monkeypatch.setattr(os, "sched_getaffinity", lambda _pid: {0, 1})
    monkeypatch.setattr(os, "sched_setaffinity", lambda pid, cores: placed.append((pid, set(cores))))
    monkeypatch.delenv("LIANG_PIN_WORKERS", raising=False)
    return placed


def _spawn(options: dict[str, Any], live: dict[int, Any]) -> Any:
    worker = SimpleNamespace()
    options["pre_fork"](SimpleNamespace(WORKERS=live), worker)  # the master, before the fork
    options["post_fork"](SimpleNamespace(WORKERS=live), worker)  # the worker, after it
    live[len(live) + 100] = worker
    return worker


def test_as_many_workers_as_cores_each_on_its_own_core(two_cores: list[tuple[int, set[int]]]) -> None:
    options = serve.gunicorn_options(host="127.0.0.1", port=8000, workers=2)
    live: dict[int, Any] = {}
    first, second = _spawn(options, live), _spawn(options, live)
    assert {first.liang_core, second.liang_core} == {0, 1}
    assert two_cores == [(0, {first.liang_core}), (0, {second.liang_core})]


def test_a_replaced_worker_takes_the_core_its_predecessor_left(two_cores: list[tuple[int, set[int]]]) -> None:
    options = serve.gunicorn_options(host="127.0.0.1", port=8000, workers=2)
    live: dict[int, Any] = {}
    _spawn(options, live)
    second = _spawn(options, live)
    gone = second.liang_core
    del live[max(live)]  # the second worker exits; the master forks a new one
    assert _spawn(options, live).liang_core == gone


def test_fewer_workers_than_cores_are_left_to_the_kernel(two_cores: list[tuple[int, set[int]]]) -> None:
    options = serve.gunicorn_options(host="127.0.0.1", port=8000, workers=1)
    assert "pre_fork" not in options and "post_fork" not in options


def test_pinning_can_be_turned_off(two_cores: list[tuple[int, set[int]]], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LIANG_PIN_WORKERS", "0")
    options = serve.gunicorn_options(host="127.0.0.1", port=8000, workers=4)
    assert "pre_fork" not in options and "post_fork" not in options


def test_one_core_is_never_pinned(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(os, "sched_getaffinity", lambda _pid: {3})
    monkeypatch.delenv("LIANG_PIN_WORKERS", raising=False)
    options = serve.gunicorn_options(host="127.0.0.1", port=8000, workers=2)
    assert "pre_fork" not in options


def test_a_serving_worker_starts_the_log_checkpointer_with_its_app(app_config, monkeypatch):
    """A decision taken by the CLI while no request arrives is still signed: the checkpointer runs from load()."""
    import types

    from verifier.cli import serve
    from verifier.transparency import service as log_service

    monkeypatch.setattr(log_service, "_signs", lambda app: True)  # as a real (non-testing) full node decides
    built = serve._Gunicorn.load(types.SimpleNamespace(_overrides=dict(app_config)))
    try:
        pid, _stop, thread = built.extensions["liang.log_thread"]
        assert pid == os.getpid() and thread.is_alive()
    finally:
        log_service.stop(built)
