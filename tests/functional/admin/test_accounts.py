"""Console accounts: login, CSRF, lockout, rate limit, logout, TOTP, framing."""

from __future__ import annotations

import logging

import pyotp
import pytest
from sqlalchemy import select

from tests.functional.admin.conftest import PASSWORD, csrf_from
from verifier import context
from verifier.storage.models import User


def _login_page(client):
    return csrf_from(client.get("/admin/login").get_data(as_text=True))


def _try(client, username, password, totp=""):
    return client.post("/admin/login", data={"username": username, "password": password, "totp": totp,
                                             "csrf_token": _login_page(client)})


def _user(app, name):
    with app.app_context():
        return context.session().execute(select(User).where(User.username == name)).scalar_one()


def test_console_requires_login(client, app):
    response = client.get("/admin/badges")
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/admin/login")


def test_login_without_csrf_token_is_refused(client, make_user):
    make_user("boss", "committee")
    client.get("/admin/login")
    response = client.post("/admin/login", data={"username": "boss", "password": PASSWORD})
    assert response.status_code == 400
    assert client.get("/admin/").status_code == 302  # still not signed in


def test_login_works_and_sets_safe_cookie(client, make_user):
    make_user("boss", "committee")
    response = _try(client, "boss", PASSWORD)
    assert response.status_code == 302 and response.headers["Location"] == "/admin/"
    cookie = next(c for c in response.headers.getlist("Set-Cookie") if not c.startswith("liang_device="))
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Expires=" in cookie
    assert client.get("/admin/").status_code == 200


def test_wrong_password_is_401_with_message(client, make_user):
    make_user("boss", "committee")
    response = _try(client, "boss", "wrong-password-123")
    assert response.status_code == 401
    assert "用户名、密码或动态验证码不正确" in response.get_data(as_text=True)


def _answers(client, username, n):
    out = []
    for i in range(n):
        response = _try(client, username, f"wrong-password-{i:03d}")
        out.append((response.status_code, response.get_data(as_text=True).replace(username, "NAME")))
    return out


def test_known_and_unknown_names_get_the_same_answers(app, make_user, caplog):
    make_user("boss", "committee")
    caplog.set_level(logging.WARNING)
    known = _answers(app.test_client(), "boss", 25)
    unknown = _answers(app.test_client(), "nobody", 25)
    strip = [(status, _strip_csrf(page)) for status, page in known]
    assert strip == [(status, _strip_csrf(page)) for status, page in unknown]
    assert {status for status, _ in known} == {401}
    assert _user(app, "boss").locked_until is not None  # the account is in back-off all the same
    assert "back-off" in caplog.text and "wrong-password" not in caplog.text  # logged, without passwords


def _strip_csrf(page):
    import re

    return re.sub(r'name="csrf_token" value="[^"]+"', "", page)


def test_back_off_holds_even_the_right_password_then_lets_go(client, make_user, clock):
    make_user("boss", "committee")
    for i in range(7):  # 5 free failures, then 1 s, 2 s, 4 s of back-off
        _try(client, "boss", f"wrong-password-{i:03d}")
    assert _try(client, "boss", PASSWORD).status_code == 401  # held, unchecked, same answer
    clock.advance(seconds=5)
    assert _try(client, "boss", PASSWORD).status_code == 302


def test_back_off_is_at_most_15_minutes(client, make_user, clock):
    make_user("boss", "committee")
    for i in range(60):
        _try(client, "boss", f"wrong-password-{i:03d}")
        clock.advance(minutes=16)  # past every wait, so each failure counts and doubles the next
    assert _try(client, "boss", "wrong-password-x").status_code == 401
    clock.advance(minutes=15, seconds=1)
    assert _try(client, "boss", PASSWORD).status_code == 302


