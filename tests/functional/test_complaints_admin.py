"""Complaints reach the issuing branch's queue and the committee's, and nobody else's."""

from __future__ import annotations

import io
import re

import pytest
from PIL import Image
from sqlalchemy import select

from tests.functional.complaints_support import file_json, jpeg_with_gps, login, make_admin, token_of  # noqa: F401
from verifier import context
from verifier.storage.models import AuditEvent, Complaint


@pytest.fixture
def setup(client, issue_badge, make_admin):  # noqa: F811 - the fixture imported above
    """Two branches with an administrator each, a committee member, an auditor and one complaint on B01."""
    badge_id = issue_badge(branch="B01", shop_name="小明杂货")
    other_badge = issue_badge(branch="B02", shop_name="别家小店")
    admins = {
        "b01": make_admin("b01admin", role="branch", branch="B01"),
        "b02": make_admin("b02admin", role="branch", branch="B02"),
        "committee": make_admin("chair", role="committee"),
        "auditor": make_admin("auditor", role="auditor"),
    }
    response = client.post(f"/api/v1/badges/{badge_id}/complaints", data={
        "category": "refund", "description": "吹风机坏了，店家拒绝退货。<i>markup</i>", "contact": "13800001111",
        "order_number": "TB-42", "evidence": (io.BytesIO(jpeg_with_gps()), "p.jpg")},
        content_type="multipart/form-data")
    assert response.status_code == 201
    return {"badge": badge_id, "other_badge": other_badge, **admins, **response.get_json()}


def _api(client, admin, path="", **kwargs):
    return client.get(f"/api/v1/admin/complaints{path}", headers=admin.headers, **kwargs)


def _status(client, admin, number, **body):
    return client.post(f"/api/v1/admin/complaints/{number}/status", headers=admin.headers, json=body)


def test_complaint_is_in_its_branch_queue_and_the_committees(client, setup):
    for who in ("b01", "committee", "auditor"):
        body = _api(client, setup[who]).get_json()
        assert set(body) == {"items", "page", "per_page", "total"}
        assert [i["tracking_number"] for i in body["items"]] == [setup["tracking_number"]], who
        assert body["items"][0]["branch"]["code"] == "B01"
    assert _api(client, setup["b02"]).get_json()["items"] == []


def test_other_branch_gets_403_and_nothing_changes(client, setup, app):
    number = setup["tracking_number"]
    response = _api(client, setup["b02"], f"/{number}")
    assert response.status_code == 403 and response.get_json()["error"]["code"] == "forbidden"
    response = _status(client, setup["b02"], number, status="rejected", reply="不受理")
    assert response.status_code == 403
    assert client.post(f"/api/v1/admin/complaints/{number}/suspend-badge", headers=setup["b02"].headers).status_code == 403
    assert _api(client, setup["b02"], query_string={"branch": "B01"}).status_code == 403
    with app.app_context():
        stored = context.session().execute(select(Complaint)).scalar_one()
        assert (stored.state, stored.public_reply) == ("received", None)
        assert stored.badge.state == "active"


def test_no_token_is_401_and_session_does_not_drive_the_api(client, setup):
    assert client.get("/api/v1/admin/complaints").status_code == 401
    login(client, setup["committee"])
    assert client.get("/api/v1/admin/complaints").status_code == 401
    assert client.get("/api/v1/admin/complaints", headers={"Authorization": "Bearer liang_forged"}).status_code == 401


def test_reply_shows_on_the_tracking_page(client, setup):
    number = setup["tracking_number"]
    response = _status(client, setup["b01"], number, status="in_progress", reply="已联系店家，正在调解。",
                       note="店主电话 139 内部")
    assert response.status_code == 200
    body = response.get_json()
    assert body["status"] == "in_progress" and body["public_reply"] == "已联系店家，正在调解。"
    assert body["contact"] == "13800001111"
    _status(client, setup["b01"], number, status="resolved", reply="店家已同意退货退款。")
    page = client.get(f"/c/{token_of(setup['tracking_url'])}").get_data(as_text=True)
    assert "已解决" in page and "店家已同意退货退款。" in page and "已联系店家，正在调解。" in page
    assert "店主电话" not in page and "13800001111" not in page and "TB-42" not in page
    assert "&lt;i&gt;markup&lt;/i&gt;" in page


