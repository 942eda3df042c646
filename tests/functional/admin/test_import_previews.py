"""Console import previews live in the database: any instance commits them, they expire, they are their user's (issue 14, item 16)."""

from __future__ import annotations

import io

import pytest
from sqlalchemy import func, select

from tests.functional.admin.conftest import csrf_from
from verifier import context
from verifier.app import create_app
from verifier.storage.models import Badge, ImportPreview

EXPIRED = "预览已失效"


@pytest.fixture
def org(make_user, make_branch):
    make_branch("B01", "第一支部")
    make_user("sec1", "branch", "B01")
    make_user("boss", "committee")


def _csv(n=3):
    head = "holder,shop_name,shop_url,platform,branch,valid_days,hosts\n"
    return head + "".join(f"店主{i},店{i},https://p{i}.taobao.com,taobao,B01,365,\n" for i in range(n))


def _preview(console):
    page = console.get("/admin/import").get_data(as_text=True)
    response = console.post("/admin/import", data={"file": (io.BytesIO(_csv().encode()), "a.csv"),
                                                   "csrf_token": csrf_from(page)}, content_type="multipart/form-data")
    text = response.get_data(as_text=True)
    assert response.status_code == 200 and "所有行均通过检查" in text
    return text.split('name="token" value="')[1].split('"')[0], csrf_from(text)


def _commit(console, token, csrf):
    return console.post("/admin/import/commit", data={"token": token, "confirm": "yes", "csrf_token": csrf})


def _count(app, model):
    with app.app_context():
        return context.session().execute(select(func.count()).select_from(model)).scalar_one()


def test_preview_on_one_instance_commits_on_another(org, login, app, app_config, tmp_path):
    console = login("sec1")
    token, csrf = _preview(console)
    # A second instance behind the same load balancer: its own instance directory, the same
    # database and the deployment's shared secret key (the console cookie goes to either).
    other = create_app({**app_config, "INSTANCE_DIR": str(tmp_path / "other-instance"),
                        "SECRET_KEY": app.config["SECRET_KEY"]})
    try:
        other_console = other.test_client()
        for cookie in console._cookies.values():  # the browser's cookies, sent to the other instance
            other_console.set_cookie(cookie.key, cookie.value, domain=cookie.domain, path=cookie.path)
        done = _commit(other_console, token, csrf)
        assert done.status_code == 302, done.get_data(as_text=True)[:400]
    finally:
        other.extensions["liang.db"].dispose()
    assert _count(app, Badge) == 3
    assert _count(app, ImportPreview) == 0  # committed: the members' names are not kept


def test_expired_preview_is_refused_and_deleted(org, login, app, clock):
    console = login("sec1")
    token, csrf = _preview(console)
    clock.advance(hours=1, seconds=1)
    refused = _commit(console, token, csrf)
    assert refused.status_code == 400 and EXPIRED in refused.get_data(as_text=True)
    assert _count(app, Badge) == 0
    assert _count(app, ImportPreview) == 0


def test_a_new_preview_deletes_expired_ones(org, login, app, clock):
    console = login("sec1")
    _preview(console)
    clock.advance(hours=2)
    token, csrf = _preview(console)
    assert _count(app, ImportPreview) == 1
    assert _commit(console, token, csrf).status_code == 302
    assert _count(app, Badge) == 3


def test_a_preview_within_the_hour_commits(org, login, app, clock):
    console = login("sec1")
    token, csrf = _preview(console)
    clock.advance(minutes=59)
    assert _commit(console, token, csrf).status_code == 302
    assert _count(app, Badge) == 3


def test_another_users_preview_is_refused(org, login, app):
    token, _ = _preview(login("sec1"))
    boss = login("boss")
    page = boss.get("/admin/import").get_data(as_text=True)
    refused = _commit(boss, token, csrf_from(page))
    assert refused.status_code == 400 and EXPIRED in refused.get_data(as_text=True)
    assert _count(app, Badge) == 0
    assert _count(app, ImportPreview) == 1  # still sec1's to commit


def test_unknown_token_is_refused(org, login, app):
    console = login("sec1")
    page = console.get("/admin/import").get_data(as_text=True)
    for token in ("", "nope", "x" * 500, "' OR 1=1 --"):
        refused = _commit(console, token, csrf_from(page))
        assert refused.status_code == 400 and EXPIRED in refused.get_data(as_text=True)
