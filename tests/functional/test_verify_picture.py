"""Verify by picture: POST /api/v1/verify (multipart) and the /verify page."""

from __future__ import annotations

import io
import random
import re
import time

import pytest
import qrcode
import qrcode.constants
from PIL import Image, ImageDraw, ImageFilter

PUBLIC = "http://127.0.0.1:8000"


def _encode(image: Image.Image, fmt: str, **params: object) -> bytes:
    out = io.BytesIO()
    image.save(out, format=fmt, **params)
    return out.getvalue()


def _busy_scene(size: tuple[int, int] = (1600, 1200), seed: int = 3) -> Image.Image:
    rng = random.Random(seed)
    scene = Image.new("RGB", size, (rng.randrange(256), rng.randrange(256), rng.randrange(256)))
    draw = ImageDraw.Draw(scene)
    for _ in range(300):
        x0, y0 = rng.randrange(size[0]), rng.randrange(size[1])
        x1, y1 = x0 + rng.randrange(10, 250), y0 + rng.randrange(10, 250)
        colour = (rng.randrange(256), rng.randrange(256), rng.randrange(256))
        if rng.random() < 0.5:
            draw.rectangle((x0, y0, x1, y1), fill=colour)
        else:
            draw.ellipse((x0, y0, x1, y1), fill=colour)
    return Image.blend(scene, Image.effect_noise(size, 40).convert("RGB"), 0.25)


def photo_of(qr_png: bytes, *, angle: float = 17, blur: float = 1.0) -> bytes:
    """Return a photo-like JPEG (quality 70) of a QR code: rotated, blurred, inside a busy scene."""
    code = Image.open(io.BytesIO(qr_png)).convert("RGBA").convert("RGB")  # badge.png is a palette PNG with alpha
    code = code.rotate(angle, resample=Image.Resampling.BICUBIC, expand=True, fillcolor=(255, 255, 255))
    code = code.filter(ImageFilter.GaussianBlur(blur))
    scene = _busy_scene()
    scene.paste(code, (480, 300))
    return _encode(scene, "JPEG", quality=70)


def foreign_qr_png(text: str) -> bytes:
    code = qrcode.QRCode(error_correction=qrcode.constants.ERROR_CORRECT_M, box_size=8, border=4)
    code.add_data(text)
    code.make(fit=True)
    return _encode(code.make_image().get_image().convert("RGB"), "PNG")


def post_file(client, data: bytes, filename: str = "photo.jpg", content_type: str = "image/jpeg"):
    return client.post("/api/v1/verify", data={"file": (io.BytesIO(data), filename, content_type)},
                       content_type="multipart/form-data")


# -- JSON API ---------------------------------------------------------------------------------------
def test_photo_of_qr_verifies_to_the_right_badge(client, issue_badge):
    issue_badge(shop_name="别的店")
    badge_id = issue_badge(shop_name="小明杂货")
    issue_badge(shop_name="第三家")
    photo = photo_of(client.get(f"/v/{badge_id}/qr.png").data)
    response = post_file(client, photo)
    assert response.status_code == 200
    body = response.get_json()
    assert body["verified"] is True
    assert body["status"] == "valid"
    assert body["badge"]["id"] == badge_id
    assert body["badge"]["shop"]["name"] == "小明杂货"
    assert response.headers["Cache-Control"] == "no-store"


def test_photo_of_badge_image_verifies(client, issue_badge):
    badge_id = issue_badge()
    badge_png = client.get(f"/v/{badge_id}/badge.png?size=l").data
    # re-encoding as JPEG drops the baked credential: only the QR code can answer
    photo = photo_of(badge_png, angle=8, blur=0.8)
    body = post_file(client, photo).get_json()
    assert body["verified"] is True
    assert body["badge"]["id"] == badge_id


def test_photo_of_revoked_badge_is_not_verified(client, issue_badge, act):
    badge_id = issue_badge()
    photo = photo_of(client.get(f"/v/{badge_id}/qr.png").data)
    act("revoke", badge_id, reason="misconduct")
    body = post_file(client, photo).get_json()
    assert body["verified"] is False
    assert body["status"] == "revoked"
    assert body["badge"]["revocation"]["reason"] == "misconduct"


