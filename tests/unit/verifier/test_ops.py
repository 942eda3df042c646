"""The log formatters and the request-id record factory."""

from __future__ import annotations

import json
import logging

from verifier.web import ops


def _record(msg: str = "hello %s", args: tuple[object, ...] = ("world",), **extra: object) -> logging.LogRecord:
    record = logging.LogRecord("liang.test", logging.WARNING, __file__, 1, msg, args, None)
    for key, value in extra.items():
        setattr(record, key, value)
    return record


def test_json_formatter_emits_one_object_per_line() -> None:
    line = ops.JsonFormatter().format(_record(request_id="rid-12345678", status=200, path="/healthz"))
    assert "\n" not in line
    body = json.loads(line)
    assert body["msg"] == "hello world"
    assert body["level"] == "warning"
    assert body["request_id"] == "rid-12345678"
    assert body["status"] == 200
    assert body["ts"].endswith("Z")


def test_json_formatter_keeps_exception_on_one_line() -> None:
    try:
        raise RuntimeError("boom\nsecond line")
    except RuntimeError:
        import sys

        record = logging.LogRecord("liang.test", logging.ERROR, __file__, 1, "failed", (), sys.exc_info())
    line = ops.JsonFormatter().format(record)
    assert "\n" not in line
    assert "RuntimeError" in json.loads(line)["exc"]


def test_json_formatter_without_request() -> None:
    assert json.loads(ops.JsonFormatter().format(_record()))["request_id"] is None


def test_text_formatter_shows_request_id() -> None:
    assert "[rid-12345678] hello world" in ops.TextFormatter().format(_record(request_id="rid-12345678"))


def test_make_formatter_picks_by_name() -> None:
    assert isinstance(ops.make_formatter("text"), ops.TextFormatter)
    assert isinstance(ops.make_formatter("json"), ops.JsonFormatter)
