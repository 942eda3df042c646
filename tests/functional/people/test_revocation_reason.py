"""A revocation's reason is public and permanent: nobody's default, always an explicit choice."""

from __future__ import annotations

import re

import pytest

from tests.functional.admin.conftest import csrf_from


@pytest.fixture
def org(make_user, make_branch):
    make_branch("B01", "第一支部")
    make_user("boss", "committee")


def _state(client, badge_id):
    return client.get(f"/api/v1/badges/{badge_id}").get_json()["status"]


def test_console_revoke_form_preselects_no_reason(org, login, issue_badge):
    badge_id = issue_badge(branch="B01")
    page = login("boss").get(f"/admin/badges/{badge_id}/act/revoke").get_data(as_text=True)
    select = re.search(r'<select[^>]*name="reason"[^>]*>(.*?)</select>', page, re.S)
    assert select, page
    options = re.findall(r"<option([^>]*)>([^<]*)</option>", select.group(1))
    first_attrs, first_text = options[0]
    assert 'value=""' in first_attrs and first_text == "请选择撤销原因"
    assert [attrs for attrs, _text in options if "selected" in attrs] in ([], [options[0][0]])


def test_console_revoke_without_reason_is_refused_beside_the_field(org, login, client, issue_badge):
    badge_id = issue_badge(branch="B01")
    console = login("boss")
    url = f"/admin/badges/{badge_id}/act/revoke"
    token = csrf_from(console.get(url).get_data(as_text=True))
    response = console.post(url, data={"reason": "", "confirm": "yes", "csrf_token": token})
    assert response.status_code == 400
    assert "请选择撤销原因：原因将公开显示在核验页面上，且不能更改。" in response.get_data(as_text=True)
    assert _state(client, badge_id) == "valid"


@pytest.mark.parametrize("body", [{}, {"reason": ""}, {"reason": None}, {"note": "n"}])
def test_api_revoke_without_reason_is_400_with_words(org, make_token, client, issue_badge, body):
    badge_id = issue_badge(branch="B01")
    token = make_token("boss")
    response = client.post(f"/api/v1/admin/badges/{badge_id}/revoke", json=body,
                           headers={"Authorization": f"Bearer {token}", "Accept-Language": "en"})
    assert response.status_code == 400
    error = response.get_json()["error"]
    assert error["code"] == "invalid_request"
    assert "public" in error["message"] and "reason" in error["message"].lower(), error
    assert _state(client, badge_id) == "valid"


def test_api_revoke_with_reason_still_works(org, make_token, client, issue_badge):
    badge_id = issue_badge(branch="B01")
    token = make_token("boss")
    response = client.post(f"/api/v1/admin/badges/{badge_id}/revoke", json={"reason": "shop_closed"},
                           headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 200
    assert response.get_json()["revocation"]["reason"] == "shop_closed"
