"""A hung PostgreSQL (SIGSTOP) costs a request seconds, not forever; /healthz answers 503 in bounded time.

Issue 24 F: with no connect or statement timeout, stopping the server process hung every
request, /healthz included. This test runs a private PostgreSQL cluster of its own (initdb and
pg_ctl from /usr/lib/postgresql, on a free loopback port; never the machine's shared server),
stops its postmaster, then every server process, and times /healthz each time.
"""

from __future__ import annotations

import contextlib
import glob
import os
import shutil
import signal
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
from sqlalchemy import create_engine, text

from tests.conftest import TEST_KEK, free_port, start_server
from verifier.storage.engine import make_engine
from verifier.storage.migrate import upgrade

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

_BINARIES = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
#: /healthz must answer within this many seconds whatever the database does (HEALTH_TIMEOUT 2 + slack).
BOUND = 8


def _as_postgres() -> list[str]:
    return ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []


@pytest.fixture
def private_cluster() -> Iterator[tuple[str, int]]:
    """Yield (database URL, postmaster pid) of a throw-away cluster; stop and remove it afterwards."""
    if not _BINARIES:
        pytest.fail("PostgreSQL server binaries not found under /usr/lib/postgresql/*/bin (apt-get install postgresql)")
    bindir = Path(_BINARIES[-1]).parent
    home = Path(tempfile.mkdtemp(prefix="liang-hungpg-"))
    data = home / "data"
    if os.geteuid() == 0:
        shutil.chown(home, "postgres", "postgres")
    port = free_port()
    subprocess.run([*_as_postgres(), str(bindir / "initdb"), "-D", str(data), "-U", "postgres", "--auth=trust",
                    "-E", "UTF8", "--no-sync"], check=True, capture_output=True, timeout=120)
    subprocess.run([*_as_postgres(), str(bindir / "pg_ctl"), "-D", str(data), "-w", "-l", str(home / "log"),
                    "-o", f"-p {port} -k {home} -c listen_addresses=127.0.0.1 -c fsync=off", "start"],
                   check=True, capture_output=True, timeout=120)
    pid = int((data / "postmaster.pid").read_text().split()[0])
    try:
        admin = create_engine(f"postgresql+psycopg://postgres@127.0.0.1:{port}/postgres", isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text("CREATE DATABASE liang"))
        admin.dispose()
        url = f"postgresql+psycopg://postgres@127.0.0.1:{port}/liang"
        engine = make_engine(url)
        upgrade(engine)
        engine.dispose()
        yield url, pid
    finally:
        for each in [pid, *_children(pid)]:
            with contextlib.suppress(ProcessLookupError):
                os.kill(each, signal.SIGCONT)
        subprocess.run([*_as_postgres(), str(bindir / "pg_ctl"), "-D", str(data), "-m", "immediate", "stop"],
                       capture_output=True, timeout=60)
        shutil.rmtree(home, ignore_errors=True)


def _children(pid: int) -> list[int]:
    found = []
    for task in Path(f"/proc/{pid}/task").glob("*/children"):
        found += [int(p) for p in task.read_text().split()]
    return found


def _timed_health(url: str) -> tuple[int | None, float]:
    started = time.monotonic()
    try:
        status: int | None = requests.get(f"{url}/healthz", timeout=60).status_code
    except requests.RequestException:
        status = None
    return status, time.monotonic() - started


def test_healthz_answers_503_in_bounded_time_while_postgresql_is_stopped(private_cluster, tmp_path):
    url, postmaster = private_cluster
    env = {"LIANG_INSTANCE_DIR": str(tmp_path / "instance"), "LIANG_DATABASE_URL": url,
           "LIANG_KEY_ENCRYPTION_KEY": TEST_KEK, "LIANG_PUBLIC_URL": "http://127.0.0.1:8000",
           "LIANG_LOG_FORMAT": "text", "LIANG_DB_CONNECT_TIMEOUT": "2", "LIANG_DB_STATEMENT_TIMEOUT": "5",
           "LIANG_DB_POOL_TIMEOUT": "2", "LIANG_HEALTH_TIMEOUT": "2"}
    server = start_server(env)
    stopped: list[int] = []
    try:
        assert _timed_health(server.url)[0] == 200
        # 1. The postmaster stops: no new connection can open (the pooled ones still work).
        os.kill(postmaster, signal.SIGSTOP)
        stopped.append(postmaster)
        # 2. Then every server process: the pooled connections hang mid-query too.
        for phase in ("postmaster", "every process"):
            if phase == "every process":
                for child in _children(postmaster):
                    os.kill(child, signal.SIGSTOP)
                    stopped.append(child)
            for _ in range(3):
                status, took = _timed_health(server.url)
                assert took < BOUND, f"/healthz took {took:.1f} s with {phase} stopped"
                if phase == "every process":
                    assert status == 503, f"/healthz said {status} with {phase} stopped"
        # A verification is refused in bounded time too, never left hanging (and never "valid").
        started = time.monotonic()
        with contextlib.suppress(requests.RequestException):
            answer = requests.get(f"{server.url}/api/v1/badges/AAAA-BBBB-CCCC", timeout=60)
            assert answer.status_code in (404, 503)
        assert time.monotonic() - started < 20
    finally:
        for each in stopped:
            with contextlib.suppress(ProcessLookupError):
                os.kill(each, signal.SIGCONT)
    # Back: the service recovers without a restart.
    deadline = time.monotonic() + 30
    while _timed_health(server.url)[0] != 200:
        assert time.monotonic() < deadline, "no recovery after the database came back"
        time.sleep(0.5)
    server.stop()
