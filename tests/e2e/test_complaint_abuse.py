"""Complaint abuse replayed against a real server: cross-site filing (issue 14 item 8)."""

from __future__ import annotations

from collections.abc import Callable

import pytest
import requests

from tests.conftest import LiveServer

pytestmark = pytest.mark.e2e

BODY = {"category": "quality", "description": "吹风机坏了，店家拒绝退货。"}


def _url(server: LiveServer, badge_id: str) -> str:
    return f"{server.url}/api/v1/badges/{badge_id}/complaints"


def test_a_foreign_origin_cannot_file_a_complaint(live_server: LiveServer, issue_badge: Callable[..., str]) -> None:
    badge_id = issue_badge()
    evil = {"Origin": "https://evil.example"}
    # What a page on evil.example can send without a preflight: a form post, multipart, text/plain ...
    for kwargs in ({"data": BODY}, {"files": {"category": (None, "quality"), "description": (None, "x")}},
                   {"data": '{"category": "quality", "description": "x"}',
                    "headers": {**evil, "Content-Type": "text/plain"}}, {"json": BODY}):
        response = requests.post(_url(live_server, badge_id), headers=kwargs.pop("headers", evil), timeout=30,
                                 **kwargs)
        assert response.status_code == 403, response.text
        error = response.json()["error"]
        assert error["code"] == "cross_origin" and "其他网站" in error["message"]
        assert "Access-Control-Allow-Origin" not in response.headers
    null = requests.post(_url(live_server, badge_id), json=BODY, headers={"Origin": "null"}, timeout=30)
    assert null.status_code == 403
    fetch_meta = requests.post(_url(live_server, badge_id), json=BODY, headers={"Sec-Fetch-Site": "cross-site"},
                               timeout=30)
    assert fetch_meta.status_code == 403
    # Refused writes are not counted: the victim's (and the badge's) allowance is untouched.
    for _ in range(6):
        assert requests.post(_url(live_server, badge_id), json=BODY, headers=evil, timeout=30).status_code == 403
    genuine = requests.post(_url(live_server, badge_id), json=BODY, timeout=30)
    assert genuine.status_code == 201, genuine.text


def test_form_encoding_is_refused_even_without_an_origin(live_server: LiveServer,
                                                         issue_badge: Callable[..., str]) -> None:
    badge_id = issue_badge()
    response = requests.post(_url(live_server, badge_id), data=BODY, timeout=30)
    assert response.status_code == 415
    assert response.json()["error"]["code"] == "unsupported_media_type"


def test_server_to_server_and_own_origin_still_file(live_server: LiveServer,
                                                    issue_badge: Callable[..., str]) -> None:
    badge_id = issue_badge()
    plain = requests.post(_url(live_server, badge_id), json=BODY, timeout=30)
    assert plain.status_code == 201, plain.text
    own = requests.post(_url(live_server, badge_id), json={**BODY, "description": "另一件事"},
                        headers={"Origin": live_server.url, "Sec-Fetch-Site": "same-origin"}, timeout=30)
    assert own.status_code == 201, own.text
    multipart = requests.post(_url(live_server, badge_id),
                              files={"category": (None, "refund"), "description": (None, "不给退款")}, timeout=30)
    assert multipart.status_code == 201, multipart.text


# -- issue 14 item 17: public-only nodes take complaints (decided and documented in docs/deployment.md) -------
@pytest.fixture
def public_node(app, app_config, tmp_path):
    """``liang serve --public-only`` on the full node's database, with no KEK."""
    from tests.conftest import start_server

    env = {"LIANG_INSTANCE_DIR": str(tmp_path / "public-node"), "LIANG_DATABASE_URL": app_config["DATABASE_URL"],
           "LIANG_PUBLIC_URL": app_config["PUBLIC_URL"], "LIANG_LOG_FORMAT": "text", "LIANG_KEY_ENCRYPTION_KEY": ""}
    server = start_server(env, extra=("--public-only",))
    yield server
    server.stop()


def test_public_only_node_files_complaints_and_still_refuses_cross_site(public_node: LiveServer, app,
                                                                        issue_badge: Callable[..., str]) -> None:
    from sqlalchemy import select

    from verifier import context
    from verifier.storage.models import Complaint

    badge_id = issue_badge()
    filed = requests.post(_url(public_node, badge_id), json=BODY, timeout=30)
    assert filed.status_code == 201, filed.text
    assert requests.post(_url(public_node, badge_id), json=BODY, headers={"Origin": "https://evil.example"},
                         timeout=30).status_code == 403
    with app.app_context():
        numbers = context.session().execute(select(Complaint.tracking_number)).scalars().all()
    assert filed.json()["tracking_number"] in numbers
