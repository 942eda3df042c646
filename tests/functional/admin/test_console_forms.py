"""Console forms: a refused value comes back beside its field, in the user's language, the form kept."""

from __future__ import annotations

import html
import re

import pytest
from sqlalchemy import func, select

from tests.functional.admin.conftest import csrf_from
from verifier import context
from verifier.storage.models import AuditEvent, Badge, Member

NAV = 'href="/admin/badges"'  # the console's navigation is still there
FORM = {"holder": "赵六", "shop_name": "赵六杂货", "shop_url": "https://zl.taobao.com", "platform": "taobao",
        "branch": "B01", "confirm": "yes"}


@pytest.fixture
def org(make_user, make_branch):
    make_branch("B01", "第一支部")
    make_user("sec1", "branch", "B01")
    make_user("boss", "committee")


def _post(console, url, data, *, lang=""):
    token = csrf_from(console.get(url).get_data(as_text=True))
    return console.post(url + lang, data={**data, "csrf_token": token})


def _counts(app):
    with app.app_context():
        s = context.session()
        return tuple(s.execute(select(func.count()).select_from(m)).scalar_one() for m in (Badge, Member, AuditEvent))


def _error_beside(page, field):
    """Return the error text rendered right after the field's control, which points at it."""
    match = re.search(rf'<(?:input|textarea|select)\b([^>]*\bid="{field}"[^>]*)>(?:\s*[^<]*</textarea>|(?:<option[^>]*>[^<]*</option>)*</select>)?'
                      rf'<span class="errors field-error" id="{field}-error" role="alert">([^<]*)</span>', page)
    assert match, f"no error beside {field}"
    assert f'aria-describedby="{field}-error"' in match.group(1) and 'aria-invalid="true"' in match.group(1)
    return html.unescape(match.group(2))


def _value(page, field):
    match = re.search(rf'<input\b[^>]*\bid="{field}"[^>]*>', page)
    assert match, f"no input {field}"
    value = re.search(r'\bvalue="([^"]*)"', match.group(0))
    return html.unescape(value.group(1)) if value else ""


def _selected(page, value):
    return re.search(rf'<option\b(?=[^>]*\bselected\b)[^>]*\bvalue="{value}"', page) is not None


@pytest.mark.parametrize(("field", "value", "zh", "en"), [
    ("holder", "", "请填写经营者姓名。", "Please fill in: Holder's name."),
    ("holder", "王" * 201, "经营者姓名不能超过 200 个字符。", "Holder's name must be at most 200 characters."),
    ("shop_name", "店" * 201, "店铺名称不能超过 200 个字符。", "Shop name must be at most 200 characters."),
    ("shop_url", "https://zl.taobao.com/" + "a" * 1979, "店铺网址不能超过 2000 个字符。",
     "Shop address must be at most 2000 characters."),
    ("shop_url", "ftp://zl.taobao.com", "店铺网址须为带域名的 http:// 或 https:// 网址。",
     "The shop URL must be an http:// or https:// address with a host name."),
    ("hosts", " ".join(f"h{i}.zl.taobao.com" for i in range(11)), "最多绑定 10 个域名。",
     "At most 10 hosts can be bound."),
    ("hosts", "www.jd.com", "绑定域名须为店铺网址的域名或其子域名；确需绑定其他域名，请勾选下面的确认框。",
     "Bound hosts must be the shop URL's host or its subdomains; to bind another host, tick the confirmation box below."),
    ("shop_url", "http://127.0.0.1:8080/shop", "“127.0.0.1”不是公网域名（本机名、IP 地址或单独的顶级域名）；确需绑定，请勾选下面的确认框。",
     "“127.0.0.1” is not a public host name (a local name, an IP address or a bare top-level domain). "
     "To bind it anyway, tick the confirmation box below."),
    ("member_ref", "N" * 65, "党员编号不能超过 64 个字符。", "Member number must be at most 64 characters."),
    ("valid_days", "9999", "有效天数须为 1 到 3650 之间的整数。", "Days valid must be a whole number from 1 to 3650."),
])
def test_new_badge_refusal_keeps_form_and_speaks_the_users_language(org, login, app, field, value, zh, en):
    console = login("sec1")
    before = _counts(app)
    data = {**FORM, "shop_name": "赵六的“好”店 <b>", field: value}
    response = _post(console, "/admin/badges/new", data)
    page = response.get_data(as_text=True)
    assert response.status_code == 400
    assert NAV in page
    assert _error_beside(page, field) == zh
    assert "is required" not in page and "longer than" not in page
    for kept in ("holder", "shop_name", "shop_url", "hosts", "member_ref", "valid_days"):
        assert _value(page, kept) == data.get(kept, "")
    assert _selected(page, "taobao") and _selected(page, "B01")
    english = _post(console, "/admin/badges/new", data, lang="?lang=en")
    assert english.status_code == 400
    assert _error_beside(english.get_data(as_text=True), field) == en
    assert _counts(app) == before


