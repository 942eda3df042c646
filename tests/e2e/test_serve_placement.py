"""A real `liang serve` with one worker per core keeps each worker on its own core."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
import requests

from tests.conftest import TEST_KEK, start_server

pytestmark = pytest.mark.skipif(not hasattr(os, "sched_getaffinity") or len(os.sched_getaffinity(0)) < 2,
                                reason="needs two cores and Linux CPU affinity")


def _allowed(pid: int) -> set[int]:
    return os.sched_getaffinity(pid)


def _threads_allowed(pid: int) -> list[set[int]]:
    return [os.sched_getaffinity(int(tid)) for tid in os.listdir(f"/proc/{pid}/task")]


def test_each_worker_and_its_threads_stay_on_their_own_core(tmp_path: Path) -> None:
    cores = sorted(os.sched_getaffinity(0))
    env = {"LIANG_INSTANCE_DIR": str(tmp_path / "instance"),
           "LIANG_DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}",
           "LIANG_KEY_ENCRYPTION_KEY": TEST_KEK, "LIANG_LOG_FORMAT": "text"}
    subprocess.run([sys.executable, "-m", "verifier", "init"], env={**os.environ, **env}, check=True,
                   capture_output=True)
    server = start_server(env, workers=len(cores))
    try:
        for _ in range(20):  # the pools' threads start with the first requests
            assert requests.get(f"{server.url}/healthz", timeout=5).status_code == 200
        workers = [int(p) for p in Path(f"/proc/{server.process.pid}/task/{server.process.pid}/children")
                   .read_text().split()]
        assert len(workers) == len(cores)
        placed = sorted(next(iter(_allowed(pid))) for pid in workers)
        assert placed == cores
        for pid in workers:
            assert all(allowed == _allowed(pid) for allowed in _threads_allowed(pid))
        assert _allowed(server.process.pid) == set(cores)  # the master is not pinned
    finally:
        server.stop()
