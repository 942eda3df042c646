"""The real service's log, read from outside: an independent tlog reader, ``liang log monitor``,
``liang verify`` with a witness policy, and a real ``liang log witness`` the service asks to cosign.

Then the database is tampered with (an entry rewritten behind the service's back): the monitor
and the client must refuse.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
import requests
from sqlalchemy import text
from tlog_scales.backend import HttpBackend
from tlog_scales.reader import TilesReader
from tlog_scales.signing import Vkey, VkeySet

from signer.tlog import leaf_hash
from tests.conftest import TEST_KEK, LiveServer, free_port, start_server
from tests.e2e.test_witness_e2e import RunningWitness, _start
from verifier.storage.engine import make_engine

pytestmark = pytest.mark.e2e


def _liang(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "verifier", *args], env={**os.environ, **env}, capture_output=True,
                          text=True, timeout=120, check=False)


def _ok(env: dict[str, str], *args: str) -> str:
    r = _liang(env, *args)
    assert r.returncode == 0, r.stdout + r.stderr
    return r.stdout


def _wait_for_size(url: str, size: int, timeout: float = 30) -> str:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        note = requests.get(f"{url}/log/checkpoint", timeout=5).text
        if int(note.split("\n")[1]) >= size:
            return note
        time.sleep(0.2)
    raise AssertionError(f"no checkpoint of {size} entries within {timeout} s")


def _server(app_config: dict[str, Any], port: int, extra_env: dict[str, str]) -> LiveServer:
    env = {"LIANG_INSTANCE_DIR": app_config["INSTANCE_DIR"], "LIANG_DATABASE_URL": app_config["DATABASE_URL"],
           "LIANG_KEY_ENCRYPTION_KEY": TEST_KEK, "LIANG_PUBLIC_URL": f"http://127.0.0.1:{port}",
           "LIANG_LOG_FORMAT": "text", "LIANG_LOG_CHECKPOINT_SECONDS": "1", **extra_env}
    return start_server(env, port=port)


def test_the_service_log_from_outside(app: Any, app_config: dict[str, Any], tmp_path: Path) -> None:
    port = free_port()
    server = _server(app_config, port, {})
    env = {**server.env, "XDG_CACHE_HOME": str(tmp_path / "cache"), "XDG_CONFIG_HOME": str(tmp_path / "config")}
    witness: RunningWitness | None = None
    try:
        _ok(server.env, "init")
        log_vkey = requests.get(f"{server.url}/log/key", timeout=5).text.strip()
        server.stop()
        (tmp_path / "w").mkdir()
        witness = _start(tmp_path / "w", "w.example/witness", log_vkey)
        server = _server(app_config, port, {"LIANG_LOG_WITNESSES": f"{witness.url}={witness.vkey}"})

        _ok(server.env, "branch", "add", "LG01", "日志支部")
        badges = [json.loads(_ok(server.env, "badge", "issue", "--holder", f"店主{i}", "--shop-name", f"日志店{i}",
                                 "--shop-url", f"https://log{i}-{port}.taobao.com", "--platform", "taobao",
                                 "--branch", "LG01", "--json")) for i in range(3)]
        _ok(server.env, "badge", "revoke", badges[1]["id"], "--reason", "misconduct")
        live = requests.get(f"{server.url}/api/v1/badges/{badges[1]['id']}", timeout=5).json()
        _wait_for_size(server.url, live["log"]["index"] + 1)

        # An independent reader (tlog-scales) over HTTP: signature, witness cosignature, root from tiles.
        reader = TilesReader(HttpBackend(f"{server.url}/log"))
        cp = reader.get_checkpoint()
        cp.verify(Vkey.from_string(log_vkey))
        assert reader.calculate_root_hash() == cp.root_hash
        revocation = json.loads(reader.get_entry(live["log"]["index"]))
        assert (revocation["event"], revocation["reason"], revocation["state"]) == ("revoke", "misconduct", "revoked")
        assert not {"holder", "name", "contact", "note"} & set(revocation)

        # The monitor follows it from the tiles alone.
        r = _liang(env, "log", "monitor", "--server", server.url, "--json")
        assert r.returncode == 0, r.stderr
        seen = [json.loads(line) for line in r.stdout.splitlines()]
        assert seen[-1]["index"] == cp.size - 1 and any(e.get("event") == "revoke" for e in seen)

        # liang verify: the latest decision in a signed checkpoint, consistent with what it saw.
        r = _liang(env, "verify", badges[0]["id"], "--server", server.url)
        assert r.returncode == 0 and "log: latest decision is entry" in r.stdout, r.stdout + r.stderr
        _wait_for_size(server.url, cp.size)
        deadline = time.monotonic() + 30
        while "w.example/witness" not in requests.get(f"{server.url}/log/checkpoint", timeout=5).text:
            assert time.monotonic() < deadline, "the service never published the witness's cosignature"
            time.sleep(0.3)
        r = _liang(env, "verify", badges[2]["id"], "--server", server.url, "--witness", witness.vkey)
        assert r.returncode == 0 and "cosigned by w.example/witness" in r.stdout, r.stdout + r.stderr
        cp = TilesReader(HttpBackend(f"{server.url}/log")).get_checkpoint()
        assert {v.name for v, _ in VkeySet(Vkey.from_string(witness.vkey)).verify(cp.signatures, cp)} \
            == {"w.example/witness"}  # the independent reader checks the witness's cosignature too

        # Behind the service's back, the database's copy of an entry is rewritten.
        victim = requests.get(f"{server.url}/api/v1/badges/{badges[0]['id']}", timeout=5).json()["log"]["index"]
        engine = make_engine(app_config["DATABASE_URL"])
        with engine.begin() as conn:
            first = bytes(conn.execute(text("SELECT data FROM log_entries WHERE idx = :i"), {"i": victim}).scalar_one())
            forged = first.replace(b'"valid"', b'"suspended"')
            conn.execute(text("UPDATE log_entries SET data = :d WHERE idx = :i"), {"d": forged, "i": victim})
        engine.dispose()
        assert leaf_hash(forged) != leaf_hash(first)
        r = _liang(env, "log", "monitor", "--server", server.url)
        assert r.returncode == 1 and r.stderr.count("\n") == 1 and f"entry {victim}" in r.stderr, r.stdout + r.stderr
        r = _liang(env, "verify", badges[0]["id"], "--server", server.url)
        assert r.returncode == 1 and r.stdout.startswith("REFUSED:") and "VALID" not in r.stdout, r.stdout + r.stderr
        fresh = {**env, "XDG_CACHE_HOME": str(tmp_path / "cache2")}
        r = _liang(fresh, "log", "monitor", "--server", server.url)
        assert r.returncode == 1 and ("does not match" in r.stderr or "tampered" in r.stderr), r.stderr
    finally:
        server.stop()
        if witness is not None:
            witness.process.terminate()
            witness.process.wait(timeout=10)