def test_owner_browser_is_not_locked_out_by_an_attacker(app, make_user, login, clock):
    make_user("boss", "committee")
    owner = login("boss")  # a successful login leaves a device cookie in this browser
    owner.post("/admin/logout", data={"csrf_token": _csrf_of(owner)})
    attacker = app.test_client()
    for i in range(30):
        _try(attacker, "boss", f"wrong-password-{i:03d}")
    assert _try(attacker, "boss", PASSWORD).status_code == 401  # the attacker's guesses are held
    assert _try(owner, "boss", PASSWORD).status_code == 302  # the owner's browser is not
    assert _try(app.test_client(), "boss", PASSWORD).status_code == 401  # a new browser waits


def _csrf_of(client):
    return csrf_from(client.get("/admin/").get_data(as_text=True))


def test_a_new_password_retires_device_cookies(app, make_user, login):
    make_user("boss", "committee")
    owner = login("boss")
    with app.app_context():
        from verifier.accounts.service import AccountService

        context.begin_write()
        service = AccountService(context.session(), clock=context.clock())
        service.set_password(service.require("boss"), "brand-new-password-42")
        context.session().commit()
    attacker = app.test_client()
    for i in range(8):
        _try(attacker, "boss", f"wrong-password-{i:03d}")
    assert _try(owner, "boss", "brand-new-password-42").status_code == 401  # the old cookie no longer vouches


def test_success_resets_the_failure_count(client, make_user, app):
    make_user("boss", "committee")
    for i in range(4):  # below the back-off threshold
        _try(client, "boss", f"wrong-password-{i:03d}")
    assert _try(client, "boss", PASSWORD).status_code == 302
    assert _user(app, "boss").failed_logins == 0


@pytest.fixture
def limited_config(app_config):
    app_config["RATELIMIT_ENABLED"] = True
    app_config["LOGIN_RATE_LIMIT"] = "5 per minute"
    return app_config


def test_per_client_rate_limit_is_429_and_logged(limited_config, client, make_user, caplog):
    make_user("boss", "committee")
    caplog.set_level(logging.WARNING)
    statuses = [_try(client, f"nobody{i}", "wrong-password-x").status_code for i in range(7)]
    assert statuses[:5] == [401] * 5
    assert statuses[5] == 429
    page = _try(client, "boss", PASSWORD)
    assert page.status_code == 429
    assert "请求过于频繁" in page.get_data(as_text=True)
    assert "login rate limit" in caplog.text


def test_logout_ends_the_session_server_side(client, login, make_user, app):
    make_user("boss", "committee")
    console = login("boss")
    stolen = console.get_cookie("liang_session").value
    token = csrf_from(console.get("/admin/").get_data(as_text=True))
    assert console.post("/admin/logout", data={"csrf_token": token}).status_code == 302
    replay = app.test_client()
    replay.set_cookie("liang_session", stolen)
    response = replay.get("/admin/")
    assert response.status_code == 302 and "/admin/login" in response.headers["Location"]


def test_logout_needs_post_with_csrf(client, login, make_user):
    make_user("boss", "committee")
    console = login("boss")
    assert console.get("/admin/logout").status_code == 405
    assert console.post("/admin/logout").status_code == 400
    assert console.get("/admin/").status_code == 200


@pytest.mark.parametrize("path", ["/admin/login", "/admin/", "/admin/badges"])
def test_console_cannot_be_framed(client, login, make_user, path):
    make_user("boss", "committee")
    console = login("boss")
    response = console.get(path)
    assert response.headers["X-Frame-Options"] == "DENY"
    assert "frame-ancestors 'none'" in response.headers["Content-Security-Policy"]


@pytest.mark.parametrize("target", ["https://evil.example/admin", "//evil.example/", "/\\evil.example"])
def test_login_next_cannot_leave_the_console(client, make_user, target):
    make_user("boss", "committee")
    token = _login_page(client)
    response = client.post("/admin/login", data={"username": "boss", "password": PASSWORD, "csrf_token": token,
                                                 "next": target})
    assert response.headers["Location"] == "/admin/"


