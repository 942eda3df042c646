"""Two real ``liang log witness`` servers (gunicorn, own SQLite files) and a log that tries to fork."""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import requests

from signer.tlog import CosignatureVerifier, open_checkpoint, parse_verifier_key, prove_tree
from tests.conftest import free_port
from tests.staticlog import StaticLog
from verifier.transparency.witness import add_checkpoint_body

pytestmark = pytest.mark.e2e


@dataclass
class RunningWitness:
    url: str
    vkey: str
    process: subprocess.Popen[bytes]
    log_path: Path

    def add(self, old: int, proof: list[bytes], note: bytes) -> requests.Response:
        return requests.post(f"{self.url}/add-checkpoint", data=add_checkpoint_body(old, proof, note), timeout=10)


def _liang(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "verifier", *args], capture_output=True, text=True, timeout=60,
                          check=False, env=os.environ.copy())


def _start(folder: Path, name: str, log_vkey: str) -> RunningWitness:
    key_file = folder / "witness.key"
    printed = _liang("log", "witness", "--key-file", str(key_file), "--name", name, "--print-key")
    assert printed.returncode == 0, printed.stderr
    assert oct(key_file.stat().st_mode & 0o777) == "0o600"
    port = free_port()
    fd, log_name = tempfile.mkstemp(prefix="liang-witness-", suffix=".log")
    try:
        process = subprocess.Popen([sys.executable, "-m", "verifier", "log", "witness", "--key-file", str(key_file),
                                    "--log-key", log_vkey, "--port", str(port)],
                                   stdout=subprocess.DEVNULL, stderr=fd, env=os.environ.copy())
    finally:
        os.close(fd)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(Path(log_name).read_text())
        try:
            if requests.get(url + "/", timeout=1).status_code == 200:
                return RunningWitness(url, printed.stdout.strip(), process, Path(log_name))
        except requests.RequestException:
            pass
        time.sleep(0.1)
    process.kill()
    raise RuntimeError("witness did not start: " + Path(log_name).read_text())


@pytest.fixture
def setup(tmp_path: Path) -> Iterator[tuple[StaticLog, list[RunningWitness]]]:
    log = StaticLog(tmp_path / "log", "e2e.example/log")
    witnesses = []
    try:
        for i in (1, 2):
            (tmp_path / f"w{i}").mkdir()
            witnesses.append(_start(tmp_path / f"w{i}", f"w{i}.example/witness", log.vkey))
        yield log, witnesses
    finally:
        for w in witnesses:
            w.process.terminate()
            try:
                w.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                w.process.kill()
                w.process.wait()


def test_two_witnesses_cosign_the_log_and_refuse_its_fork(setup: tuple[StaticLog, list[RunningWitness]],
                                                          tmp_path: Path) -> None:
    log, witnesses = setup
    keys: list[CosignatureVerifier] = [parse_verifier_key(w.vkey) for w in witnesses]  # type: ignore[misc]
    log.append(*(f"entry {i}".encode() for i in range(10)))
    note = log.signed_checkpoint()
    cosigned = note + b"".join(w.add(0, [], note).content for w in witnesses)
    opened = open_checkpoint(cosigned, origin=log.origin, log_keys=[parse_verifier_key(log.vkey)],  # type: ignore[list-item]
                             witnesses=keys, quorum=2)
    assert set(opened.cosignatures) == {"w1.example/witness", "w2.example/witness"}

    log.append(*(f"entry {i}".encode() for i in range(10, 20)))
    for w in witnesses:
        assert w.add(10, prove_tree(20, 10, log.store), log.signed_checkpoint()).status_code == 200

    # The log signs another history of size 25 that rewrites entry 12: both witnesses refuse.
    fork = StaticLog(tmp_path / "fork", log.origin, skey=log.signer.skey())
    fork.append(*log.entries[:12], b"entry 12, rewritten", *log.entries[13:], *(b"more" for _ in range(5)))
    for w in witnesses:
        answer = w.add(20, prove_tree(25, 20, fork.store), fork.signed_checkpoint())
        assert answer.status_code == 422, answer.text
        stale = w.add(10, prove_tree(25, 10, fork.store), fork.signed_checkpoint())
        assert (stale.status_code, stale.headers["Content-Type"], stale.text) == (409, "text/x.tlog.size", "20\n")
        assert w.add(20, [], fork.signed_checkpoint(20)).status_code == 422  # same size, another root
    # A witness restarted keeps its state (its own database)
    w1 = witnesses[0]
    w1.process.terminate()
    w1.process.wait(timeout=10)
    again = _start(tmp_path / "w1", "w1.example/witness", log.vkey)
    witnesses[0] = again
    assert again.vkey == w1.vkey
    assert again.add(0, [], log.signed_checkpoint()).text == "20\n"
    log.append(b"entry 20")
    assert again.add(20, prove_tree(21, 20, log.store), log.signed_checkpoint()).status_code == 200


def test_bad_options_are_one_line(tmp_path: Path) -> None:
    missing = _liang("log", "witness", "--key-file", str(tmp_path / "none.key"), "--log-key", "x")
    assert missing.returncode == 1 and missing.stderr.count("\n") == 1 and "--name" in missing.stderr
    made = _liang("log", "witness", "--key-file", str(tmp_path / "w.key"), "--name", "w.example/w", "--print-key")
    assert made.returncode == 0
    bad_key = _liang("log", "witness", "--key-file", str(tmp_path / "w.key"), "--log-key", "not+a+key")
    assert bad_key.returncode == 1 and bad_key.stderr.startswith("liang: --log-key") and "Traceback" not in bad_key.stderr
    witness_as_log = _liang("log", "witness", "--key-file", str(tmp_path / "w.key"), "--log-key", made.stdout.strip())
    assert witness_as_log.returncode == 1 and "type 0x01" in witness_as_log.stderr
