"""Shopper pages: an oversized complaint photo keeps the complaint; verify by photo names the shop."""

from __future__ import annotations

import io
import re

from tests.functional.complaints_support import csrf_token, login, make_admin  # noqa: F401 - make_admin: fixture
from tests.visible import visible_text


def test_photo_over_5_mb_gives_the_form_back_filled(client, issue_badge):
    badge_id = issue_badge()
    big = io.BytesIO(b"\xff\xd8\xff" + b"\0" * (5 * 1024 * 1024 + 10))
    response = client.post(f"/v/{badge_id}/complain", content_type="multipart/form-data", data={
        "csrf_token": csrf_token(client, badge_id), "category": "counterfeit", "order_number": "TB-77",
        "description": "假货，和图片完全不一样。", "contact": "13900000000", "evidence": (big, "photo.jpg")})
    assert response.status_code == 413
    html = response.get_data(as_text=True)
    text, _attrs = visible_text(html)
    assert "不能超过 5 MB" in text and "您填写的内容已保留" in text
    assert ">假货，和图片完全不一样。</textarea>" in html
    assert 'value="TB-77"' in html and 'value="13900000000"' in html
    assert re.search(r'<option value="counterfeit"\s+selected', html)
    assert 'name="evidence"' in html and 'aria-invalid="true"' in html


def test_complaint_body_over_the_app_limit_is_still_read(client, issue_badge):
    """Three phone photos exceed the app's 16 MB request limit; the form still comes back filled."""
    badge_id = issue_badge()
    photos = [(io.BytesIO(b"\xff\xd8\xff" + b"\0" * (6 * 1024 * 1024)), f"p{i}.jpg") for i in range(3)]
    response = client.post(f"/v/{badge_id}/complain", content_type="multipart/form-data", data={
        "csrf_token": csrf_token(client, badge_id), "category": "quality", "description": "三张大照片",
        "evidence": photos})
    assert response.status_code == 413
    assert ">三张大照片</textarea>" in response.get_data(as_text=True)


def test_other_endpoints_keep_the_app_request_limit(client, app):
    response = client.post("/api/v1/verify", data=b"x" * (17 * 1024 * 1024), content_type="application/json")
    assert response.status_code == 413


def test_photo_result_shows_the_bound_hosts_and_asks_about_the_shop(client, issue_badge):
    badge_id = issue_badge(shop_name="真店", shop_url="https://real.example.com/", platform="independent",
                           hosts=("real.example.com",))
    image = client.get(f"/v/{badge_id}/badge.png").data
    page = client.get("/verify").get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert token
    response = client.post("/verify", content_type="multipart/form-data",
                           data={"csrf_token": token.group(1), "file": (io.BytesIO(image), "shot.png")})
    text, _attrs = visible_text(response.get_data(as_text=True))
    assert "real.example.com" in text and "https://real.example.com/" in text
    assert "您截图或拍照的是这家店吗" in text
    assert "投诉这家店" in text



def test_photo_result_shows_a_homograph_shop_url_in_punycode(client, issue_badge):
    badge_id = issue_badge(shop_name="假苹果", shop_url="https://аррӏе.com/", platform="independent")
    image = client.get(f"/v/{badge_id}/badge.png").data
    page = client.get("/verify").get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert token
    response = client.post("/verify", content_type="multipart/form-data",
                           data={"csrf_token": token.group(1), "file": (io.BytesIO(image), "shot.png")})
    text, _attrs = visible_text(response.get_data(as_text=True))
    assert "https://xn--80ak6aa92e.com/" in text and "аррӏе" not in text

# -- the shop owner's kit ---------------------------------------------------------------------------
def test_revoked_badge_kit_says_so(client, issue_badge, act):
    badge_id = issue_badge()
    assert 'id="kit-state"' not in client.get(f"/v/{badge_id}/kit").get_data(as_text=True)
    act("revoke", badge_id, reason="shop_closed")
    text, _attrs = visible_text(client.get(f"/v/{badge_id}/kit").get_data(as_text=True))
    assert "这枚徽章已撤销" in text and "撤下" in text


def test_printed_card_carries_the_full_verify_url(client, issue_badge):
    badge_id = issue_badge()
    html = client.get(f"/v/{badge_id}/kit?lang=en").get_data(as_text=True)
    assert f'<p class="pc-url">http://127.0.0.1:8000/v/{badge_id}</p>' in html


def test_a4_sheet_holds_four_parcel_cards(client, issue_badge):
    badge_id = issue_badge(shop_name="四张卡片店")
    kit = client.get(f"/v/{badge_id}/kit").get_data(as_text=True)
    assert f'href="http://127.0.0.1:8000/v/{badge_id}/kit/cards"' in kit
    response = client.get(f"/v/{badge_id}/kit/cards")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert html.count('class="parcel-card"') == 4 and html.count("四张卡片店") >= 4
    assert "kit-sheet.css" in html


def test_kit_image_snippet_scales_on_a_phone(client, issue_badge):
    badge_id = issue_badge()
    html = client.get(f"/v/{badge_id}/kit").get_data(as_text=True)
    assert "style=&#34;max-width:100%;height:auto&#34;" in html or 'style=&quot;max-width:100%;height:auto' in html


def test_console_badge_page_links_to_the_kit(app, client, issue_badge, make_admin):  # noqa: F811
    badge_id = issue_badge()
    admin = make_admin("chair", role="committee")
    login(client, admin)
    html = client.get(f"/admin/badges/{badge_id}").get_data(as_text=True)
    assert f'id="kit-link" href="http://127.0.0.1:8000/v/{badge_id}/kit"' in html
