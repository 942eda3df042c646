"""Shoppers file complaints from the verify page (form and JSON) and track them by a signed link."""

from __future__ import annotations

import io
import re

import pytest
from PIL import Image
from sqlalchemy import func, select

from tests.functional.complaints_support import csrf_token, file_json, jpeg_with_gps, png_bytes, token_of
from verifier import context
from verifier.storage.models import AuditEvent, Complaint, ComplaintEvidence

MARKUP = '<script>alert("x")</script><b onmouseover="y">粗体</b>'


def _count(app, model=Complaint) -> int:
    with app.app_context():
        return context.session().execute(select(func.count()).select_from(model)).scalar_one()


def _form(client, badge_id, **fields):
    data = {"csrf_token": csrf_token(client, badge_id), "category": "quality",
            "description": "吹风机用了一天就坏了，店家拒绝退货。", "order_number": "", "contact": "", "website": ""}
    data.update(fields)
    return client.post(f"/v/{badge_id}/complain", data=data, content_type="multipart/form-data")


def test_form_is_mobile_first_chinese_with_all_contract_fields(client, issue_badge):
    badge_id = issue_badge(shop_name="建国饰品")
    response = client.get(f"/v/{badge_id}/complain")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    for name in ("category", "order_number", "description", "contact", "evidence", "csrf_token"):
        assert f'name="{name}"' in page, name
    assert 'name="viewport"' in page and 'lang="zh-Hans"' in page
    assert "建国饰品" in page and "B01支部" in page
    assert "只有处理投诉的支部和网商党委能看到您的联系方式" in page  # who sees the contact, and why
    assert 'class="hp"' in page and 'name="website"' in page  # honeypot hidden by CSS
    assert 'maxlength="2000"' in page and 'multiple' in page
    # Works without JavaScript: the only script is our own file (photo downscaling), no inline code.
    assert "style=" not in page and not re.search(r"<script(?![^>]*\bsrc=\"/static/)", page)


def test_form_speaks_english_on_request(client, issue_badge):
    page = client.get(f"/v/{issue_badge()}/complain?lang=en").get_data(as_text=True)
    assert "Complain about this shop" in page


def test_form_post_files_and_redirects_to_tracking_page(client, issue_badge, app):
    badge_id = issue_badge()
    response = _form(client, badge_id, contact="13800000000", order_number="TB-998877")
    assert response.status_code == 303
    location = response.headers["Location"]
    assert location.startswith("/c/") and location.endswith("?filed=1")
    page = client.get(location).get_data(as_text=True)
    number = re.search(r"TS-\d{8}-[0-9A-Z]{5}", page).group(0)
    assert number.startswith("TS-20261125-")
    assert "投诉已提交" in page and "待受理" in page and "https://www.12315.cn/" in page
    # the tracking page never shows personal data
    assert "13800000000" not in page and "TB-998877" not in page
    with app.app_context():
        stored = context.session().execute(select(Complaint)).scalar_one()
        assert (stored.contact, stored.order_number, stored.state) == ("13800000000", "TB-998877", "received")
        assert stored.branch.code == "B01"


def test_form_without_csrf_token_is_refused(client, issue_badge, app):
    badge_id = issue_badge()
    response = client.post(f"/v/{badge_id}/complain", data={"category": "quality", "description": "x"})
    assert response.status_code == 400
    assert "表单已过期" in response.get_data(as_text=True)
    assert _count(app) == 0


def test_filled_honeypot_stores_nothing(client, issue_badge, app):
    badge_id = issue_badge()
    response = _form(client, badge_id, website="http://spam.example")
    assert response.status_code == 400
    assert _count(app) == 0


@pytest.mark.parametrize("fields,field_message", [
    ({"description": ""}, "请填写投诉内容"),
    ({"description": "   "}, "请填写投诉内容"),
    ({"description": "长" * 2001}, "请填写投诉内容，最多 2000 字"),
    ({"category": "bogus"}, "请选择投诉类型"),
])
def test_form_errors_redisplay_with_clear_message(client, issue_badge, app, fields, field_message):
    badge_id = issue_badge()
    response = _form(client, badge_id, **fields)
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert field_message in page and 'role="alert"' in page
    assert _count(app) == 0


