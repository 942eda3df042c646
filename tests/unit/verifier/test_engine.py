"""verifier.storage.engine: where a database runs."""

from __future__ import annotations

import pytest

from verifier.storage.engine import server_on_this_machine


@pytest.mark.parametrize("url", [
    "postgresql+psycopg://postgres@127.0.0.1:5432/test",
    "postgresql+psycopg://postgres@127.0.1.1/test",
    "postgresql+psycopg://postgres@localhost/test",
    "postgresql+psycopg://postgres@LOCALHOST/test",
    "postgresql+psycopg://postgres@[::1]:5432/test",
    "postgresql+psycopg:///test",  # no host: the default Unix socket
    "postgresql+psycopg://postgres@/test?host=/var/run/postgresql",
])
def test_a_loopback_or_socket_server_is_on_this_machine(url):
    assert server_on_this_machine(url) is True


@pytest.mark.parametrize("url", [
    "postgresql+psycopg://liang@db.internal:5432/liang",
    "postgresql+psycopg://liang@10.0.0.5/liang",
    "postgresql+psycopg://liang@/liang?host=db.internal",
])
def test_a_server_elsewhere_is_not(url):
    assert server_on_this_machine(url) is False


@pytest.mark.parametrize("url", ["sqlite:///instance/liang.sqlite3", "sqlite://"])
def test_sqlite_has_no_server(url):
    assert server_on_this_machine(url) is False