def test_state_changes_are_audited_without_personal_data(client, setup, app):
    number = setup["tracking_number"]
    _status(client, setup["committee"], number, status="rejected", reply="不属于会员店铺责任", note="内部")
    with app.app_context():
        events = list(context.session().execute(
            select(AuditEvent).where(AuditEvent.target == number).order_by(AuditEvent.seq)).scalars())
        assert [e.action for e in events] == ["complaint_file", "complaint_status"]
        assert events[1].actor == "chair" and events[1].branch_code == "B01"
        assert events[1].before == {"state": "received"} and events[1].after["state"] == "rejected"
        assert all("13800001111" not in str(e.after) and "TB-42" not in str(e.after) for e in events)


@pytest.mark.parametrize("path,body,status,code", [
    ("in_progress", {"status": "bogus"}, 400, "invalid_request"),
    ("received", {"status": "received"}, 409, "illegal_transition"),
    ("resolved", {"status": "received"}, 409, "illegal_transition"),
    ("in_progress", {"status": "resolved", "reply": "x" * 2001}, 400, "invalid_request"),
    ("in_progress", {}, 400, "invalid_request"),
])
def test_illegal_or_bad_state_changes_are_refused(client, setup, path, body, status, code):
    number = setup["tracking_number"]
    if path != "received":
        _status(client, setup["b01"], number, status="in_progress")
    if path == "resolved":
        _status(client, setup["b01"], number, status="resolved", reply="已处理")
    response = _status(client, setup["b01"], number, **body)
    assert response.status_code == status
    assert response.get_json()["error"]["code"] == code


def test_resolved_complaint_can_be_reopened(client, setup):
    number = setup["tracking_number"]
    _status(client, setup["b01"], number, status="resolved", reply="已处理")
    response = _status(client, setup["b01"], number, status="in_progress", reply="投诉人反映问题仍在，重新处理")
    assert response.status_code == 200 and response.get_json()["closed_at"] is None


def test_auditor_reads_but_sees_no_personal_data_and_cannot_write(client, setup):
    number = setup["tracking_number"]
    body = _api(client, setup["auditor"], f"/{number}").get_json()
    assert "contact" not in body and "evidence" not in body and "order_number" not in body
    assert "13800001111" not in str(body)
    assert _status(client, setup["auditor"], number, status="in_progress").status_code == 403
    committee = _api(client, setup["committee"], f"/{number}").get_json()
    assert committee["contact"] == "13800001111" and committee["order_number"] == "TB-42"
    assert len(committee["evidence"]) == 1


def test_evidence_served_only_to_handling_branch_and_committee(client, setup):
    number = setup["tracking_number"]
    url = _api(client, setup["committee"], f"/{number}").get_json()["evidence"][0]["url"]
    for who in ("b01", "committee"):
        browser = client.application.test_client()
        login(browser, setup[who])  # evidence is a console page: a signed-in session, not a bearer token
        response = browser.get(url)
        assert response.status_code == 200, who
        assert response.mimetype == "image/jpeg" and "no-store" in response.headers["Cache-Control"]
        assert b"SpyCam" not in response.data and not Image.open(io.BytesIO(response.data)).getexif()
    auditor = client.application.test_client()
    login(auditor, setup["auditor"])
    assert auditor.get(url).status_code == 403
    assert client.get(url, headers=setup["committee"].headers).status_code == 302  # a token is no console login
    foreign = client.application.test_client()
    login(foreign, setup["b02"])
    assert foreign.get(url).status_code == 403
    assert client.get(url).status_code == 302  # anonymous: to the login page
    committee = client.application.test_client()
    login(committee, setup["committee"])
    wrong = re.sub(r"/evidence/\d+$", "/evidence/999999", url)
    assert committee.get(wrong).status_code == 404


def test_status_filter_and_pagination_params(client, setup):
    assert _api(client, setup["committee"], query_string={"status": "resolved"}).get_json()["total"] == 0
    assert _api(client, setup["committee"], query_string={"status": "open"}).get_json()["total"] == 1
    assert _api(client, setup["committee"], query_string={"status": "received", "branch": "B01"}).get_json()["total"] == 1
    assert _api(client, setup["committee"], query_string={"status": "nope"}).status_code == 400
    assert _api(client, setup["committee"], query_string={"page": "0"}).status_code == 400
    assert _api(client, setup["committee"], query_string={"page": "x"}).status_code == 400
    assert _api(client, setup["committee"], query_string={"page": "2"}).get_json()["items"] == []


