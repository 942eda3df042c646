"""What people see in the console and on the complaint pages: words, not codes; one word per state;
closing a complaint needs a public reply, a confirmation and says it saved; destructive actions ask
first; refusals stay inside the console, in words (issue 24 items 4, 6, 10)."""

from __future__ import annotations

import html
import re

import pytest

from tests.functional.admin.conftest import csrf_from
from verifier import context
from verifier.storage.models import ApiToken


@pytest.fixture
def filed(client, issue_badge, make_user, make_branch):
    make_branch("B01", "第一支部")
    make_user("boss", "committee")
    make_user("sec1", "branch", "B01")
    make_user("eye", "auditor")
    badge_id = issue_badge(branch="B01", shop_name="小明杂货")
    response = client.post(f"/api/v1/badges/{badge_id}/complaints",
                           json={"category": "refund", "description": "吹风机坏了，店家拒绝退货。"})
    assert response.status_code == 201
    return {"badge": badge_id, **response.get_json()}


def _post(console, page_url, url, data):
    token = csrf_from(console.get(page_url).get_data(as_text=True))
    return console.post(url, data={**data, "csrf_token": token})


def _text(page):
    return html.unescape(re.sub(r"<[^>]+>", " ", page))


# -- item 4: words, not codes --------------------------------------------------------------------
@pytest.mark.parametrize(("lang", "valid", "received", "moved"), [
    ("", "有效", "投诉已提交：待受理", "状态改为“处理中”"),
    ("?lang=en", "Valid", "Complaint filed: Received", 'Status changed to "In progress"'),
])
def test_complaint_page_names_the_badge_state_and_the_timeline_in_words(filed, login, lang, valid, received, moved):
    console = login("boss")
    number = filed["tracking_number"]
    page = f"/admin/complaints/{number}"
    assert _post(console, page, f"{page}/status", {"status": "in_progress", "reply": "正在核实"}).status_code == 303
    text = " ".join(_text(console.get(page + lang).get_data(as_text=True)).split())
    assert filed["badge"] in text and f"· {valid}" in text
    assert "(active)" not in text and filed["badge"].replace("-", "") not in text
    assert received in text and moved in text
    assert not re.search(r"\b(filed|state|reply|badge_suspended|purged|received|in_progress)\b\s*(→|·|$)", text), text


@pytest.mark.parametrize(("lang", "words"), [("", ("委员会管理员", "支部管理员", "审计员")),
                                               ("?lang=en", ("committee administrator", "branch administrator",
                                                             "auditor"))])
def test_users_page_names_roles_in_words(filed, login, lang, words):
    page = login("boss").get("/admin/users" + lang).get_data(as_text=True)
    cells = re.findall(r'<tr id="user-[^"]+"><td>[^<]*</td><td>([^<]*)</td>', page)
    assert sorted(cells) == sorted(words)


# -- item 6: closing a complaint -----------------------------------------------------------------
def test_resolving_in_the_console_needs_a_reply_and_a_confirmation_then_says_saved(filed, login, client):
    console = login("sec1")
    number = filed["tracking_number"]
    page = f"/admin/complaints/{number}"
    no_reply = _post(console, page, f"{page}/status", {"status": "resolved", "confirm": "yes"})
    assert no_reply.status_code == 400
    assert "办结或不予受理时须填写公开答复：投诉人会在跟踪页面看到它。" in no_reply.get_data(as_text=True)
    no_confirm = _post(console, page, f"{page}/status", {"status": "resolved", "reply": "已退款"})
    assert no_confirm.status_code == 400 and "请勾选确认框后再提交。" in no_confirm.get_data(as_text=True)
    assert re.search(r">\s*已退款</textarea>", no_confirm.get_data(as_text=True))  # what was typed is kept
    assert client.get(filed["tracking_url"]).get_data(as_text=True).count("已解决") == 0
    done = _post(console, page, f"{page}/status", {"status": "resolved", "reply": "已退款", "confirm": "yes"})
    assert done.status_code == 303
    shown = console.get(page).get_data(as_text=True)
    assert "已保存：投诉人在跟踪页面可以看到新的状态和答复。" in shown
    tracking = client.get(filed["tracking_url"]).get_data(as_text=True)
    assert "已解决" in tracking and "已退款" in tracking


