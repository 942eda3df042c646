"""A SQLite node whose disk fills up leaves rotation (/healthz 503) and says a write saved nothing."""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from tests.conftest import TEST_KEK, LiveServer, start_server
from tests.e2e.helpers import run_liang

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.skipif(os.geteuid() != 0 or shutil.which("mount") is None,
                       reason="needs root to mount a small tmpfs as the full disk"),
]


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    """Mount a 24 MiB tmpfs: a disk the test can fill for real."""
    mount = tmp_path / "disk"
    mount.mkdir()
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=24m", "tmpfs", str(mount)],
                          capture_output=True, text=True, check=False)
    if done.returncode != 0:
        pytest.skip(f"cannot mount tmpfs here: {done.stderr.strip()}")
    try:
        yield mount
    finally:
        subprocess.run(["umount", "-l", str(mount)], check=False)


@pytest.fixture
def node(small_disk: Path) -> Iterator[tuple[LiveServer, str]]:
    env = {
        "LIANG_INSTANCE_DIR": str(small_disk / "instance"),
        "LIANG_KEY_ENCRYPTION_KEY": TEST_KEK,
        "LIANG_SECRET_KEY": "s" * 48,
        "LIANG_LOG_FORMAT": "text",
        "LIANG_HEALTH_MIN_FREE_BYTES": str(4 * 1024 * 1024),
        "LIANG_DATABASE_URL": "",
    }
    run_liang(env, "init")
    run_liang(env, "branch", "add", "B01", "第一支部")
    issued = run_liang(env, "badge", "issue", "--holder", "王五", "--shop-name", "王五小店", "--shop-url",
                       "https://wangwu.taobao.com", "--platform", "taobao", "--branch", "B01", "--json")
    badge = issued.stdout.split('"id": "')[1].split('"')[0]
    server = start_server(env)
    yield server, badge
    server.stop()


def test_a_full_disk_takes_the_node_out_of_rotation_and_writes_say_nothing_was_saved(
        node: tuple[LiveServer, str], small_disk: Path) -> None:
    server, badge = node
    assert requests.get(f"{server.url}/healthz", timeout=10).status_code == 200
    # Fill the disk the way a runaway log would.
    with open(small_disk / "filler", "wb") as filler:
        try:
            while True:
                filler.write(b"\0" * (1024 * 1024))
                filler.flush()
        except OSError:
            pass
    health = requests.get(f"{server.url}/healthz", timeout=10)
    assert health.status_code == 503
    assert health.json() == {"status": "unavailable"}
    # Reads still answer from what is stored: the badge is still shown as it is.
    assert requests.get(f"{server.url}/api/v1/badges/{badge}", timeout=10).json()["status"] == "valid"
    # A write that cannot land says so, and not with the shopper's "cannot verify now".
    complaint = requests.post(f"{server.url}/api/v1/badges/{badge}/complaints",
                              json={"category": "quality", "description": "质量问题" * 200}, timeout=30)
    if complaint.status_code == 503:
        assert "暂时无法核验" not in complaint.json()["error"]["message"]
        assert "什么也没有改变" in complaint.json()["error"]["message"]
    else:  # SQLite found room in pages it already had: then the complaint really landed
        assert complaint.status_code == 201
    (small_disk / "filler").unlink()
    assert requests.get(f"{server.url}/healthz", timeout=10).status_code == 200