def test_age_counts_working_days_and_shows_overdue(client, setup, clock):
    # Filed Wednesday 2026-11-25 18:00 Beijing time; 14 calendar days later is 10 working days.
    clock.advance(days=14)
    item = _api(client, setup["committee"]).get_json()["items"][0]
    assert item["age"] == {"working_days": 10, "target": 10, "overdue": False}
    clock.advance(days=1)
    item = _api(client, setup["committee"]).get_json()["items"][0]
    assert item["age"] == {"working_days": 11, "target": 10, "overdue": True}


def test_unknown_tracking_number_is_404(client, setup):
    assert _api(client, setup["committee"], "/TS-20261125-ZZZZZ").status_code == 404


# -- suspend while investigating ---------------------------------------------------------------
def test_suspend_badge_refuses_a_17_mib_body(client, setup):
    """The endpoint ignores its body, and so it took 17 MiB (issue 14, item 17): now a 413 before any is read."""
    number, badge_id = setup["tracking_number"], setup["badge"]
    response = client.post(f"/api/v1/admin/complaints/{number}/suspend-badge", headers=setup["b01"].headers,
                           data=b"x" * (17 * 1024 * 1024), content_type="application/octet-stream")
    assert response.status_code == 413
    assert response.get_json()["error"]["code"] == "too_large"
    assert client.get(f"/api/v1/badges/{badge_id}").get_json()["status"] == "valid"


def test_one_click_suspend_links_the_badge_history_to_the_complaint(client, setup, app):
    number, badge_id = setup["tracking_number"], setup["badge"]
    response = client.post(f"/api/v1/admin/complaints/{number}/suspend-badge", headers=setup["b01"].headers)
    assert response.status_code == 200
    assert client.get(f"/api/v1/badges/{badge_id}").get_json()["status"] == "suspended"
    with app.app_context():
        history = list(context.session().execute(
            select(AuditEvent).where(AuditEvent.target == badge_id).order_by(AuditEvent.seq)).scalars())
        assert [e.action for e in history][-2:] == ["suspend", "complaint_suspend_badge"]
        assert history[-1].after == {"complaint": number, "state": "suspended"}
        from signer.ids import parse_badge_id
        from verifier.storage.models import Badge

        assert context.session().get(Badge, parse_badge_id(badge_id)).state_note == f"complaint {number}"
    # the public status and page say "suspended" and nothing about the complaint
    for path in (f"/api/v1/badges/{badge_id}", f"/v/{badge_id}"):
        text = client.get(path).get_data(as_text=True)
        assert number not in text and "complaint" not in text.replace("complaint_url", "").replace("/complain", "")
    # suspending twice is an illegal transition
    again = client.post(f"/api/v1/admin/complaints/{number}/suspend-badge", headers=setup["b01"].headers)
    assert again.status_code == 409 and again.get_json()["error"]["code"] == "illegal_transition"


def test_auditor_cannot_suspend(client, setup):
    response = client.post(f"/api/v1/admin/complaints/{setup['tracking_number']}/suspend-badge",
                           headers=setup["auditor"].headers)
    assert response.status_code == 403
    assert client.get(f"/api/v1/badges/{setup['badge']}").get_json()["status"] == "valid"


# -- console ----------------------------------------------------------------------------------
def test_console_needs_login(client, setup):
    response = client.get("/admin/complaints")
    assert response.status_code in (302, 401)


def test_console_queue_and_detail_for_the_branch(client, setup):
    login(client, setup["b01"])
    page = client.get("/admin/complaints").get_data(as_text=True)
    assert setup["tracking_number"] in page and "0 / 10" in page
    detail = client.get(f"/admin/complaints/{setup['tracking_number']}")
    assert detail.status_code == 200
    html = detail.get_data(as_text=True)
    assert "13800001111" in html and "TB-42" in html and "/evidence/" in html
    assert "&lt;i&gt;markup&lt;/i&gt;" in html and "<i>markup" not in html
    assert "<script" not in html and "style=" not in html


def test_console_other_branch_is_403_and_queue_empty(client, setup):
    login(client, setup["b02"])
    assert setup["tracking_number"] not in client.get("/admin/complaints").get_data(as_text=True)
    assert client.get(f"/admin/complaints/{setup['tracking_number']}").status_code == 403