def test_exactly_2000_characters_is_accepted(client, issue_badge):
    response = file_json(client, issue_badge(), description="长" * 2000)
    assert response.status_code == 201


@pytest.mark.parametrize("body,field", [
    ({"description": ""}, "description"),
    ({"description": "长" * 2001}, "description"),
    ({"category": "bogus"}, "category"),
    ({"category": None}, "category"),
    ({"description": 42}, "description"),
    ({"description": None}, "description"),
    ({"contact": "x" * 201}, "contact"),
    ({"order_number": "x" * 101}, "order_number"),
])
def test_json_validation_is_400_naming_the_field(client, issue_badge, app, body, field):
    response = file_json(client, issue_badge(), **body)
    assert response.status_code == 400
    error = response.get_json()["error"]
    assert error["code"] == "invalid_request" and error["field"] == field and error["message"]
    assert _count(app) == 0


def test_json_filing_answers_201_with_tracking(client, issue_badge):
    badge_id = issue_badge()
    response = file_json(client, badge_id, contact="wx: shopper01")
    assert response.status_code == 201
    body = response.get_json()
    assert set(body) == {"tracking_number", "tracking_url", "status"}
    assert re.fullmatch(r"TS-20261125-[0-9A-HJKMNP-TV-Z]{5}", body["tracking_number"])
    assert body["tracking_url"].startswith("http://127.0.0.1:8000/c/")
    assert body["status"] == "received"
    assert response.headers.get("Access-Control-Allow-Origin") is None  # not a CORS endpoint
    assert client.get(body["tracking_url"].removeprefix("http://127.0.0.1:8000")).status_code == 200


def test_tracking_numbers_are_random_not_sequential(client, issue_badge):
    badge_id = issue_badge()
    numbers = [file_json(client, badge_id, description=f"问题 {i}").get_json()["tracking_number"] for i in range(6)]
    assert len(set(numbers)) == 6
    assert numbers != sorted(numbers) or len({n[-5:] for n in numbers}) == 6


def test_json_needs_a_json_object(client, issue_badge):
    badge_id = issue_badge()
    assert client.post(f"/api/v1/badges/{badge_id}/complaints", data="x",
                       content_type="text/plain").status_code == 415
    response = client.post(f"/api/v1/badges/{badge_id}/complaints", json=["a"])
    assert response.status_code == 400 and response.get_json()["error"]["code"] == "invalid_request"


def test_unknown_badge_is_404(client, app):
    response = file_json(client, "7K3M-9QX2-HT4B")
    assert response.status_code == 404
    assert response.get_json()["error"]["code"] == "not_found"
    assert client.get("/v/7K3M-9QX2-HT4B/complain").status_code == 404


def test_malformed_badge_id_is_400(client, app):
    response = file_json(client, "XXXX")
    assert response.status_code == 400 and response.get_json()["error"]["code"] == "malformed_id"


def test_pending_badge_takes_no_complaints(client, app, make_branch):
    from signer.ids import format_badge_id
    from signer.lifecycle import State
    from tests.conftest import COMMITTEE
    from verifier.badges.service import IssueRequest

    make_branch()
    with app.app_context():
        context.begin_write()
        badge = context.badge_service().issue(
            IssueRequest("李四", "李四小店", "https://ls.taobao.com", "taobao", "B01"), actor=COMMITTEE,
            state=State.PENDING)
        context.session().commit()
        badge_id = format_badge_id(badge.id)
    assert client.get(f"/v/{badge_id}/complain").status_code == 404
    assert file_json(client, badge_id).status_code == 404


@pytest.mark.parametrize("change", [("suspend", {}), ("revoke", {"reason": "misconduct"})])
def test_complaints_about_suspended_or_revoked_badges_are_accepted(client, issue_badge, act, change):
    badge_id = issue_badge()
    act(change[0], badge_id, **change[1])
    assert client.get(f"/v/{badge_id}/complain").status_code == 200
    assert file_json(client, badge_id).status_code == 201


