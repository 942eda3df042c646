"""`liang demo` as a person runs it: a second one refuses before touching anything, a taken port is
named before anything changes, and requests go to a log file in the instance dir, not the terminal."""

from __future__ import annotations

import os
import re
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import requests

from tests.conftest import TEST_KEK, free_port


def _env(tmp_path: Path, name: str) -> dict[str, str]:
    env = {**os.environ, "LIANG_INSTANCE_DIR": str(tmp_path / name),
           "LIANG_DATABASE_URL": f"sqlite:///{tmp_path / (name + '.sqlite3')}", "LIANG_KEY_ENCRYPTION_KEY": TEST_KEK}
    env.pop("LIANG_PUBLIC_URL", None)
    env.pop("LIANG_LOG_FORMAT", None)  # the default (JSON) is what flooded the terminal
    return env


def _wait_serving(demo: subprocess.Popen[str], port: int) -> None:
    deadline = time.monotonic() + 90
    while True:
        assert demo.poll() is None, "the demo exited before it served"
        assert time.monotonic() < deadline, "the demo did not serve within 90 s"
        try:
            if requests.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200:
                return
        except requests.RequestException:
            time.sleep(0.2)


def _login(port: int, password: str) -> int:
    session = requests.Session()
    page = session.get(f"http://127.0.0.1:{port}/admin/login", timeout=10).text
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)  # type: ignore[union-attr]
    answer = session.post(f"http://127.0.0.1:{port}/admin/login", allow_redirects=False, timeout=10,
                          data={"username": "admin", "password": password, "totp": "", "csrf_token": token})
    return answer.status_code


def _hash(db: Path) -> str:
    with sqlite3.connect(db) as conn:
        return str(conn.execute("SELECT password_hash FROM users WHERE username = 'admin'").fetchone()[0])


def _run(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "verifier", "demo", *args], env=env, capture_output=True,
                          text=True, timeout=60, check=False)


def test_a_second_demo_refuses_at_once_and_the_first_keeps_its_password(tmp_path: Path) -> None:
    port = free_port()
    env = _env(tmp_path, "instance")
    first = subprocess.Popen([sys.executable, "-m", "verifier", "demo", "--port", str(port)], env=env,
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True)
    try:
        _wait_serving(first, port)
        report = (tmp_path / "instance" / "demo.txt").read_text(encoding="utf-8")
        password = re.search(r"password:\s+(\S+)", report).group(1)  # type: ignore[union-attr]
        before = _hash(tmp_path / "instance.sqlite3")
        for _ in range(20):  # requests a person's browser makes
            requests.get(f"http://127.0.0.1:{port}/", timeout=10)

        started = time.monotonic()
        second = _run(["--port", str(free_port())], env)
        assert time.monotonic() - started < 30
        assert second.returncode == 1, second
        lines = second.stderr.strip().splitlines()
        assert len(lines) == 1 and "another liang demo is already serving this instance" in lines[0], second.stderr
        assert "nothing was changed" in lines[0] and "Traceback" not in second.stderr
        assert "Serving on" not in second.stdout and "password" not in second.stdout
        assert (tmp_path / "instance" / "demo.txt").read_text(encoding="utf-8") == report
        assert _hash(tmp_path / "instance.sqlite3") == before
        assert _run(["--no-serve"], env).returncode == 1  # loading the data again would reset it too
        assert _hash(tmp_path / "instance.sqlite3") == before
        assert _login(port, password) == 302  # the running demo's password still works

        # Another instance on the port the first one holds: said before anything is made.
        other = _env(tmp_path, "other")
        taken = _run(["--port", str(port)], other)
        assert taken.returncode == 1
        lines = taken.stderr.strip().splitlines()
        assert len(lines) == 1 and f"port {port} on 127.0.0.1 is in use" in lines[0], taken.stderr
        assert not (tmp_path / "other").exists() and not (tmp_path / "other.sqlite3").exists()
    finally:
        if first.poll() is None:
            os.killpg(first.pid, signal.SIGINT)
        try:
            out, err = first.communicate(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(first.pid, signal.SIGKILL)
            out, err = first.communicate()
    # The terminal holds what a person needs; the requests are in the instance's log file.
    log = tmp_path / "instance" / "demo.log"
    assert f"requests are logged to {log}" in out
    assert '"logger"' not in out + err and "liang.access" not in out + err, (out + err)[-2000:]
    assert len((out + err).splitlines()) < 60, out + err
    logged = log.read_text(encoding="utf-8")
    assert logged.count('"path":"/"') >= 20 and '"path":"/admin/login"' in logged
