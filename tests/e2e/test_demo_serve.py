"""A real `liang demo`: it serves, and when it is stopped it says the password again, once."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import requests

from tests.conftest import TEST_KEK, free_port


def test_a_stopped_demo_says_the_password_again_once_not_once_per_worker(tmp_path: Path) -> None:
    port = free_port()
    env = {**os.environ, "LIANG_INSTANCE_DIR": str(tmp_path / "instance"),
           "LIANG_DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}", "LIANG_KEY_ENCRYPTION_KEY": TEST_KEK,
           "LIANG_LOG_FORMAT": "text"}
    env.pop("LIANG_PUBLIC_URL", None)
    # Its own session, so that Ctrl+C can be sent as a terminal sends it: to the whole group.
    demo = subprocess.Popen([sys.executable, "-m", "verifier", "demo", "--port", str(port)], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, start_new_session=True)
    try:
        deadline = time.monotonic() + 60
        while True:
            assert demo.poll() is None, "the demo exited before it served"
            assert time.monotonic() < deadline, "the demo did not serve within 60 s"
            try:
                if requests.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200:
                    break
            except requests.RequestException:
                time.sleep(0.1)
        os.killpg(demo.pid, signal.SIGINT)
        out, _ = demo.communicate(timeout=30)
    finally:
        if demo.poll() is None:
            os.killpg(demo.pid, signal.SIGKILL)
            demo.wait()
    assert out.count("Liangshenfen demo is ready.") == 2, out
    password = next(line for line in out.splitlines() if "password:" in line).split()[-1]
    assert out.rsplit("Serving on", 1)[1].count(f"password:      {password}") == 1