def test_complaints_about_expired_badges_are_accepted(client, issue_badge, clock):
    badge_id = issue_badge(valid_days=5)
    clock.advance(days=6)
    assert file_json(client, badge_id).status_code == 201


def test_markup_in_description_is_text_on_tracking_page(client, issue_badge):
    body = file_json(client, issue_badge(), description=MARKUP).get_json()
    page = client.get(body["tracking_url"].removeprefix("http://127.0.0.1:8000")).get_data(as_text=True)
    assert "<script>alert" not in page and "<b onmouseover" not in page
    assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;" in page


@pytest.mark.parametrize("mangle", [
    # altered signature: change its first symbol (the last one carries unused padding bits,
    # so changing it can decode to the very same signature bytes)
    lambda t, other: t.rsplit(".", 1)[0] + "." + ("A" if t.rsplit(".", 1)[1][0] != "A" else "B") + t.rsplit(".", 1)[1][1:],
    lambda t, other: other.split(".")[0] + "." + t.split(".")[1],  # another id under this one's signature
    lambda t, other: "not-a-token",
    lambda t, other: "x" * 500,
])
def test_forged_or_altered_tracking_link_is_404(client, issue_badge, mangle):
    badge_id = issue_badge()
    first = file_json(client, badge_id, description="第一条").get_json()
    second = file_json(client, badge_id, description="第二条").get_json()
    token = token_of(second["tracking_url"])
    assert client.get(f"/c/{token}").status_code == 200
    response = client.get(f"/c/{mangle(token, token_of(first['tracking_url']))}")
    assert response.status_code == 404
    assert "第一条" not in response.get_data(as_text=True)


def test_token_signed_with_another_salt_is_404(client, issue_badge, app):
    from itsdangerous import URLSafeSerializer

    file_json(client, issue_badge())
    with app.app_context():
        complaint_id = context.session().execute(select(Complaint.id)).scalar_one()
    forged = URLSafeSerializer(app.config["SECRET_KEY"], salt="liang.other-purpose").dumps(complaint_id)
    assert client.get(f"/c/{forged}").status_code == 404


def test_tracking_page_headers_keep_the_link_private(client, issue_badge):
    body = file_json(client, issue_badge()).get_json()
    response = client.get(body["tracking_url"].removeprefix("http://127.0.0.1:8000"))
    assert response.headers["Referrer-Policy"] == "no-referrer"
    assert response.headers["Cache-Control"] == "no-store"
    assert "noindex" in response.headers["X-Robots-Tag"]


def test_repeat_within_ten_minutes_is_merged(client, issue_badge, app, clock):
    badge_id = issue_badge()
    first = file_json(client, badge_id, description="吹风机坏了  店家拒绝退货").get_json()
    clock.advance(minutes=9)
    again = file_json(client, badge_id, description=" 吹风机坏了 店家拒绝退货 ").get_json()
    assert again == first
    assert _count(app) == 1
    clock.advance(minutes=2)  # 11 minutes after the first: a new complaint
    later = file_json(client, badge_id, description="吹风机坏了 店家拒绝退货").get_json()
    assert later["tracking_number"] != first["tracking_number"]
    assert _count(app) == 2


def test_same_text_from_another_client_is_not_merged(client, issue_badge, app):
    badge_id = issue_badge()
    body = {"category": "quality", "description": "同样的问题"}
    a = client.post(f"/api/v1/badges/{badge_id}/complaints", json=body,
                    environ_base={"REMOTE_ADDR": "10.0.0.1"}).get_json()
    b = client.post(f"/api/v1/badges/{badge_id}/complaints", json=body,
                    environ_base={"REMOTE_ADDR": "10.0.0.2"}).get_json()
    assert a["tracking_number"] != b["tracking_number"]
    assert _count(app) == 2


def test_client_address_is_not_stored(client, issue_badge, app):
    client.post(f"/api/v1/badges/{issue_badge()}/complaints", json={"category": "other", "description": "x"},
                environ_base={"REMOTE_ADDR": "10.9.8.7"})
    with app.app_context():
        stored = context.session().execute(select(Complaint)).scalar_one()
        assert stored.client_hash and "10.9.8.7" not in stored.client_hash
        events = context.session().execute(select(AuditEvent).where(AuditEvent.action == "complaint_file")).scalars()
        assert [(e.actor, e.client) for e in events] == [("public", None)]
        assert all("10.9.8.7" not in str(e.after) for e in events)