def test_an_answer_without_closing_needs_no_confirmation(filed, login):
    console = login("sec1")
    page = f"/admin/complaints/{filed['tracking_number']}"
    assert _post(console, page, f"{page}/status", {"status": "in_progress", "reply": "正在核实"}).status_code == 303


@pytest.mark.parametrize("target", ["resolved", "rejected"])
def test_api_closing_without_a_reply_is_400_with_words(filed, client, make_token, target):
    token = make_token("sec1")
    response = client.post(f"/api/v1/admin/complaints/{filed['tracking_number']}/status", json={"status": target},
                           headers={"Authorization": f"Bearer {token}", "Accept-Language": "en"})
    assert response.status_code == 400
    error = response.get_json()["error"]
    assert error["field"] == "reply" and "public reply" in error["message"], error


def test_receipt_gives_the_tracking_link_as_a_link_and_one_word_per_state(filed, client, issue_badge):
    badge_id = filed["badge"]
    form = client.get(f"/v/{badge_id}/complain").get_data(as_text=True)
    filed_page = client.post(f"/v/{badge_id}/complain", data={
        "category": "quality", "description": "收到的商品是坏的。", "csrf_token": csrf_from(form)})
    assert filed_page.status_code == 303
    receipt_url = filed_page.headers["Location"]
    receipt = client.get(receipt_url).get_data(as_text=True)
    link = re.search(r'<a id="tracking-link" href="([^"]+)"[^>]*>([^<]+)</a>', receipt)
    assert link, receipt
    assert link.group(1) == link.group(2) and "/c/" in link.group(1) and "filed" not in link.group(1)
    assert 'class="button copy-link"' in receipt and "tracking-link.js" in receipt
    assert "本页链接" not in receipt
    text = _text(receipt)
    assert "待受理" in text and "投诉已提交：待受理" in text
    assert "已受理" not in text and "等待支部受理" not in text
    assert client.get(link.group(1)).status_code == 200


def test_console_and_tracking_page_use_the_same_word_for_received(filed, login, client):
    console = login("boss").get(f"/admin/complaints/{filed['tracking_number']}").get_data(as_text=True)
    queue = login("boss").get("/admin/complaints").get_data(as_text=True)
    tracking = client.get(filed["tracking_url"]).get_data(as_text=True)
    for page in (console, queue, tracking):
        assert "待受理" in page and "已受理" not in page and "等待支部受理" not in page


# -- item 10: ask first; refusals stay inside the console ----------------------------------------
def _live_tokens(app):
    with app.app_context():
        return [t for t in context.session().query(ApiToken).all() if t.revoked_at is None]


def test_revoking_one_api_token_asks_first(filed, login, make_token, app):
    make_token("boss")
    console = login("boss")
    page = console.get("/admin/tokens").get_data(as_text=True)
    token_id = page.split("/admin/tokens/")[1].split("/revoke")[0]
    assert 'name="confirm"' in page.split(f"/admin/tokens/{token_id}/revoke")[1].split("</form>")[0]
    refused = console.post(f"/admin/tokens/{token_id}/revoke", data={"csrf_token": csrf_from(page)})
    assert refused.status_code == 400
    body = refused.get_data(as_text=True)
    assert '<nav class="console"' in body and "请勾选确认框后再提交。" in body and "<h1>400</h1>" not in body
    assert len(_live_tokens(app)) == 1
    done = console.post(f"/admin/tokens/{token_id}/revoke", data={"csrf_token": csrf_from(page), "confirm": "yes"})
    assert done.status_code == 302 and _live_tokens(app) == []


def test_disabling_the_last_committee_account_is_refused_on_the_users_page(filed, login):
    console = login("boss")
    response = _post(console, "/admin/users", "/admin/users", {"username": "boss", "op": "disable", "confirm": "yes"})
    assert response.status_code == 409
    body = response.get_data(as_text=True)
    assert '<nav class="console"' in body and 'id="user-boss"' in body
    assert "这是最后一个启用的党委账户：请先启用或新建另一个党委账户。" in body
    assert "<h1>409</h1>" not in body
    assert console.get("/admin/").status_code == 200  # still signed in: nothing changed


def test_any_refusal_in_the_console_is_a_console_page_in_words(filed, login):
    response = login("sec1").get("/admin/badges?page=0&lang=en")
    assert response.status_code == 400
    body = response.get_data(as_text=True)
    assert '<nav class="console"' in body and "<h1>Cannot do that</h1>" in body and "<h1>400</h1>" not in body
