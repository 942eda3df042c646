"""How database failures reach people: a lost race is 409, a failed write is not "cannot verify"."""

from __future__ import annotations

import pytest
from sqlalchemy.exc import IntegrityError, OperationalError

# The fixture adds routes: every test here gets an app of its own.
pytestmark = pytest.mark.fresh_app


@pytest.fixture
def failing(app):
    """Add routes that fail the way the database does, then return a client."""

    def raise_integrity():
        raise IntegrityError("INSERT INTO branches ...", {}, Exception("UNIQUE constraint failed: branches.code"))

    def raise_operational():
        raise OperationalError("UPDATE badges ...", {}, Exception("database is locked"))

    from verifier.extensions import csrf

    csrf.exempt(raise_integrity)
    csrf.exempt(raise_operational)
    app.add_url_rule("/api/v1/test-integrity", "test_integrity", raise_integrity, methods=["POST"])
    app.add_url_rule("/api/v1/test-operational", "test_operational", raise_operational, methods=["GET", "POST"])
    return app.test_client()


def test_a_lost_race_for_a_unique_row_is_409_not_503(failing):
    response = failing.post("/api/v1/test-integrity")
    assert response.status_code == 409
    assert response.get_json()["error"]["code"] == "conflict"
    assert "UNIQUE" not in response.get_data(as_text=True)


def test_a_failed_write_says_nothing_was_saved(failing):
    response = failing.post("/api/v1/test-operational")
    assert response.status_code == 503
    message = response.get_json()["error"]["message"]
    assert "什么也没有改变" in message and "核验" not in message


def test_a_failed_read_still_says_cannot_verify(failing):
    response = failing.get("/api/v1/test-operational")
    assert response.status_code == 503
    assert "暂时无法核验" in response.get_json()["error"]["message"]