# -- evidence ---------------------------------------------------------------------------------
def test_evidence_is_reencoded_without_exif(client, issue_badge, app):
    original = jpeg_with_gps()
    assert b"Exif" in original and b"SpyCam" in original
    badge_id = issue_badge()
    response = _form(client, badge_id, evidence=[(io.BytesIO(original), "photo.jpg"),
                                                 (io.BytesIO(png_bytes()), "shot.png")])
    assert response.status_code == 303
    with app.app_context():
        stored = list(context.session().execute(select(ComplaintEvidence).order_by(ComplaintEvidence.id)).scalars())
    assert len(stored) == 2
    for item in stored:
        assert item.content_type == "image/jpeg" and item.size == len(item.data)
        assert b"Exif" not in item.data and b"SpyCam" not in item.data
        image = Image.open(io.BytesIO(item.data))
        assert image.format == "JPEG" and not image.getexif()
    assert Image.open(io.BytesIO(stored[0].data)).size == (64, 48)


def test_evidence_by_json_api_multipart(client, issue_badge, app):
    badge_id = issue_badge()
    response = client.post(f"/api/v1/badges/{badge_id}/complaints", data={
        "category": "counterfeit", "description": "假货", "evidence": (io.BytesIO(jpeg_with_gps()), "a.jpg")},
        content_type="multipart/form-data")
    assert response.status_code == 201
    assert _count(app, ComplaintEvidence) == 1


def test_twelve_megabyte_upload_is_413(client, issue_badge, app):
    badge_id = issue_badge()
    big = b"\xff\xd8\xff\xe0" + b"\0" * (12 * 1024 * 1024)
    response = client.post(f"/api/v1/badges/{badge_id}/complaints", data={
        "category": "quality", "description": "大图", "evidence": (io.BytesIO(big), "big.jpg")},
        content_type="multipart/form-data")
    assert response.status_code == 413
    assert response.get_json()["error"]["code"] == "too_large"
    assert _count(app) == 0


def test_twelve_megabyte_upload_on_the_form_is_413_page(client, issue_badge, app):
    badge_id = issue_badge()
    big = b"\xff\xd8\xff\xe0" + b"\0" * (12 * 1024 * 1024)
    response = _form(client, badge_id, evidence=[(io.BytesIO(big), "big.jpg")])
    assert response.status_code == 413
    assert "5 MB" in response.get_data(as_text=True)
    assert _count(app) == 0


def test_body_over_the_global_cap_is_413(client, issue_badge, app):
    badge_id = issue_badge()
    chunk = b"\0" * (4 * 1024 * 1024)
    files = [(io.BytesIO(chunk), f"{i}.jpg") for i in range(5)]  # 20 MB > 16 MB
    response = client.post(f"/api/v1/badges/{badge_id}/complaints", data={
        "category": "quality", "description": "x", "evidence": files}, content_type="multipart/form-data")
    assert response.status_code == 413
    assert _count(app) == 0


def test_more_than_three_images_is_400(client, issue_badge, app):
    badge_id = issue_badge()
    files = [(io.BytesIO(png_bytes()), f"{i}.png") for i in range(4)]
    response = client.post(f"/api/v1/badges/{badge_id}/complaints", data={
        "category": "quality", "description": "x", "evidence": files}, content_type="multipart/form-data")
    assert response.status_code == 400
    assert response.get_json()["error"]["field"] == "evidence"


@pytest.mark.parametrize("data,name", [
    (b"%PDF-1.7\n1 0 obj<<>>endobj", "receipt.pdf"),
    (b"GIF89a" + b"\0" * 20, "anim.gif"),
    (b"\xff\xd8\xff\xe0" + b"\0" * 100, "truncated.jpg"),
    (b"", "empty.jpg"),
])
def test_non_image_evidence_is_400(client, issue_badge, app, data, name):
    badge_id = issue_badge()
    response = client.post(f"/api/v1/badges/{badge_id}/complaints", data={
        "category": "quality", "description": "x", "evidence": (io.BytesIO(data), name)},
        content_type="multipart/form-data")
    assert response.status_code == 400
    assert response.get_json()["error"]["code"] == "invalid_image"
    assert _count(app) == 0