def _enrol(console, clock, *, password=PASSWORD, current_code=None):
    page = console.get("/admin/totp").get_data(as_text=True)
    secret = page.split("<code>")[1].split("</code>")[0]
    code = pyotp.TOTP(secret).at(clock())
    data = {"code": code, "password": password, "csrf_token": csrf_from(page)}
    if current_code is not None:
        data["current_code"] = current_code
    response = console.post("/admin/totp", data=data)
    return secret, response


def test_totp_enrolment_then_login_needs_the_code(client, login, make_user, clock, app):
    make_user("boss", "committee")
    console = login("boss")
    secret, response = _enrol(console, clock)
    assert response.status_code == 302
    assert _user(app, "boss").totp_secret == secret
    assert _try(app.test_client(), "boss", PASSWORD).status_code == 401
    assert _try(app.test_client(), "boss", PASSWORD, "000000" if pyotp.TOTP(secret).at(clock()) != "000000"
                else "111111").status_code == 401
    clock.advance(seconds=30)  # the enrolment spent the code of its time step
    assert _try(app.test_client(), "boss", PASSWORD, pyotp.TOTP(secret).at(clock())).status_code == 302


def test_a_totp_code_works_once(client, login, make_user, clock, app):
    make_user("boss", "committee")
    secret, _ = _enrol(login("boss"), clock)
    clock.advance(seconds=30)
    code = pyotp.TOTP(secret).at(clock())
    assert _try(app.test_client(), "boss", PASSWORD, code).status_code == 302
    assert _try(app.test_client(), "boss", PASSWORD, code).status_code == 401  # replayed in its window
    clock.advance(seconds=10)
    assert _try(app.test_client(), "boss", PASSWORD, code).status_code == 401  # still inside the drift window
    previous = pyotp.TOTP(secret).at(clock().timestamp() - 30)
    assert _try(app.test_client(), "boss", PASSWORD, previous).status_code == 401  # an older step, too
    clock.advance(seconds=30)
    assert _try(app.test_client(), "boss", PASSWORD, pyotp.TOTP(secret).at(clock())).status_code == 302


def test_totp_enrolment_needs_the_password(client, login, make_user, app, clock):
    make_user("boss", "committee")
    _, response = _enrol(login("boss"), clock, password="not-the-password")
    assert response.status_code == 400 and "密码不正确。" in response.get_data(as_text=True)
    assert _user(app, "boss").totp_secret is None


def test_a_session_alone_cannot_replace_the_totp_secret(client, login, make_user, app, clock):
    make_user("boss", "committee")
    console = login("boss")
    first, _ = _enrol(console, clock)
    clock.advance(seconds=30)
    console = login("boss", totp=pyotp.TOTP(first).at(clock()))
    clock.advance(seconds=30)
    _, response = _enrol(console, clock)  # password, but not the old code
    assert response.status_code == 400 and "请输入此账户已绑定的验证器应用当前显示的动态验证码。" in response.get_data(as_text=True)
    _, response = _enrol(console, clock, password="", current_code=pyotp.TOTP(first).at(clock()))
    assert response.status_code == 400 and "密码不正确。" in response.get_data(as_text=True)
    assert _user(app, "boss").totp_secret == first
    second, response = _enrol(console, clock, current_code=pyotp.TOTP(first).at(clock()))
    assert response.status_code == 302 and _user(app, "boss").totp_secret == second != first


def test_totp_enrolment_with_wrong_code_is_refused(client, login, make_user, app):
    make_user("boss", "committee")
    console = login("boss")
    page = console.get("/admin/totp").get_data(as_text=True)
    response = console.post("/admin/totp", data={"code": "12345", "csrf_token": csrf_from(page)})
    assert response.status_code == 400
    assert _user(app, "boss").totp_secret is None


