"""The checkpointer inside a real ``liang serve`` (two workers): a decision is in a signed checkpoint within seconds."""

from __future__ import annotations

import time

import pytest
import requests

from signer.tlog import b64decode as tlog_b64decode
from signer.tlog import leaf_hash, open_checkpoint, parse_verifier_key, verify_inclusion
from tests.conftest import TEST_KEK, free_port, start_server

pytestmark = pytest.mark.e2e


def test_two_workers_sign_a_checkpoint_covering_a_new_decision(app, app_config, issue_badge):
    port = free_port()
    env = {"LIANG_INSTANCE_DIR": app_config["INSTANCE_DIR"], "LIANG_DATABASE_URL": app_config["DATABASE_URL"],
           "LIANG_KEY_ENCRYPTION_KEY": TEST_KEK, "LIANG_PUBLIC_URL": f"http://127.0.0.1:{port}",
           "LIANG_LOG_FORMAT": "text", "LIANG_LOG_CHECKPOINT_SECONDS": "2"}
    server = start_server(env, port=port, workers=2)
    try:
        for _ in range(4):  # wake both workers' threads (each starts with its process's first request)
            requests.get(f"{server.url}/healthz", timeout=5)
        badge_id = issue_badge()
        deadline = time.monotonic() + 30
        body = None
        while time.monotonic() < deadline:
            answer = requests.get(f"{server.url}/api/v1/badges/{badge_id}/log", timeout=5)
            if answer.status_code == 200 and answer.json()["entries"]:
                body = answer.json()
                break
            time.sleep(0.3)
        assert body is not None, server.output()[-2000:]
        key = parse_verifier_key(requests.get(f"{server.url}/log/key", timeout=5).text.strip())
        opened = open_checkpoint(body["checkpoint"].encode(), origin=key.name, log_keys=[key])
        (entry,) = body["entries"]
        verify_inclusion(entry["index"], opened.checkpoint.size, leaf_hash(entry["leaf"].encode()),
                         [tlog_b64decode(h) for h in entry["proof"]], opened.checkpoint.root_hash)
        assert requests.get(f"{server.url}/healthz", timeout=5).json() == {"status": "ok"}
        assert "Traceback" not in server.output()
    finally:
        server.stop()
