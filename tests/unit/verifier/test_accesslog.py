"""The access log written off the request path: the same records, with the request's own id and time."""

from __future__ import annotations

import logging

import pytest

from verifier.web import accesslog
from verifier.web.accesslog import AccessWriter


@pytest.fixture
def writer(monkeypatch):
    made = AccessWriter(logging.getLogger("liang.access"))
    monkeypatch.setattr(made, "_schedule", lambda: None)  # the test writes, not a thread
    return made


def test_a_line_is_held_until_written_then_is_the_usual_record(writer, caplog):
    caplog.set_level(logging.INFO, logger="liang.access")
    writer.put("req-00000001", "GET", "/api/v1/badges/X", 200, 0.31, "/api/v1/badges/<raw_id>")
    assert [r for r in caplog.records if r.name == "liang.access"] == []
    assert writer.flush() == 1
    (record,) = [r for r in caplog.records if r.name == "liang.access"]
    assert record.getMessage() == "GET /api/v1/badges/X 200"
    assert (record.request_id, record.path, record.status, record.duration_ms, record.endpoint) == (
        "req-00000001", "/api/v1/badges/X", 200, 0.31, "/api/v1/badges/<raw_id>")
    assert writer.flush() == 0


def test_a_writer_far_behind_makes_requests_write_their_own_lines(writer, caplog, monkeypatch):
    caplog.set_level(logging.INFO, logger="liang.access")
    monkeypatch.setattr(accesslog, "MAX_PENDING", 2)
    for n in range(3):
        writer.put(f"req-0000000{n}", "GET", "/healthz", 200, 0.1, "/healthz")
    assert [r.request_id for r in caplog.records if r.name == "liang.access"] == [
        "req-00000000", "req-00000001", "req-00000002"]


def test_a_served_app_hands_its_lines_to_the_writer(app, client, monkeypatch):
    """``liang serve`` (not testing) gives the app a writer; the request then only hands its fields over."""
    taken = []

    class Recorder:
        def put(self, *fields):
            taken.append(fields)

    monkeypatch.setitem(app.extensions, "liang.access_writer", Recorder())
    client.get("/healthz", headers={"X-Request-ID": "req-00000009"})
    assert taken == [("req-00000009", "GET", "/healthz", 200, taken[0][4], "/healthz")]
