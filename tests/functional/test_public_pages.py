"""Shopper pages: an oversized complaint photo keeps the complaint; verify by photo names the shop."""

from __future__ import annotations

import io
import re

from tests.functional.complaints_support import csrf_token
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
