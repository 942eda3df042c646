"""The public front door: home page, look-up by number, the unknown-badge warning, favicon, robots."""

from __future__ import annotations

import io
import re
import urllib.robotparser

import pytest
from PIL import Image

from tests.visible import visible_text


@pytest.fixture
def app_config(app_config):
    return {**app_config, "COMMITTEE_PHONE": "0579-8512 3456", "COMMITTEE_EMAIL": "jubao@example.org"}


def test_home_page_offers_every_way_to_check_and_to_apply(client, app):
    response = client.get("/")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    text, _attrs = visible_text(html)
    assert "党员网商亮身份" in text and "按徽章编号核验" in text and "拍照核验" in text
    assert 'action="/lookup"' in html and 'name="id"' in html
    assert 'href="/verify"' in html and 'href="/apply"' in html
    assert "0579-8512 3456" in text and 'href="tel:0579-85123456"' in html
    assert 'href="mailto:jubao@example.org"' in html
    assert 'href="https://www.12315.cn/"' in html


def test_home_page_keeps_the_chosen_language_in_its_links(client, app):
    html = client.get("/?lang=en").get_data(as_text=True)
    assert 'href="/verify?lang=en"' in html and 'href="/apply?lang=en"' in html
    assert 'name="lang" value="en"' in html  # the look-up form carries it too


@pytest.mark.parametrize("typed", ["7k3m 9qx2 ht4b", "7K3M-9QX2-HT4B", "7K3M9QX2HT4B"])
def test_lookup_sends_any_spelling_to_the_verify_page(client, app, typed):
    response = client.get("/lookup", query_string={"id": typed})
    assert response.status_code == 303
    assert response.headers["Location"] == "/v/7K3M-9QX2-HT4B"


def test_lookup_keeps_the_language(client, app):
    response = client.get("/lookup", query_string={"id": "7K3M9QX2HT4B", "lang": "zh-Hant"})
    assert response.headers["Location"] == "/v/7K3M-9QX2-HT4B?lang=zh-Hant"


@pytest.mark.parametrize(("typed", "message"), [("", "请输入徽章编号"), ("XX-12", "徽章编号格式不正确")])
def test_lookup_refuses_a_bad_number_with_the_form_kept(client, app, typed, message):
    response = client.get("/lookup", query_string={"id": typed})
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert message in visible_text(html)[0]
    assert f'value="{typed}"' in html and 'aria-invalid="true"' in html


def test_unknown_badge_says_it_may_be_counterfeit(client, app):
    response = client.get("/v/7K3M-9QX2-HT4B")
    assert response.status_code == 404
    html = response.get_data(as_text=True)
    text, _attrs = visible_text(html)
    assert "没有这枚徽章" in text and "从未签发编号为 7K3M-9QX2-HT4B 的徽章" in text and "伪造" in text
    assert 'href="https://www.12315.cn/"' in html
    assert "mailto:jubao@example.org?subject=" in html  # a way to report, with the number in it
    assert response.headers["Cache-Control"].startswith("no-cache")


def test_malformed_badge_number_on_the_verify_page_warns_too(client, app):
    response = client.get("/v/NOT-A-BADGE")
    assert response.status_code == 400
    text, _attrs = visible_text(response.get_data(as_text=True))
    assert "没有这枚徽章" in text and "格式也不对" in text


def test_pending_badge_is_unknown_to_the_public(client, app, issue_badge):
    from signer.lifecycle import State
    from verifier import context
    from verifier.badges.rules import IssueRequest

    issue_badge()  # makes the branch
    with app.app_context():
        context.begin_write()
        badge = context.badge_service().issue(IssueRequest("王五", "五金店", "https://wu.taobao.com", "taobao",
                                                           "B01"), actor=context.public_actor(),
                                              state=State.PENDING)
        context.session().commit()
        from signer.ids import format_badge_id

        shown = format_badge_id(badge.id)
    response = client.get(f"/v/{shown}")
    assert response.status_code == 404 and "没有这枚徽章" in response.get_data(as_text=True)


def test_unknown_badge_in_the_json_api_stays_the_contract_error(client, app):
    response = client.get("/v/7K3M-9QX2-HT4B", headers={"Accept": "application/json"})
    assert response.status_code == 404
    assert response.get_json()["error"]["code"] == "not_found"


def test_complaint_form_of_an_unknown_badge_warns_too(client, app):
    response = client.get("/v/7K3M-9QX2-HT4B/complain")
    assert response.status_code == 404 and "没有这枚徽章" in response.get_data(as_text=True)


def test_error_pages_lead_home_to_a_page_that_exists(client, app):
    html = client.get("/no/such/page").get_data(as_text=True)
    assert 'href="/"' in html
    assert client.get("/").status_code == 200


def test_favicon_is_an_icon(client, app):
    response = client.get("/favicon.ico")
    assert response.status_code == 200
    assert response.mimetype == "image/vnd.microsoft.icon"
    image = Image.open(io.BytesIO(response.data))
    assert image.format == "ICO" and (32, 32) in image.info["sizes"]


def test_robots_keep_private_links_out_of_indexes(client, app):
    response = client.get("/robots.txt")
    assert response.status_code == 200 and response.mimetype == "text/plain"
    parser = urllib.robotparser.RobotFileParser()
    parser.parse(response.get_data(as_text=True).splitlines())
    assert parser.can_fetch("*", "http://x/") and parser.can_fetch("*", "http://x/v/7K3M-9QX2-HT4B")
    for private in ("/admin/", "/c/abc", "/apply/status/abc", "/api/v1/admin/badges"):
        assert not parser.can_fetch("*", f"http://x{private}"), private


def test_verify_page_complaint_link_keeps_the_chosen_language(client, issue_badge):
    badge_id = issue_badge()
    html = client.get(f"/v/{badge_id}?lang=en").get_data(as_text=True)
    assert re.search(rf'href="http://127.0.0.1:8000/v/{badge_id}/complain\?lang=en"', html)
    # The same record rendered for Accept-Language English first must not hand out the other link.
    client.get(f"/v/{badge_id}", headers={"Accept-Language": "en"})
    html = client.get(f"/v/{badge_id}?lang=en").get_data(as_text=True)
    assert f"/v/{badge_id}/complain?lang=en" in html
    plain = client.get(f"/v/{badge_id}", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert f"/v/{badge_id}/complain?lang" not in plain


def test_complaint_form_posts_and_lands_in_the_chosen_language(client, issue_badge):
    from tests.functional.complaints_support import csrf_token

    badge_id = issue_badge()
    html = client.get(f"/v/{badge_id}/complain?lang=zh-Hant").get_data(as_text=True)
    assert f'action="/v/{badge_id}/complain?lang=zh-Hant"' in html
    response = client.post(f"/v/{badge_id}/complain?lang=zh-Hant", data={
        "csrf_token": csrf_token(client, badge_id), "category": "quality", "description": "吹风机坏了"})
    assert response.status_code == 303
    assert response.headers["Location"].endswith("?filed=1&lang=zh-Hant")
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "投訴已提交" in page
