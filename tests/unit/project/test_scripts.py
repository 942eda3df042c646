"""scripts/test.sh decides right what Debian packages are missing (scripts/debian.sh), every time."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]


def _fake_fc_list(tmp_path: Path, families: str) -> dict[str, str]:
    """Put an ``fc-list`` on PATH that prints ``families`` first, then far more than a pipe holds."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    script = bin_dir / "fc-list"
    script.write_text(f"#!/bin/sh\nprintf '%s\\n' '{families}'\nyes 'DejaVu Sans' | head -n 200000\n",
                      encoding="utf-8")
    script.chmod(0o755)
    return {**os.environ, "PATH": f"{bin_dir}:{os.environ['PATH']}"}


def _bash(script: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["bash", "-c", f"set -euo pipefail; cd {ROOT}; . scripts/debian.sh; {script}"],
                          env=env, capture_output=True, text=True, timeout=60, check=False)


def test_the_early_exit_check_was_wrong_under_pipefail(tmp_path):
    """The bug: grep -q stops at the first match, fc-list gets SIGPIPE, pipefail fails the check."""
    env = _fake_fc_list(tmp_path, "Noto Sans CJK SC")
    done = _bash("fc-list | grep -qi 'Noto Sans CJK' && echo found || echo missing", env)
    assert done.stdout.strip() == "missing"


def test_a_present_cjk_font_is_found_every_time(tmp_path):
    env = _fake_fc_list(tmp_path, "Noto Sans CJK SC")
    done = _bash("n=0; for i in $(seq 20); do cjk_font_present || n=$((n+1)); done; echo $n", env)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "0"
    assert "fonts-noto-cjk" not in _bash("missing_debian_packages", env).stdout


@pytest.mark.parametrize("families", ["DejaVu Sans", "Noto Sans"])
def test_a_missing_cjk_font_is_named(tmp_path, families):
    env = _fake_fc_list(tmp_path, families)
    assert _bash("cjk_font_present && echo found || echo missing", env).stdout.strip() == "missing"
    assert "fonts-noto-cjk" in _bash("missing_debian_packages", env).stdout.split()


def test_test_sh_runs_apt_get_once_from_that_decision():
    text = (ROOT / "scripts" / "test.sh").read_text(encoding="utf-8")
    assert ". scripts/debian.sh" in text and "missing_debian_packages" in text
    assert text.count("apt-get install") == 1 and "fc-list" not in text
