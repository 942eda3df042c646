"""Request ids, access log, metrics endpoint and counters, through the test client."""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from verifier.app import create_app
from verifier.web import metrics

TOKEN = "m" * 40


def _sample(name: str, **labels: str) -> float:
    return metrics.REGISTRY.get_sample_value(name, labels or None) or 0.0


@pytest.fixture
def metrics_app(app_config: dict[str, Any], app: Flask) -> Flask:
    """An app with a metrics token (sharing the emptied database of ``app``)."""
    return create_app({**app_config, "METRICS_TOKEN": TOKEN})


def test_generated_request_id_is_echoed(client: FlaskClient) -> None:
    response = client.get("/healthz")
    assert re.fullmatch(r"[0-9a-f]{16}", response.headers["X-Request-ID"])


def test_sane_incoming_request_id_is_kept(client: FlaskClient) -> None:
    response = client.get("/healthz", headers={"X-Request-ID": "abc-DEF-12345678"})
    assert response.headers["X-Request-ID"] == "abc-DEF-12345678"


@pytest.mark.parametrize("incoming", ["short", "x" * 65, "bad id with spaces", "evil\u00e9-12345678", "a;b=c-12345"])
def test_insane_incoming_request_id_is_replaced(client: FlaskClient, incoming: str) -> None:
    response = client.get("/healthz", headers={"X-Request-ID": incoming})
    assert response.headers["X-Request-ID"] != incoming
    assert re.fullmatch(r"[0-9a-f]{16}", response.headers["X-Request-ID"])


def test_error_responses_carry_a_request_id(client: FlaskClient) -> None:
    response = client.get("/api/v1/badges/!!!")
    assert response.status_code == 400
    assert response.headers["X-Request-ID"]


def test_access_log_line_has_request_id_and_no_query(client: FlaskClient, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="liang.access")
    response = client.get("/healthz?contact=13800138000", headers={"X-Request-ID": "req-00000001"})
    (record,) = [r for r in caplog.records if r.name == "liang.access"]
    assert record.request_id == "req-00000001"
    assert record.path == "/healthz"
    assert record.status == response.status_code == 200
    assert record.duration_ms >= 0
    assert "13800138000" not in record.getMessage()


@pytest.mark.fresh_app  # adds a route
def test_records_logged_during_a_request_carry_its_id(client: FlaskClient, caplog: pytest.LogCaptureFixture,
                                                      app: Flask) -> None:
    @app.get("/_test/log")
    def _log() -> str:
        logging.getLogger("verifier.somewhere").warning("inside")
        return "ok"

    client.get("/_test/log", headers={"X-Request-ID": "req-00000002"})
    (record,) = [r for r in caplog.records if r.getMessage() == "inside"]
    assert record.request_id == "req-00000002"


def test_metrics_absent_without_token(client: FlaskClient) -> None:
    assert client.get("/metrics").status_code == 404
    assert client.get("/metrics", headers={"Authorization": "Bearer "}).status_code == 404


def test_metrics_refuse_wrong_token(metrics_app: Flask) -> None:
    response = metrics_app.test_client().get("/metrics", headers={"Authorization": "Bearer " + "x" * 40})
    assert response.status_code == 404


def test_metrics_refuse_token_without_bearer(metrics_app: Flask) -> None:
    assert metrics_app.test_client().get("/metrics", headers={"Authorization": TOKEN}).status_code == 404


def test_metrics_served_with_token(metrics_app: Flask) -> None:
    response = metrics_app.test_client().get("/metrics", headers={"Authorization": f"Bearer {TOKEN}"})
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"
    assert b"liang_verifications_total" in response.data
    assert b"liang_request_duration_seconds" in response.data


