"""A hung Redis must not stall verification (issue 14 item 10), replayed against a real server."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import requests
from flask import Flask

from tests.conftest import TEST_KEK, LiveServer, start_server

pytestmark = pytest.mark.e2e


@pytest.fixture
def hung_redis() -> Iterator[str]:
    """A TCP server on loopback that accepts connections and never answers (like a SIGSTOPped Redis)."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(64)
    held: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        listener.settimeout(0.2)
        while not stop.is_set():
            try:
                conn, _ = listener.accept()
            except OSError:
                continue
            held.append(conn)  # kept open, never read from, never written to

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    yield f"redis://127.0.0.1:{listener.getsockname()[1]}/0"
    stop.set()
    thread.join(5)
    for conn in held:
        conn.close()
    listener.close()


@pytest.fixture
def server_on_hung_redis(app: Flask, app_config: dict[str, Any], live_port: int,
                         hung_redis: str) -> Iterator[LiveServer]:
    env = {
        "LIANG_INSTANCE_DIR": app_config["INSTANCE_DIR"],
        "LIANG_DATABASE_URL": app_config["DATABASE_URL"],
        "LIANG_KEY_ENCRYPTION_KEY": TEST_KEK,
        "LIANG_PUBLIC_URL": f"http://127.0.0.1:{live_port}",
        "LIANG_LOG_FORMAT": "text",
        "LIANG_REDIS_URL": hung_redis,
    }
    server = start_server(env, port=live_port)
    yield server
    server.stop()


def test_verification_answers_fast_while_redis_hangs(server_on_hung_redis: LiveServer,
                                                     issue_badge: Callable[..., str]) -> None:
    server = server_on_hung_redis
    badge_id = issue_badge()
    timings = []
    for _ in range(20):
        started = time.monotonic()
        response = requests.get(f"{server.url}/api/v1/badges/{badge_id}", timeout=30)
        timings.append(time.monotonic() - started)
        assert response.status_code == 200 and response.json()["status"] == "valid"
    page = requests.get(f"{server.url}/v/{badge_id}", timeout=30)
    assert page.status_code == 200
    # The first request pays the short socket timeout once; the breaker skips Redis for the rest.
    assert timings[0] < 2.0, timings
    assert max(timings[1:]) < 0.5, timings
    assert sum(timings) < 4.0, timings
    assert server.output().count("rate-limit storage unreachable") == 1
