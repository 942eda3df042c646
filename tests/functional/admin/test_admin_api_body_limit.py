"""Admin API bodies over 64 KiB are refused before they are read, even where a view ignores its body (issue 14, item 17)."""

from __future__ import annotations

import io
import json

import pytest

from verifier.web.requests import ADMIN_API_MAX_BYTES

ACTIONS = {"suspend": {"note": "x"}, "revoke": {"reason": "misconduct"}, "renew": {"valid_days": 30}}


@pytest.fixture
def boss(make_user, make_token, make_branch):
    make_branch("B01", "第一支部")
    make_user("boss", "committee")
    return {"Authorization": f"Bearer {make_token('boss')}"}


def _padded(body, size):
    """Valid JSON of ``size`` bytes: the object, then white space."""
    text = json.dumps(body)
    return (text + " " * (size - len(text))).encode()


class _Unreadable(io.RawIOBase):
    """A request body that fails the test if anything reads it."""

    def readable(self):
        return True

    def readinto(self, buffer):
        raise AssertionError("the oversized body was read")

    def seekable(self):
        return True

    def seek(self, offset, whence=0):
        return 0

    def tell(self):
        return 0


def _status(client, badge_id):
    return client.get(f"/api/v1/badges/{badge_id}").get_json()["status"]


@pytest.mark.parametrize("action", ["suspend", "revoke", "renew", "reinstate"])
def test_oversized_action_body_is_413(client, boss, issue_badge, act, action):
    badge_id = issue_badge()
    if action == "reinstate":
        act("suspend", badge_id)
    before = _status(client, badge_id)
    response = client.post(f"/api/v1/admin/badges/{badge_id}/{action}", headers=boss, content_type="application/json",
                           data=_padded(ACTIONS.get(action, {}), ADMIN_API_MAX_BYTES + 1))
    assert response.status_code == 413
    assert response.get_json()["error"]["code"] == "too_large"
    assert _status(client, badge_id) == before


def test_a_body_at_the_limit_is_taken(client, boss, issue_badge):
    badge_id = issue_badge()
    response = client.post(f"/api/v1/admin/badges/{badge_id}/suspend", headers=boss, content_type="application/json",
                           data=_padded({"note": "投诉处理中"}, ADMIN_API_MAX_BYTES))
    assert response.status_code == 200 and response.get_json()["status"] == "suspended"


def test_an_oversized_body_is_refused_unread(client, boss, issue_badge):
    badge_id = issue_badge()
    size = 1024 * 1024  # over the admin API's limit, under the app's 16 MiB: only the new check refuses it
    response = client.post(f"/api/v1/admin/badges/{badge_id}/suspend", headers=boss, content_type="application/json",
                           input_stream=_Unreadable(),
                           environ_overrides={"CONTENT_LENGTH": str(size)})
    assert response.status_code == 413
    assert response.get_json()["error"]["code"] == "too_large"
    assert _status(client, badge_id) == "valid"


def test_unauthenticated_oversized_body_is_refused_unread(client, issue_badge):
    badge_id = issue_badge()
    response = client.post(f"/api/v1/admin/badges/{badge_id}/suspend", content_type="application/json",
                           input_stream=_Unreadable(),
                           environ_overrides={"CONTENT_LENGTH": str(1024 * 1024)})
    assert response.status_code == 413


def _chunked(client, url, headers, body):
    """POST ``body`` as a server that decodes chunked transfer encoding hands it on: no length, terminated input."""
    return client.post(url, headers={**headers, "Transfer-Encoding": "chunked"}, content_type="application/json",
                       input_stream=io.BytesIO(body), environ_overrides={"wsgi.input_terminated": True})


def test_oversized_chunked_body_is_413(client, boss, issue_badge):
    badge_id = issue_badge()
    response = _chunked(client, f"/api/v1/admin/badges/{badge_id}/suspend", boss,
                        _padded({"note": "x"}, ADMIN_API_MAX_BYTES + 1))
    assert response.status_code == 413
    assert _status(client, badge_id) == "valid"


def test_chunked_body_at_the_limit_is_taken(client, boss, issue_badge):
    badge_id = issue_badge()
    response = _chunked(client, f"/api/v1/admin/badges/{badge_id}/suspend", boss,
                        _padded({"note": "投诉处理中"}, ADMIN_API_MAX_BYTES))
    assert response.status_code == 200 and response.get_json()["status"] == "suspended"