@pytest.mark.parametrize("url", [
    "https://evil.example.com/v/{id}",
    "http://127.0.0.1:8001/v/{id}",
    "https://127.0.0.1:8000/v/{id}",
    "http://127.0.0.1:8000.evil.example/v/{id}",
    "http://127.0.0.1:8000@evil.example/v/{id}",
])
def test_qr_to_another_origin_is_not_official(client, issue_badge, url):
    badge_id = issue_badge()
    target = url.format(id=badge_id)
    body = post_file(client, photo_of(foreign_qr_png(target))).get_json()
    assert body["verified"] is False
    assert body["reason"] == "not_official"
    assert body["badge"] is None
    assert body["found"] == [target]
    assert body["official_origin"] == PUBLIC


def test_baked_png_verifies_its_credential(client, issue_badge):
    badge_id = issue_badge()
    data = client.get(f"/v/{badge_id}/badge.png?size=s").data
    body = post_file(client, data, "badge.png", "image/png").get_json()
    assert body["verified"] is True
    assert body["current_credential"] is True
    assert body["badge"]["id"] == badge_id


def test_baked_svg_verifies_its_credential(client, issue_badge):
    badge_id = issue_badge()
    data = client.get(f"/v/{badge_id}/badge.svg").data
    body = post_file(client, data, "badge.svg", "image/svg+xml").get_json()
    assert body["verified"] is True
    assert body["current_credential"] is True
    assert body["badge"]["id"] == badge_id


def test_baked_png_with_tampered_credential_is_refused(client, issue_badge):
    from signer.baking import bake_png, extract_png

    badge_id = issue_badge()
    data = client.get(f"/v/{badge_id}/badge.png?size=s").data
    head, payload, signature = extract_png(data).split(".")
    forged = bake_png(data, f"{head}.{payload}.{signature[:-4]}AAAA")
    body = post_file(client, forged, "badge.png", "image/png").get_json()
    assert body["verified"] is False
    assert body["reason"] == "bad_signature"


def test_picture_without_qr_says_so(client, app):
    body = post_file(client, _encode(_busy_scene((400, 300)), "JPEG", quality=70)).get_json()
    assert body["verified"] is False
    assert body["reason"] == "no_credential"


def _bomb_png() -> bytes:
    # 100 megapixels of one colour compress to a few kilobytes
    return _encode(Image.new("1", (10_000, 10_000), 1), "PNG", optimize=True)


def _svg_with_entities() -> bytes:
    return (b'<?xml version="1.0"?><!DOCTYPE svg [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;">]>'
            b'<svg xmlns="http://www.w3.org/2000/svg"><text>&b;&b;&b;</text></svg>')


@pytest.mark.parametrize(("make", "status", "reason"), [
    (lambda: b"%PDF-1.7 not an image at all", 400, "not_an_image"),
    (lambda: b"", 400, "not_an_image"),
    (lambda: _encode(Image.new("RGB", (400, 400), "red"), "JPEG")[:600], 400, "truncated"),
    (lambda: _encode(Image.new("RGB", (400, 400), "red"), "PNG")[:120], 400, "truncated"),
    (_bomb_png, 400, "bomb"),
    (_svg_with_entities, 400, "unsafe_xml"),
])
def test_bad_uploads_are_clear_4xx(client, app, make, status, reason):
    response = post_file(client, make(), "x.bin", "application/octet-stream")
    assert response.status_code == status
    error = response.get_json()["error"]
    assert error["reason"] == reason


def test_13_mb_upload_is_413(client, app):
    response = post_file(client, b"\xff\xd8\xff" + b"\0" * (13 * 1024 * 1024))
    assert response.status_code == 413
    assert response.get_json()["error"]["code"] == "too_large"


def test_multipart_without_file_is_400(client, app):
    response = client.post("/api/v1/verify", data={"other": "x"}, content_type="multipart/form-data")
    assert response.status_code == 400
    assert response.get_json()["error"]["code"] == "invalid_request"


def test_api_verify_needs_no_csrf_token(app, issue_badge):
    app.config["WTF_CSRF_ENABLED"] = True
    client = app.test_client()
    badge_id = issue_badge()
    data = client.get(f"/v/{badge_id}/badge.svg").data
    assert post_file(client, data, "badge.svg", "image/svg+xml").status_code == 200


# -- HTML page ----------------------------------------------------------------------------------------
def _csrf(client) -> str:
    page = client.get("/verify").get_data(as_text=True)
    return re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)


def post_page(client, data: bytes, *, token: str | None, filename: str = "photo.jpg"):
    form = {"file": (io.BytesIO(data), filename, "image/jpeg")}
    if token is not None:
        form["csrf_token"] = token
    return client.post("/verify", data=form, content_type="multipart/form-data")