def test_console_auditor_sees_no_personal_data(client, setup):
    login(client, setup["auditor"])
    html = client.get(f"/admin/complaints/{setup['tracking_number']}").get_data(as_text=True)
    assert "13800001111" not in html and "TB-42" not in html and "/evidence/" not in html
    assert "只有处理该投诉的支部和网商党委可以查看" in html
    assert 'action="/admin/complaints/' not in html  # no forms to change anything


def test_console_status_change_with_csrf(client, setup, app):
    login(client, setup["b01"])
    number = setup["tracking_number"]
    html = client.get(f"/admin/complaints/{number}").get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)
    refused = client.post(f"/admin/complaints/{number}/status", data={"status": "in_progress"})
    assert refused.status_code == 400
    response = client.post(f"/admin/complaints/{number}/status",
                           data={"csrf_token": token, "status": "in_progress", "reply": "<b>正在处理</b>", "note": "内部"})
    assert response.status_code == 303
    html = client.get(f"/admin/complaints/{number}").get_data(as_text=True)
    assert "&lt;b&gt;正在处理&lt;/b&gt;" in html and "处理中" in html
    unconfirmed = client.post(f"/admin/complaints/{number}/suspend-badge", data={"csrf_token": token})
    assert unconfirmed.status_code == 400 and 'nav class="console"' in unconfirmed.get_data(as_text=True)
    assert client.get(f"/api/v1/badges/{setup['badge']}").get_json()["status"] == "valid"
    response = client.post(f"/admin/complaints/{number}/suspend-badge", data={"csrf_token": token, "confirm": "yes"})
    assert response.status_code == 303
    assert client.get(f"/api/v1/badges/{setup['badge']}").get_json()["status"] == "suspended"


def test_console_committee_filters_by_branch(client, setup, issue_badge):
    file_json(client, setup["other_badge"], description="另一家店的问题")
    login(client, setup["committee"])
    everything = client.get("/admin/complaints").get_data(as_text=True)
    assert everything.count("<tr class=\"state-") == 2
    only_b02 = client.get("/admin/complaints?branch=B02").get_data(as_text=True)
    assert only_b02.count("<tr class=\"state-") == 1 and setup["tracking_number"] not in only_b02


def test_public_only_node_has_no_admin_complaint_routes(app_config, tmp_path):
    from verifier.app import create_app

    app_config = {**app_config, "PUBLIC_ONLY": True, "INSTANCE_DIR": str(tmp_path / "pub")}
    public = create_app(app_config)
    rules = {r.rule for r in public.url_map.iter_rules()}
    assert "/v/<raw_id>/complain" in rules and "/c/<token>" in rules
    assert not any(r.startswith(("/admin/complaints", "/api/v1/admin/complaints")) for r in rules)
    paths = public.test_client().get("/openapi.json").get_json()["paths"]
    assert "/api/v1/badges/{badge_id}/complaints" in paths
    assert "/api/v1/admin/complaints" not in paths
    public.extensions["liang.db"].dispose()


def _console_status(client, setup, **form):
    login(client, setup["b01"])
    url = f"/admin/complaints/{setup['tracking_number']}"
    token = re.search(r'name="csrf_token" value="([^"]+)"', client.get(url).get_data(as_text=True)).group(1)
    return client.post(f"{url}/status", data={**form, "csrf_token": token})


def test_console_reply_too_long_is_said_beside_it_and_kept(client, setup, app):
    reply = "答" * 2001
    response = _console_status(client, setup, status="in_progress", reply=reply, note="内部")
    page = response.get_data(as_text=True)
    assert response.status_code == 400 and 'href="/admin/badges"' in page
    assert '<span class="errors field-error" id="reply-error" role="alert">公开答复不能超过 2000 个字符。</span>' in page
    assert re.search(rf">\s*{reply}</textarea>", page) and re.search(r">\s*内部</textarea>", page)
    assert _api(client, setup["b01"], f"/{setup['tracking_number']}").get_json()["status"] == "received"


def test_console_same_state_without_words_says_why_and_changes_nothing(client, setup, app):
    response = _console_status(client, setup, status="received")
    page = response.get_data(as_text=True)
    assert response.status_code == 409 and 'href="/admin/badges"' in page
    assert "这件投诉已是“待受理”：请填写答复或备注后再保存。" in page
    with app.app_context():
        events = context.session().execute(select(Complaint)).scalars().one().events
        assert len(events) == 1
