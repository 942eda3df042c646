"""Complaint photos cannot stall the service (issue 24 C).

Pictures are decoded before the write transaction (a revocation is never held behind a
decode), their pixels are bounded from the header (a 6200 x 6200 lossless picture is a 400,
a large JPEG is decoded at a reduced scale), and each worker decodes a bounded number at a
time, one per client: the next upload is refused at once while verifications keep answering.
"""

from __future__ import annotations

import io
import threading

import pytest
from PIL import Image

from tests.functional.complaints_support import csrf_token
from verifier import context
from verifier.web.uploads import EVIDENCE_LOSSLESS_MAX_PIXELS, reencode_evidence

API = "/api/v1/badges/{}/complaints"


def _picture(fmt: str, side: int) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (side, side), (200, 30, 30)).save(out, format=fmt, **({"quality": 20} if fmt == "JPEG" else {}))
    return out.getvalue()


def _upload(client, badge_id: str, data: bytes, *, addr: str = "10.0.0.1", name: str = "a.png"):
    return client.post(API.format(badge_id), data={"category": "quality", "description": f"坏了 {addr}",
                                                   "evidence": (io.BytesIO(data), name)},
                       content_type="multipart/form-data", environ_base={"REMOTE_ADDR": addr})


@pytest.fixture(scope="module")
def bomb_png() -> bytes:
    data = _picture("PNG", 6200)
    assert len(data) < 200_000  # the attacker's picture: small on the wire, 38 megapixels decoded
    return data


def test_a_huge_lossless_picture_is_refused_from_its_header(client, issue_badge, bomb_png):
    response = _upload(client, issue_badge(), bomb_png)
    assert response.status_code == 400
    error = response.get_json()["error"]
    assert error["code"] == "invalid_image" or "pixel" in error["message"].lower()


def test_a_huge_jpeg_is_decoded_small(monkeypatch):
    """A 6200 x 6200 JPEG is decoded at a reduced DCT scale, never at full size."""
    picture = _picture("JPEG", 6200)
    sizes: list[tuple[int, int]] = []
    real_load = Image.Image.load

    def spy(self):
        sizes.append(self.size)
        return real_load(self)

    monkeypatch.setattr(Image.Image, "load", spy)
    data, kind = reencode_evidence(picture)
    assert kind == "image/jpeg"
    assert max(Image.open(io.BytesIO(data)).size) == 2048
    decoded = [w * h for w, h in sizes]
    assert decoded and max(decoded) <= 3100 * 3100, sizes  # at most half scale


def test_the_lossless_cap_admits_a_long_screenshot():
    assert 1290 * 9000 <= EVIDENCE_LOSSLESS_MAX_PIXELS < 6200 * 6200


def test_pictures_are_decoded_outside_the_write_transaction(app, client, issue_badge, act, monkeypatch):
    """While a complaint's photo decodes, no write transaction is open and a revocation goes through."""
    from verifier.complaints import service as complaint_service

    badge_id = issue_badge()
    other = issue_badge(shop_url="https://other.taobao.com", shop_name="别家")
    seen: dict[str, object] = {}
    real = complaint_service.reencode_evidence

    def decoding(data: bytes):
        seen["depth"] = context.session().info.get("liang.unit_depth")
        done = threading.Event()

        def revoke() -> None:
            act("revoke", other, reason="misconduct")
            done.set()

        worker = threading.Thread(target=revoke, daemon=True)
        worker.start()
        seen["revoked_meanwhile"] = done.wait(8)
        return real(data)

    monkeypatch.setattr(complaint_service, "reencode_evidence", decoding)
    response = _upload(client, badge_id, _picture("PNG", 300))
    assert response.status_code == 201, response.get_data(as_text=True)
    assert not seen["depth"], "the photo was decoded inside the write transaction"
    assert seen["revoked_meanwhile"] is True
    assert client.get(f"/api/v1/badges/{other}").get_json()["status"] == "revoked"


@pytest.fixture
def held_decode(monkeypatch):
    """Make the next decode wait until released; yield (started, release)."""
    from verifier.complaints import service as complaint_service

    started, release = threading.Event(), threading.Event()
    real = complaint_service.reencode_evidence

    def slow(data: bytes):
        started.set()
        assert release.wait(20)
        return real(data)

    monkeypatch.setattr(complaint_service, "reencode_evidence", slow)
    yield started, release
    release.set()


def test_uploads_beyond_the_budget_are_refused_at_once_and_verifications_answer(app, client, issue_badge,
                                                                               held_decode):
    started, release = held_decode
    badge_id = issue_badge()
    picture = _picture("PNG", 300)
    first: dict[str, object] = {}

    def upload_first() -> None:
        with app.test_client() as own:
            first["response"] = _upload(own, badge_id, picture, addr="10.0.0.1")

    worker = threading.Thread(target=upload_first, daemon=True)
    worker.start()
    assert started.wait(10)
    try:
        # The same client again: 429, it already has a photo decoding.
        same = _upload(client, badge_id, picture, addr="10.0.0.1")
        assert same.status_code == 429 and same.headers.get("Retry-After")
        # Another client: the worker's decoding slot is taken; 503 busy at once, with Retry-After.
        other = _upload(client, badge_id, picture, addr="10.0.0.2")
        assert other.status_code == 503, other.get_data(as_text=True)
        assert other.get_json()["error"]["code"] == "busy" and other.headers.get("Retry-After")
        # A complaint without photos and a verification are answered meanwhile.
        plain = client.post(API.format(badge_id), json={"category": "quality", "description": "没有图片"},
                            environ_base={"REMOTE_ADDR": "10.0.0.3"})
        assert plain.status_code == 201
        assert client.get(f"/api/v1/badges/{badge_id}").status_code == 200
    finally:
        release.set()
        worker.join(20)
    assert first["response"].status_code == 201
    # The slot is free again.
    assert _upload(client, badge_id, picture, addr="10.0.0.2").status_code == 201


def test_the_form_keeps_what_was_typed_when_the_budget_is_full(app, client, issue_badge, held_decode):
    started, release = held_decode
    badge_id = issue_badge()
    picture = _picture("PNG", 300)

    def upload_first() -> None:
        with app.test_client() as own:
            _upload(own, badge_id, picture, addr="10.0.0.1")

    worker = threading.Thread(target=upload_first, daemon=True)
    worker.start()
    assert started.wait(10)
    try:
        token = csrf_token(client, badge_id)
        response = client.post(f"/v/{badge_id}/complain", data={
            "category": "quality", "description": "我写的投诉内容", "csrf_token": token,
            "evidence": (io.BytesIO(picture), "a.png")}, content_type="multipart/form-data",
            environ_base={"REMOTE_ADDR": "10.0.0.9"})
        assert response.status_code == 503 and response.headers.get("Retry-After")
        assert "我写的投诉内容" in response.get_data(as_text=True)
    finally:
        release.set()
        worker.join(20)
