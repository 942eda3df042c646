"""PostgreSQL connections carry connect and statement timeouts; /healthz never waits on a hung probe."""

from __future__ import annotations

import threading
import time

import pytest

from verifier.config import ConfigError, load_config
from verifier.storage.engine import MIGRATION_TIMEOUTS, Timeouts, make_engine, postgres_connect_args
from verifier.verification.views import HealthProbe


def test_timeouts_join_the_urls_own_options():
    url = "postgresql+psycopg://u@127.0.0.1:5432/db?options=-csearch_path%3Dt_abc"
    args = postgres_connect_args(url, Timeouts(connect=3, statement=7, pool=4))
    assert args["connect_timeout"] == 3
    assert args["options"] == "-csearch_path=t_abc -c statement_timeout=7000"


def test_zero_turns_a_timeout_off():
    assert postgres_connect_args("postgresql+psycopg://u@h/db", Timeouts(connect=0, statement=0, pool=0)) == {}
    assert "options" not in postgres_connect_args("postgresql+psycopg://u@h/db", MIGRATION_TIMEOUTS)


def test_the_engine_gets_them():
    engine = make_engine("postgresql+psycopg://u@127.0.0.1:1/db", timeouts=Timeouts(connect=2, statement=9, pool=3))
    assert engine.pool.timeout() == 3
    engine.dispose()


@pytest.mark.parametrize("key", ["DB_CONNECT_TIMEOUT", "DB_STATEMENT_TIMEOUT", "DB_POOL_TIMEOUT"])
def test_negative_timeouts_are_refused_at_start(key):
    with pytest.raises(ConfigError, match=key):
        load_config(environ={f"LIANG_{key}": "-1"})


def test_the_settings_reach_the_app(app_config, tmp_path):
    from verifier.app import create_app

    app = create_app({**app_config, "DB_CONNECT_TIMEOUT": 4, "DB_STATEMENT_TIMEOUT": 11, "DB_POOL_TIMEOUT": 6})
    assert app.extensions["liang.db"].timeouts == Timeouts(connect=4, statement=11, pool=6)


def test_a_stuck_probe_answers_false_in_time_and_is_not_joined_by_another():
    probe = HealthProbe()
    release = threading.Event()
    calls = []

    def stuck() -> bool:
        calls.append(1)
        release.wait(30)
        return True

    started = time.monotonic()
    assert probe.run(stuck, timeout=0.3) is False
    assert probe.run(stuck, timeout=0.3) is False  # the first is still stuck: no second thread
    assert time.monotonic() - started < 5 and len(calls) == 1
    release.set()
    time.sleep(0.1)
    assert probe.run(lambda: True, timeout=1) is True
    assert probe.run(lambda: 1 / 0, timeout=1) is False


def test_healthz_is_503_when_the_probe_hangs(app, client, monkeypatch):
    from verifier import context

    release = threading.Event()
    with app.app_context():
        reader_class = type(context.reader())
    monkeypatch.setattr(reader_class, "ping", lambda self: release.wait(30))
    app.config["HEALTH_TIMEOUT"] = 1
    try:
        started = time.monotonic()
        response = client.get("/healthz")
        assert response.status_code == 503 and time.monotonic() - started < 5
    finally:
        release.set()
        app.config["HEALTH_TIMEOUT"] = 3