def test_non_image_on_the_form_redisplays_with_message(client, issue_badge, app):
    response = _form(client, issue_badge(), evidence=[(io.BytesIO(b"hello"), "a.txt")])
    assert response.status_code == 400
    assert "证据图片无法识别" in response.get_data(as_text=True)
    assert _count(app) == 0


def test_decompression_bomb_is_refused(client, issue_badge, app):
    out = io.BytesIO()
    Image.new("1", (10000, 10000)).save(out, "PNG")  # 100 MP, a few kB
    response = client.post(f"/api/v1/badges/{issue_badge()}/complaints", data={
        "category": "quality", "description": "x", "evidence": (io.BytesIO(out.getvalue()), "bomb.png")},
        content_type="multipart/form-data")
    assert response.status_code == 400
    assert response.get_json()["error"]["reason"] == "bomb"


def test_json_body_cannot_carry_evidence(client, issue_badge):
    response = file_json(client, issue_badge(), evidence=["aGVsbG8="])
    assert response.status_code == 400 and response.get_json()["error"]["field"] == "evidence"


def test_badge_status_json_does_not_mention_complaints(client, issue_badge):
    badge_id = issue_badge()
    before = client.get(f"/api/v1/badges/{badge_id}").get_json()
    number = file_json(client, badge_id, contact="13911112222").get_json()["tracking_number"]
    after = client.get(f"/api/v1/badges/{badge_id}").get_json()
    assert set(after) == set(before)
    text = client.get(f"/api/v1/badges/{badge_id}").get_data(as_text=True)
    assert number not in text and "13911112222" not in text


def test_openapi_lists_complaint_endpoints(client, app):
    paths = client.get("/openapi.json").get_json()["paths"]
    assert "post" in paths["/api/v1/badges/{badge_id}/complaints"]
    assert "get" in paths["/api/v1/admin/complaints"]
    assert "post" in paths["/api/v1/admin/complaints/{tracking_number}/status"]


@pytest.mark.parametrize("lang,needle", [
    ("en", "Only the branch handling your complaint and the committee can see your contact details"),
    ("zh-Hant", "只有處理投訴的支部和網商黨委能看到您的聯絡方式"),
])
def test_form_in_other_languages(client, issue_badge, lang, needle):
    page = client.get(f"/v/{issue_badge()}/complain?lang={lang}").get_data(as_text=True)
    assert needle in page


def test_tracking_page_in_english(client, issue_badge):
    body = file_json(client, issue_badge()).get_json()
    path = body["tracking_url"].removeprefix("http://127.0.0.1:8000")
    page = client.get(f"{path}?lang=en").get_data(as_text=True)
    assert "Complaint number" in page and "Received" in page and "national 12315 platform" in page


def test_tracking_link_does_not_carry_the_sequential_id(client, issue_badge, app):
    import base64
    import json as jsonlib

    body = file_json(client, issue_badge()).get_json()
    payload = token_of(body["tracking_url"]).split(".")[0]
    signed = jsonlib.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    with app.app_context():
        complaint_id = context.session().execute(select(Complaint.id)).scalar_one()
    assert signed == body["tracking_number"] and signed != complaint_id


def test_a_link_signed_with_the_id_before_the_change_still_works(client, issue_badge, app):
    from itsdangerous import URLSafeSerializer

    body = file_json(client, issue_badge(), description="旧链接").get_json()
    with app.app_context():
        complaint_id = context.session().execute(select(Complaint.id)).scalar_one()
    old = URLSafeSerializer(app.config["SECRET_KEY"], salt="liang.complaint-tracking").dumps(complaint_id)
    page = client.get(f"/c/{old}")
    assert page.status_code == 200 and body["tracking_number"] in page.get_data(as_text=True)