def test_new_badge_accept_language_english(org, login):
    console = login("sec1")
    token = csrf_from(console.get("/admin/badges/new").get_data(as_text=True))
    response = console.post("/admin/badges/new", data={**FORM, "holder": "", "csrf_token": token},
                            headers={"Accept-Language": "en"})
    assert response.status_code == 400
    assert _error_beside(response.get_data(as_text=True), "holder") == "Please fill in: Holder's name."


def test_new_badge_second_badge_for_a_shop_is_409_beside_the_url(org, login, app):
    console = login("sec1")
    assert _post(console, "/admin/badges/new", FORM).status_code == 302
    before = _counts(app)
    again = _post(console, "/admin/badges/new", {**FORM, "member": "new"})
    page = again.get_data(as_text=True)
    assert again.status_code == 409
    assert NAV in page
    assert "这家店铺已有徽章，请为原徽章续期。" in page
    assert _value(page, "shop_url") == FORM["shop_url"]
    assert _counts(app) == before


def test_new_badge_form_limits_come_from_the_service(org, login):
    page = login("sec1").get("/admin/badges/new").get_data(as_text=True)
    for field, limit in (("holder", 200), ("shop_name", 200), ("shop_url", 2000), ("member_ref", 64)):
        assert re.search(rf'id="{field}" [^>]*maxlength="{limit}"', page), field


def test_action_note_too_long_keeps_note_beside_field(org, login, client, issue_badge, app):
    badge_id = issue_badge(branch="B01")
    console = login("sec1")
    before = _counts(app)
    url = f"/admin/badges/{badge_id}/act/suspend"
    note = "查" * 2001
    response = _post(console, url, {"note": note, "confirm": "yes"})
    page = response.get_data(as_text=True)
    assert response.status_code == 400
    assert NAV in page
    assert _error_beside(page, "note") == "内部备注不能超过 2000 个字符。"
    assert re.search(rf">\s*{note}</textarea>", page)  # a leading newline is dropped by the browser
    english = _post(console, url, {"note": note, "confirm": "yes"}, lang="?lang=en")
    assert _error_beside(english.get_data(as_text=True), "note") == "Internal note must be at most 2000 characters."
    assert client.get(f"/api/v1/badges/{badge_id}").get_json()["status"] == "valid"
    assert _counts(app) == before


def test_action_bad_reason_is_400_beside_reason(org, login, client, issue_badge):
    badge_id = issue_badge(branch="B01")
    console = login("sec1")
    response = _post(console, f"/admin/badges/{badge_id}/act/revoke", {"reason": "whim", "note": "备注", "confirm": "yes"})
    page = response.get_data(as_text=True)
    assert response.status_code == 400
    assert _error_beside(page, "reason") == "请选择撤销原因：原因将公开显示在核验页面上，且不能更改。" and re.search(r">\s*备注</textarea>", page)
    assert client.get(f"/api/v1/badges/{badge_id}").get_json()["status"] == "valid"


def test_illegal_transition_redirects_with_a_flash(org, login, client, issue_badge, app):
    badge_id = issue_badge(branch="B01")
    console = login("sec1")
    url = f"/admin/badges/{badge_id}/act/reinstate"  # a valid badge cannot be reinstated
    before = _counts(app)
    response = _post(console, url, {"confirm": "yes"})
    assert response.status_code == 303
    assert response.headers["Location"].endswith(f"/admin/badges/{badge_id}")
    page = console.get(response.headers["Location"]).get_data(as_text=True)
    assert "这枚徽章当前为“生效中”，不能恢复。" in html.unescape(page)
    assert NAV in page
    assert "cannot reinstate" not in page
    assert _counts(app) == before
    english = _post(console, url + "?lang=en", {"confirm": "yes"})
    page = console.get(english.headers["Location"] + "?lang=en").get_data(as_text=True)
    assert 'This badge is now "Active": it cannot be changed by "Reinstate".' in html.unescape(page)


def test_api_illegal_transition_is_still_409(org, make_token, client, issue_badge):
    badge_id = issue_badge(branch="B01")
    token = make_token("boss")
    response = client.post(f"/api/v1/admin/badges/{badge_id}/reinstate", json={},
                           headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 409
    assert response.get_json()["error"]["code"] == "illegal_transition"