def test_verify_page_has_upload_and_camera_inputs(client, app):
    response = client.get("/verify")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert page.count('enctype="multipart/form-data"') == 2
    assert re.search(r'<input[^>]*type="file"[^>]*accept="image/\*"[^>]*capture="environment"', page)
    assert page.count('name="csrf_token"') == 2
    assert "verify-upload.js" in page


def test_verify_page_post_requires_csrf(client, issue_badge):
    badge_id = issue_badge()
    response = post_page(client, client.get(f"/v/{badge_id}/qr.png").data, token=None)
    assert response.status_code == 400
    assert "表单已过期" in response.get_data(as_text=True)


def test_verify_page_shows_the_badge_from_a_photo(client, issue_badge):
    badge_id = issue_badge(shop_name="小明杂货")
    response = post_page(client, photo_of(client.get(f"/v/{badge_id}/qr.png").data), token=_csrf(client))
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert "status-valid" in page
    assert "小明杂货" in page
    assert f"{PUBLIC}/v/{badge_id}" in page


def test_verify_page_warns_about_foreign_qr(client, app):
    target = "https://evil.example.com/v/<b>7K3M</b>"
    response = post_page(client, photo_of(foreign_qr_png(target)), token=_csrf(client))
    page = response.get_data(as_text=True)
    assert 'data-reason="not_official"' in page
    assert "不是官方核验链接" in page
    assert "<b>7K3M</b>" not in page
    assert "&lt;b&gt;7K3M&lt;/b&gt;" in page
    assert "status-valid" not in page


@pytest.mark.parametrize(("make", "status", "words"), [
    (lambda: b"%PDF-1.7", 400, "这不是图片文件"),
    (lambda: _encode(Image.new("RGB", (400, 400), "red"), "JPEG")[:600], 400, "图片文件不完整"),
    (_svg_with_entities, 400, "SVG 文件含有不允许的内容"),
    (lambda: b"\xff\xd8\xff" + b"\0" * (13 * 1024 * 1024), 413, "不超过 12 MB"),
])
def test_verify_page_explains_bad_uploads(client, app, make, status, words):
    response = post_page(client, make(), token=_csrf(client))
    assert response.status_code == status
    assert words in response.get_data(as_text=True)


def test_picture_uploads_are_rate_limited_on_their_own_budget(app, app_config):
    from verifier.app import create_app

    limited = create_app({**app_config, "RATELIMIT_ENABLED": True, "VERIFY_UPLOAD_RATE_LIMIT": "2 per minute"})
    try:
        client = limited.test_client()
        token = _csrf(client)
        statuses = [post_page(client, b"%PDF-1.7", token=token).status_code for _ in range(3)]
        assert statuses == [400, 400, 429]
        assert client.get("/verify").status_code == 200  # reading the form is not limited
    finally:
        limited.extensions["liang.db"].dispose()


# -- issue 14 item 11: a picture holding one badge's QR code and another badge's credential ---------------
def _spliced(client, shown_id: str, baked_id: str) -> bytes:
    """A PNG showing ``shown_id``'s QR code with ``baked_id``'s genuine credential baked in."""
    from signer.baking import bake_png

    credential = client.get(f"/v/{baked_id}/credential.jws").get_data(as_text=True).strip()
    qr = client.get(f"/v/{shown_id}/qr.png").data
    return bake_png(qr, credential)


def test_picture_with_a_qr_code_and_another_badges_credential_is_a_mismatch(client, issue_badge, act):
    genuine, revoked = issue_badge(shop_name="正规小店"), issue_badge(shop_name="已撤销的店")
    act("revoke", revoked, reason="misconduct")
    body = post_file(client, _spliced(client, revoked, genuine), "badge.png", "image/png").get_json()
    assert body["verified"] is False
    assert body["reason"] == "mismatch" and "不属于同一枚徽章" in body["message"]
    assert body["source"] == "credential+qr_code"
    assert body["credential_badge"] == genuine and body["qr_badges"] == [revoked]
    assert body["badge"] is None


def test_verify_page_refuses_a_spliced_picture(client, issue_badge, act):
    genuine, revoked = issue_badge(shop_name="正规小店"), issue_badge(shop_name="已撤销的店")
    act("revoke", revoked, reason="misconduct")
    response = post_page(client, _spliced(client, revoked, genuine), token=_csrf(client), filename="badge.png")
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert 'data-reason="mismatch"' in page and "status-valid" not in page and "正规小店" not in page


