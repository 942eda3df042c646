"""``liang badge import``: how many signing processes it starts when none are configured."""

from __future__ import annotations

import pytest
from flask import Flask

from verifier.cli.imports import _sign_workers


@pytest.fixture
def four_idle_cores(monkeypatch):
    monkeypatch.setattr("os.cpu_count", lambda: 4)
    monkeypatch.setattr("os.getloadavg", lambda: (0.0, 0.0, 0.0))


def _workers(url, configured=None):
    app = Flask(__name__)
    app.config.update(DATABASE_URL=url, IMPORT_SIGN_WORKERS=configured)
    with app.app_context():
        return _sign_workers()


def test_sqlite_leaves_only_the_importers_core(four_idle_cores):
    assert _workers("sqlite:////srv/liang/instance/liang.sqlite3") == 3


def test_a_database_server_on_this_machine_keeps_a_core(four_idle_cores):
    assert _workers("postgresql+psycopg://postgres@127.0.0.1:5432/liang") == 2


def test_a_database_server_elsewhere_keeps_none(four_idle_cores):
    assert _workers("postgresql+psycopg://liang@db.internal/liang") == 3


def test_a_configured_count_wins(four_idle_cores):
    assert _workers("postgresql+psycopg://postgres@127.0.0.1/liang", configured=3) == 3