def test_verification_outcomes_counted(client: FlaskClient, issue_badge: Callable[..., str],
                                       act: Callable[..., Any]) -> None:
    badge = issue_badge()
    before_valid = _sample("liang_verifications_total", endpoint="badge_status", outcome="valid")
    before_revoked = _sample("liang_verifications_total", endpoint="verify_page", outcome="revoked")
    before_missing = _sample("liang_verifications_total", endpoint="badge_status", outcome="not_found")
    before_malformed = _sample("liang_verifications_total", endpoint="badge_status", outcome="malformed")
    assert client.get(f"/api/v1/badges/{badge}").status_code == 200
    act("revoke", badge, reason="misconduct")
    assert client.get(f"/v/{badge}").status_code == 200
    assert client.get("/api/v1/badges/0000-0000-0000").status_code == 404
    assert client.get("/api/v1/badges/!!").status_code == 400
    assert _sample("liang_verifications_total", endpoint="badge_status", outcome="valid") == before_valid + 1
    assert _sample("liang_verifications_total", endpoint="verify_page", outcome="revoked") == before_revoked + 1
    assert _sample("liang_verifications_total", endpoint="badge_status", outcome="not_found") == before_missing + 1
    assert _sample("liang_verifications_total", endpoint="badge_status", outcome="malformed") == before_malformed + 1


def test_verify_post_outcome_counted(client: FlaskClient) -> None:
    before = _sample("liang_verifications_total", endpoint="verify", outcome="malformed")
    response = client.post("/api/v1/verify", json={"credential": "not.a.jws"})
    assert response.status_code == 200
    assert response.get_json()["reason"] == "malformed"
    assert _sample("liang_verifications_total", endpoint="verify", outcome="malformed") == before + 1


def test_issuance_and_state_changes_counted_on_commit(issue_badge: Callable[..., str],
                                                      act: Callable[..., Any]) -> None:
    issued = _sample("liang_issuance_total")
    suspended = _sample("liang_state_changes_total", action="suspend")
    badge = issue_badge()
    act("suspend", badge)
    assert _sample("liang_issuance_total") == issued + 1
    assert _sample("liang_state_changes_total", action="suspend") == suspended + 1


def test_rolled_back_change_is_not_counted(app: Flask, issue_badge: Callable[..., str]) -> None:
    from tests.conftest import COMMITTEE
    from verifier import context

    badge = issue_badge()
    revoked = _sample("liang_state_changes_total", action="revoke")
    with app.app_context():
        context.begin_write()
        context.badge_service().revoke(badge, actor=COMMITTEE, reason="misconduct")
        context.session().flush()
        context.session().rollback()
    assert _sample("liang_state_changes_total", action="revoke") == revoked


def test_count_complaint_helper() -> None:
    before = _sample("liang_complaints_total")
    metrics.count_complaint()
    assert _sample("liang_complaints_total") == before + 1


def test_latency_labelled_by_rule_not_path(client: FlaskClient, issue_badge: Callable[..., str]) -> None:
    badge = issue_badge()
    client.get(f"/api/v1/badges/{badge}")
    assert _sample("liang_request_duration_seconds_count", endpoint="/api/v1/badges/<raw_id>", method="GET") >= 1
    text = metrics.render()[0].decode()
    assert badge not in text


def test_unknown_log_format_refused(app_config: dict[str, Any]) -> None:
    from verifier.config import ConfigError

    with pytest.raises(ConfigError, match="LOG_FORMAT") as info:
        create_app({**app_config, "LOG_FORMAT": "xml"})
    assert "xml" in str(info.value)


def test_rate_limits_not_inherited_from_an_earlier_app(app_config: dict[str, Any], app: Flask) -> None:
    """Regression: an app built with limits off (the CLI's) must not switch them off for the next one."""
    create_app({**app_config, "RATELIMIT_ENABLED": False})
    config = {k: v for k, v in app_config.items() if k != "RATELIMIT_ENABLED"}
    served = create_app({**config, "VERIFY_RATE_LIMIT": "2 per minute"}).test_client()
    codes = [served.get("/api/v1/badges/0000-0000-0000").status_code for _ in range(3)]
    assert codes == [404, 404, 429]