def test_picture_whose_qr_code_and_credential_agree_says_both_were_used(client, issue_badge):
    badge_id = issue_badge()
    body = post_file(client, _spliced(client, badge_id, badge_id), "badge.png", "image/png").get_json()
    assert body["verified"] is True and body["badge"]["id"] == badge_id
    assert body["source"] == "credential+qr_code"
    photo = post_file(client, photo_of(client.get(f"/v/{badge_id}/qr.png").data)).get_json()
    assert photo["source"] == "qr_code"


# -- issue 14 item 9: expensive uploads -------------------------------------------------------------------
def _huge_png_with_qr(client, badge_id: str, side: int = 6300) -> bytes:
    """The attack picture: ~100 KB of PNG that is 6300×6300 px once decoded (a QR code in a white field)."""
    canvas = Image.new("L", (side, side), 255)
    canvas.paste(Image.open(io.BytesIO(client.get(f"/v/{badge_id}/qr.png").data)).convert("L"), (100, 100))
    return _encode(canvas, "PNG", optimize=True)


def test_a_huge_lossless_picture_is_refused_before_decoding(client, issue_badge):
    badge_id = issue_badge()
    data = _huge_png_with_qr(client, badge_id)
    assert len(data) < 300 * 1024
    started = time.process_time()
    response = post_file(client, data, "big.png", "image/png")
    assert response.status_code == 400 and response.get_json()["error"]["reason"] == "bomb"
    assert time.process_time() - started < 1.0


def test_a_big_jpeg_photo_is_decoded_at_reduced_size(client, issue_badge, monkeypatch):
    from verifier.verification import scan as uploads

    badge_id = issue_badge()
    canvas = Image.new("RGB", (6000, 4000), "white")
    canvas.paste(Image.open(io.BytesIO(client.get(f"/v/{badge_id}/qr.png").data)).convert("RGB").resize((1200, 1200)),
                 (2400, 1400))
    photo = _encode(canvas, "JPEG", quality=85)
    seen = []
    real = uploads.flatten_to_rgb
    monkeypatch.setattr(uploads, "flatten_to_rgb", lambda image: seen.append(image.size) or real(image))
    body = post_file(client, photo).get_json()
    assert body["verified"] is True and body["badge"]["id"] == badge_id
    assert seen and seen[0][0] * seen[0][1] <= uploads.QR_SCAN_PIXELS  # never the full 24 MP


def test_concurrent_decodes_are_bounded_with_503_and_retry_after(client, issue_badge, app):
    from verifier.verification import picture

    badge_id = issue_badge()
    app.config.update(VERIFY_DECODE_CONCURRENCY=1, VERIFY_DECODE_WAIT=0.2)
    try:
        with app.app_context():
            slots = picture._decode_slots()
        assert slots.acquire(timeout=1)  # another request is decoding
        try:
            busy = post_file(client, client.get(f"/v/{badge_id}/qr.png").data, "qr.png", "image/png")
            page = post_page(client, client.get(f"/v/{badge_id}/qr.png").data, token=_csrf(client), filename="q.png")
        finally:
            slots.release()
        assert busy.status_code == 503 and int(busy.headers["Retry-After"]) > 0
        assert busy.get_json()["error"]["message"] == "核验服务繁忙，请稍后再试。"
        assert page.status_code == 503 and "核验服务繁忙" in page.get_data(as_text=True)
        ok = post_file(client, client.get(f"/v/{badge_id}/qr.png").data, "qr.png", "image/png")
        assert ok.status_code == 200 and ok.get_json()["verified"] is True
    finally:
        app.config.update(VERIFY_DECODE_CONCURRENCY=2, VERIFY_DECODE_WAIT=2.0)


def test_api_picture_uploads_have_the_same_budget_as_the_page(app, app_config):
    from verifier.app import create_app

    limited = create_app({**app_config, "RATELIMIT_ENABLED": True, "VERIFY_UPLOAD_RATE_LIMIT": "2 per minute"})
    try:
        client = limited.test_client()
        statuses = [post_file(client, b"%PDF-1.7").status_code for _ in range(3)]
        assert statuses == [400, 400, 429]
        # JSON verification keeps the read budget
        assert client.post("/api/v1/verify", json={"credential": "a.b.c"}).status_code == 200
    finally:
        limited.extensions["liang.db"].dispose()
