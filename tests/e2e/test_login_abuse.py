"""Login abuse replayed against a real `liang serve` (issue 14, items 5 and 14).

Item 5: the lockout told known names from unknown ones (only a real account ever showed the
lock message) and then refused the owner's right password for 15 minutes. Item 14: a CR/LF in
``next`` made a successful login answer 500.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time

import pytest
import requests

from tests.conftest import LiveServer

pytestmark = pytest.mark.e2e

PASSWORD = "correct-horse-battery-9"


@pytest.fixture
def owner(live_server: LiveServer) -> str:
    r = subprocess.run([sys.executable, "-m", "verifier", "admin", "create", "boss", "--role", "committee"],
                       env={**os.environ, **live_server.env}, input=PASSWORD + "\n", capture_output=True,
                       text=True, timeout=60, check=False)
    assert r.returncode == 0, r.stderr
    return "boss"


def _login(server: LiveServer, browser: requests.Session, username: str, password: str,
           next_path: str | None = None) -> requests.Response:
    page = browser.get(f"{server.url}/admin/login", timeout=10).text
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert csrf
    data = {"username": username, "password": password, "csrf_token": csrf.group(1)}
    if next_path is not None:
        data["next"] = next_path
    return browser.post(f"{server.url}/admin/login", data=data, timeout=10, allow_redirects=False)


def _answer(response: requests.Response, username: str) -> tuple[int, str]:
    body = re.sub(r'name="csrf_token" value="[^"]+"', "", response.text).replace(username, "NAME")
    return response.status_code, body


def test_known_and_unknown_names_cannot_be_told_apart(live_server: LiveServer, owner: str) -> None:
    known = [_answer(_login(live_server, requests.Session(), owner, f"wrong-{i:02d}-password"), owner)
             for i in range(8)]
    unknown = [_answer(_login(live_server, requests.Session(), "nobody", f"wrong-{i:02d}-password"), "nobody")
               for i in range(8)]
    assert known == unknown
    assert {status for status, _ in known} == {401}


def test_attacker_cannot_lock_the_owner_out(live_server: LiveServer, owner: str) -> None:
    browser = requests.Session()
    assert _login(live_server, browser, owner, PASSWORD).status_code == 302  # the owner's usual browser
    attacker = requests.Session()
    # Five free failures, then failures spaced past each back-off (1 s, 2 s, 4 s) so that each
    # counts: the last leaves an 8 s back-off, which outlasts one request even on a loaded machine.
    statuses = [_login(live_server, attacker, owner, f"wrong-{i:02d}-password").status_code for i in range(5)]
    for i, wait in enumerate((0.0, 1.5, 2.5, 4.5)):
        time.sleep(wait)
        statuses.append(_login(live_server, attacker, owner, f"later-{i}-password").status_code)
    assert set(statuses) == {401}
    assert _login(live_server, attacker, owner, PASSWORD).status_code == 401  # held: a right guess is wasted
    fresh = requests.Session()
    fresh.cookies.update({k: v for k, v in browser.cookies.items() if k == "liang_device"})
    assert _login(live_server, fresh, owner, PASSWORD).status_code == 302  # the owner gets in at once


@pytest.mark.parametrize("next_path", ["/admin/\r\nX-Injected: 1", "/admin/badges\n", "/admin/\x00"])
def test_control_characters_in_next_do_not_break_login(live_server: LiveServer, owner: str,
                                                       next_path: str) -> None:
    response = _login(live_server, requests.Session(), owner, PASSWORD, next_path)
    assert response.status_code == 302
    assert response.headers["Location"].endswith("/admin/") and "X-Injected" not in response.headers


def _csrf(server: LiveServer, browser: requests.Session, path: str) -> tuple[str, str]:
    page = browser.get(f"{server.url}{path}", timeout=10).text
    match = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert match
    return match.group(1), page


def _totp_login(server: LiveServer, username: str, code: str) -> int:
    browser = requests.Session()
    csrf, _ = _csrf(server, browser, "/admin/login")
    return browser.post(f"{server.url}/admin/login", timeout=10, allow_redirects=False, data={
        "username": username, "password": PASSWORD, "totp": code, "csrf_token": csrf}).status_code


def test_totp_code_replay_and_silent_re_enrolment(live_server: LiveServer, owner: str) -> None:
    import time

    import pyotp

    browser = requests.Session()
    assert _login(live_server, browser, owner, PASSWORD).status_code == 302
    csrf, page = _csrf(live_server, browser, "/admin/totp")
    secret = page.split("<code>")[1].split("</code>")[0]
    # wait for a fresh 30 s step if this one is nearly over, so that code and check share a step
    if time.time() % 30 > 25:
        time.sleep(30 - time.time() % 30 + 0.5)
    enrol = browser.post(f"{live_server.url}/admin/totp", timeout=10, allow_redirects=False, data={
        "code": pyotp.TOTP(secret).now(), "password": PASSWORD, "csrf_token": csrf})
    assert enrol.status_code == 302
    # the code just used for enrolment, and any code seen once, does not log in again
    assert _totp_login(live_server, owner, pyotp.TOTP(secret).now()) == 401
    # a stolen session cannot bind the attacker's own app: the old code and the password are needed
    thief = requests.Session()
    thief.cookies.update(browser.cookies)
    csrf, page = _csrf(live_server, thief, "/admin/totp")
    their_secret = page.split("<code>")[1].split("</code>")[0]
    response = thief.post(f"{live_server.url}/admin/totp", timeout=10, allow_redirects=False, data={
        "code": pyotp.TOTP(their_secret).now(), "password": PASSWORD, "csrf_token": csrf})
    assert response.status_code == 400
    response = thief.post(f"{live_server.url}/admin/totp", timeout=10, allow_redirects=False, data={
        "code": pyotp.TOTP(their_secret).now(), "csrf_token": csrf})
    assert response.status_code == 400