@pytest.fixture
def totp_required(app_config):
    app_config["REQUIRE_TOTP_FOR_COMMITTEE"] = True
    return app_config


def test_required_totp_forces_committee_to_enrol_first(totp_required, client, login, make_user, make_token, clock):
    make_user("boss", "committee")
    make_user("eye", "auditor")
    console = login("boss")
    response = console.get("/admin/badges")
    assert response.status_code == 302 and response.headers["Location"] == "/admin/totp"
    api = client.get("/api/v1/admin/badges", headers={"Authorization": f"Bearer {make_token('boss')}"})
    assert api.status_code == 403 and api.get_json()["error"]["code"] == "totp_required"
    assert login("eye").get("/admin/badges").status_code == 200  # only committee accounts
    _enrol(console, clock)
    assert console.get("/admin/badges").status_code == 200


def test_api_token_page_shows_token_once_and_revokes(client, login, make_user):
    make_user("boss", "committee")
    console = login("boss")
    page = console.get("/admin/tokens").get_data(as_text=True)
    created = console.post("/admin/tokens", data={"label": "脚本", "csrf_token": csrf_from(page)})
    text = created.get_data(as_text=True)
    token = text.split('<code class="token">')[1].split("</code>")[0]
    assert created.headers["Cache-Control"] == "no-store"
    assert token.startswith("liang_")
    assert token not in console.get("/admin/tokens").get_data(as_text=True)
    assert client.get("/api/v1/admin/badges", headers={"Authorization": f"Bearer {token}"}).status_code == 200
    page = console.get("/admin/tokens").get_data(as_text=True)
    token_id = page.split("/admin/tokens/")[1].split("/revoke")[0]
    assert console.post(f"/admin/tokens/{token_id}/revoke", data={"csrf_token": csrf_from(page), "confirm": "yes"}).status_code == 302
    assert client.get("/api/v1/admin/badges", headers={"Authorization": f"Bearer {token}"}).status_code == 401


def test_cannot_revoke_someone_elses_token(client, login, make_user, make_token, app):
    make_user("boss", "committee")
    make_user("sec2", "committee")
    other = make_token("boss")
    console = login("sec2")
    from verifier.storage.models import ApiToken

    with app.app_context():
        token_id = context.session().execute(select(ApiToken.id)).scalar_one()
    page = console.get("/admin/tokens").get_data(as_text=True)
    assert console.post(f"/admin/tokens/{token_id}/revoke", data={"csrf_token": csrf_from(page), "confirm": "yes"}).status_code == 404
    assert client.get("/api/v1/admin/badges", headers={"Authorization": f"Bearer {other}"}).status_code == 200


def _later(monkeypatch, minutes):
    import time as real_time

    import itsdangerous.timed

    start = real_time.time()

    class _Time:
        @staticmethod
        def time() -> float:
            return start + minutes * 60

    monkeypatch.setattr(itsdangerous.timed, "time", _Time)


def test_idle_session_expires_after_30_minutes(client, login, make_user, monkeypatch):
    make_user("boss", "committee")
    console = login("boss")
    _later(monkeypatch, 31)
    response = console.get("/admin/")
    assert response.status_code == 302 and "/admin/login" in response.headers["Location"]


def test_activity_keeps_the_session_alive(client, login, make_user, monkeypatch):
    make_user("boss", "committee")
    console = login("boss")
    _later(monkeypatch, 20)
    assert console.get("/admin/").status_code == 200  # refreshes the cookie's timestamp
    _later(monkeypatch, 45)  # 25 minutes after the last request
    assert console.get("/admin/").status_code == 200


def test_login_starts_a_fresh_session(client, make_user):
    make_user("boss", "committee")
    with client.session_transaction() as sess:
        sess["planted"] = "by-an-attacker"
    assert _try(client, "boss", PASSWORD).status_code == 302
    with client.session_transaction() as sess:
        assert "planted" not in sess
        assert sess.permanent
