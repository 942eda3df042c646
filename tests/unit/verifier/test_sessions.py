"""The console session: a request's own use of it decides ``Vary: Cookie``, an extension's bookkeeping read does not."""

from __future__ import annotations

import pytest
from flask import Flask, Response

from verifier.web.sessions import LeanSession, LeanSessionInterface


def test_a_page_that_uses_the_session_varies_on_the_cookie(client):
    response = client.get("/admin/login")  # the CSRF token goes into the session
    assert "liang_session" in response.headers.get("Set-Cookie", "")
    assert "cookie" in response.headers.get("Vary", "").lower()


def test_a_public_answer_to_a_browser_with_a_console_session_does_not_vary_on_it(client):
    client.get("/admin/login")
    assert client.get_cookie("liang_session") is not None
    response = client.get("/.well-known/jwks.json")
    assert response.status_code == 200
    assert "Set-Cookie" not in response.headers
    assert "cookie" not in response.headers.get("Vary", "").lower()


def _saved(session: LeanSession) -> Response:
    app = Flask(__name__)
    app.secret_key = "test-secret"  # noqa: S105 - a test key
    response = Response()
    with app.test_request_context():
        LeanSessionInterface().save_session(app, session, response)
    return response


@pytest.mark.parametrize(("used", "vary"), [(True, True), (False, False), (None, True)])
def test_only_a_recorded_use_makes_a_read_session_vary(used, vary):
    session = LeanSession({"_user_id": "1:n"})
    session.accessed = True  # as every read through the proxy leaves it, Flask-Login's included
    session.used_by_request = used
    assert ("Cookie" in _saved(session).vary) is vary


def test_a_session_changed_after_the_request_ran_is_still_saved():
    session = LeanSession()
    session.used_by_request = False
    session["_remember"] = "clear"  # an extension's response hook writing to it
    assert "Cookie" in _saved(session).vary
