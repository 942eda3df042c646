"""Token expiry and the committee's account page (issue 14, item 4)."""

from __future__ import annotations

import pytest

from tests.functional.admin.conftest import PASSWORD, post_form
from verifier import context
from verifier.storage.models import AuditEvent


def _api(client, token: str) -> int:
    return client.get("/api/v1/admin/badges", headers={"Authorization": f"Bearer {token}"}).status_code


def test_api_token_expires_after_90_days_by_default(client, make_user, make_token, clock):
    make_user("boss", "committee")
    token = make_token("boss")
    clock.advance(days=89, hours=23)
    assert _api(client, token) == 200
    clock.advance(hours=1)
    assert _api(client, token) == 401


def test_api_token_lifetime_is_configurable(app_config, make_user, make_token, clock):
    from verifier.app import create_app

    app_config["API_TOKEN_DAYS"] = 7
    name = make_user("boss", "committee")
    short = create_app(app_config)
    with short.app_context():
        from verifier.accounts.auth import accounts

        context.begin_write()
        token = accounts().issue_token(name)
        context.session().commit()
    client = short.test_client()
    clock.advance(days=6)
    assert _api(client, token) == 200
    clock.advance(days=1)
    assert _api(client, token) == 401


def test_committee_disables_an_account_from_the_console(app, login, make_user, make_token, make_branch):
    make_branch("B01", "第一支部")
    make_user("boss", "committee")
    make_user("sec1", "branch", "B01")
    token = make_token("sec1")
    victim = login("sec1")
    boss = login("boss")
    page = boss.get("/admin/users")
    assert page.status_code == 200 and "sec1" in page.get_data(as_text=True)
    response = post_form(boss, "/admin/users", {"username": "sec1", "op": "disable", "confirm": "yes"},
                         page_url="/admin/users")
    assert response.status_code == 302
    assert victim.get("/admin/tokens").status_code == 302  # the session ended
    assert _api(app.test_client(), token) == 401
    with app.app_context():
        events = [(e.action, e.target) for e in context.session().query(AuditEvent).all()]
    assert ("user_disable", "sec1") in events


def test_console_password_reset_needs_matching_strong_password(app, login, make_user):
    make_user("boss", "committee")
    make_user("eye", "auditor")
    boss = login("boss")
    bad = post_form(boss, "/admin/users", {"username": "eye", "op": "reset_password", "confirm": "yes",
                                           "password": "short", "password2": "short"}, page_url="/admin/users")
    assert bad.status_code == 400 and "密码至少需要 12 个字符。" in bad.get_data(as_text=True)
    differ = post_form(boss, "/admin/users", {"username": "eye", "op": "reset_password", "confirm": "yes",
                                              "password": "a-long-new-secret-1", "password2": "x"},
                       page_url="/admin/users")
    assert differ.status_code == 400 and "两次输入的密码不一致。" in differ.get_data(as_text=True)
    ok = post_form(boss, "/admin/users", {"username": "eye", "op": "reset_password", "confirm": "yes",
                                          "password": "a-long-new-secret-1", "password2": "a-long-new-secret-1"},
                   page_url="/admin/users")
    assert ok.status_code == 302
    assert login("eye", "a-long-new-secret-1")
    with pytest.raises(AssertionError):
        login("eye", PASSWORD)


@pytest.mark.parametrize("role", ["branch", "auditor"])
def test_only_the_committee_changes_accounts(app, login, make_user, make_token, make_branch, role):
    make_branch("B01", "第一支部")
    make_user("boss", "committee")
    make_user("who", role, "B01" if role == "branch" else None)
    token = make_token("boss")
    client = login("who")
    response = post_form(client, "/admin/users", {"username": "boss", "op": "revoke_tokens", "confirm": "yes"})
    assert response.status_code == 403
    assert _api(app.test_client(), token) == 200
