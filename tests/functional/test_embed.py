"""Storefront embedding over the test client: QR codes, live badge images, credential, widget, kit, OpenAPI."""

from __future__ import annotations

import gzip
import io
import re
import struct
import zlib
from datetime import UTC, datetime
from pathlib import Path

import pytest
import zxingcpp
from PIL import Image

from signer.baking import OB_NAMESPACE
from signer.images import SIZES
from tests.conftest import COMMITTEE

ROOT = Path(__file__).resolve().parent.parent.parent
SVG_NS = "http://www.w3.org/2000/svg"


def decode_qr(data: bytes) -> list[str]:
    """Return the QR texts zxing-cpp reads in a PNG."""
    image = Image.open(io.BytesIO(data)).convert("RGBA").convert("L")  # palette PNG with alpha
    return [r.text for r in zxingcpp.read_barcodes(image, formats=zxingcpp.BarcodeFormat.QRCode)]


def png_itxt_chunks(data: bytes) -> list[tuple[bytes, int, bytes]]:
    """Return (keyword, compression flag, text) of every iTXt chunk, parsed independently."""
    assert data.startswith(b"\x89PNG\r\n\x1a\n")
    pos, found = 8, []
    while pos < len(data):
        (length,) = struct.unpack(">I", data[pos:pos + 4])
        kind = data[pos + 4:pos + 8]
        body = data[pos + 8:pos + 8 + length]
        if kind == b"iTXt":
            keyword, rest = body.split(b"\0", 1)
            flag = rest[0]
            _lang, _translated, text = rest[2:].split(b"\0", 2)
            found.append((keyword, flag, text))
        pos += 12 + length
    return found


def _pending_badge(app) -> str:
    from signer.ids import format_badge_id
    from signer.lifecycle import State
    from verifier import context
    from verifier.badges.service import IssueRequest

    with app.app_context():
        context.begin_write()
        badge = context.badge_service().issue(
            IssueRequest("李四", "待审店", "https://pending.example.com", "taobao", "B01", None, None),
            actor=COMMITTEE, state=State.PENDING)
        context.session().commit()
        return format_badge_id(badge.id)


# -- QR codes ---------------------------------------------------------------------------------------
def test_qr_png_text_is_exactly_the_verify_url(client, issue_badge):
    badge_id = issue_badge()
    response = client.get(f"/v/{badge_id}/qr.png")
    assert response.status_code == 200
    assert response.mimetype == "image/png"
    assert decode_qr(response.data) == [f"http://127.0.0.1:8000/v/{badge_id}"]


def test_qr_svg_is_svg_of_the_verify_url(client, issue_badge):
    from signer.qr import qr_svg

    badge_id = issue_badge()
    response = client.get(f"/v/{badge_id}/qr.svg")
    assert response.mimetype == "image/svg+xml"
    assert response.data == qr_svg(f"http://127.0.0.1:8000/v/{badge_id}")


@pytest.mark.parametrize("name", ["qr.svg", "qr.png"])
def test_qr_is_cached_as_immutable_with_etag(client, issue_badge, name):
    badge_id = issue_badge()
    response = client.get(f"/v/{badge_id}/{name}")
    assert response.headers["Cache-Control"] == "public, max-age=31536000, immutable"
    etag = response.headers["ETag"]
    again = client.get(f"/v/{badge_id}/{name}", headers={"If-None-Match": etag})
    assert again.status_code == 304
    assert again.data == b""


def test_qr_accepts_any_id_spelling_and_encodes_the_canonical_url(client, issue_badge):
    badge_id = issue_badge()
    response = client.get(f"/v/{badge_id.lower().replace('-', '')}/qr.png")
    assert decode_qr(response.data) == [f"http://127.0.0.1:8000/v/{badge_id}"]


@pytest.mark.parametrize("name", ["qr.svg", "qr.png", "badge.svg", "badge.png", "credential.jws", "kit"])
def test_pending_badge_is_not_found(client, app, make_branch, name):
    make_branch("B01")
    badge_id = _pending_badge(app)
    response = client.get(f"/v/{badge_id}/{name}", headers={"Accept": "application/json"})
    assert response.status_code == 404
    assert response.get_json()["error"]["code"] == "not_found"


@pytest.mark.parametrize("name", ["qr.png", "badge.png", "credential.jws"])
def test_unknown_and_malformed_ids(client, app, name):
    assert client.get(f"/v/7K3M-9QX2-HT4B/{name}").status_code == 404
    bad = client.get(f"/v/NOT-AN-ID/{name}", headers={"Accept": "application/json"})
    assert bad.status_code == 400
    assert bad.get_json()["error"]["code"] == "malformed_id"


# -- badge images -----------------------------------------------------------------------------------
@pytest.mark.parametrize("size", list(SIZES))
def test_badge_png_sizes(client, issue_badge, size):
    badge_id = issue_badge()
    response = client.get(f"/v/{badge_id}/badge.png?size={size}")
    assert response.status_code == 200
    assert response.mimetype == "image/png"
    assert Image.open(io.BytesIO(response.data)).size == SIZES[size]


def test_badge_png_default_size_is_m(client, issue_badge):
    badge_id = issue_badge()
    image = Image.open(io.BytesIO(client.get(f"/v/{badge_id}/badge.png").data))
    assert image.size == SIZES["m"]


@pytest.mark.parametrize("size", ["xl", "", "S", "m&x", "1" * 50])
def test_bad_size_is_400_json(client, issue_badge, size):
    badge_id = issue_badge()
    response = client.get(f"/v/{badge_id}/badge.png", query_string={"size": size},
                          headers={"Accept": "application/json"})
    assert response.status_code == 400
    assert response.get_json()["error"]["code"] == "invalid_request"
    assert "s, m, l" in response.get_json()["error"]["message"]


def test_bad_size_is_400_html_for_browsers(client, issue_badge):
    badge_id = issue_badge()
    response = client.get(f"/v/{badge_id}/badge.png?size=huge", headers={"Accept": "text/html"})
    assert response.status_code == 400
    assert response.mimetype == "text/html"
    assert "s, m, l" in response.get_data(as_text=True)


@pytest.mark.parametrize("path", ["badge.svg", "badge.png?size=s"])
def test_badge_image_etag_304_and_short_cache(client, issue_badge, path):
    badge_id = issue_badge()
    response = client.get(f"/v/{badge_id}/{path}")
    cache = response.headers["Cache-Control"]
    assert "public" in cache
    assert int(re.search(r"max-age=(\d+)", cache).group(1)) <= 300
    etag = response.headers["ETag"]
    again = client.get(f"/v/{badge_id}/{path}", headers={"If-None-Match": etag})
    assert again.status_code == 304
    other = client.get(f"/v/{badge_id}/{path}", headers={"If-None-Match": '"something-else"'})
    assert other.status_code == 200
    assert other.data == response.data


def test_repeat_requests_do_no_rendering_work(client, issue_badge, monkeypatch):
    import verifier.embedding.views as embed

    calls = {"png": 0, "svg": 0, "qr": 0}
    real_png, real_svg, real_qr = embed.render_badge_png, embed.render_badge_svg, embed.qr_png

    def count(kind, real):
        def wrapper(*args, **kwargs):
            calls[kind] += 1
            return real(*args, **kwargs)
        return wrapper

    monkeypatch.setattr(embed, "render_badge_png", count("png", real_png))
    monkeypatch.setattr(embed, "render_badge_svg", count("svg", real_svg))
    monkeypatch.setattr(embed, "qr_png", count("qr", real_qr))
    badge_id = issue_badge()
    first = [client.get(f"/v/{badge_id}/{p}").data for p in ("badge.png?size=s", "badge.svg", "qr.png")]
    assert calls == {"png": 1, "svg": 1, "qr": 1}
    second = [client.get(f"/v/{badge_id}/{p}").data for p in ("badge.png?size=s", "badge.svg", "qr.png")]
    assert calls == {"png": 1, "svg": 1, "qr": 1}
    assert first == second
    client.get(f"/v/{badge_id}/badge.png?size=l")
    assert calls["png"] == 2  # a different size is different content


def _capture_faces(monkeypatch):
    import verifier.embedding.views as embed

    faces = []
    real = embed.render_badge_png

    def spy(face, **kwargs):
        faces.append(face)
        return real(face, **kwargs)

    monkeypatch.setattr(embed, "render_badge_png", spy)
    return faces


@pytest.mark.parametrize(("action", "kwargs", "state"), [
    ("revoke", {"reason": "misconduct"}, "revoked"),
    ("suspend", {}, "suspended"),
])
def test_badge_image_follows_live_state(client, issue_badge, act, monkeypatch, action, kwargs, state):
    faces = _capture_faces(monkeypatch)
    badge_id = issue_badge()
    before = client.get(f"/v/{badge_id}/badge.png?size=s")
    act(action, badge_id, **kwargs)
    after = client.get(f"/v/{badge_id}/badge.png?size=s", headers={"If-None-Match": before.headers["ETag"]})
    assert after.status_code == 200
    assert after.headers["ETag"] != before.headers["ETag"]
    assert [f.status for f in faces] == ["valid", state]


def test_badge_image_shows_expired(client, issue_badge, clock, monkeypatch):
    faces = _capture_faces(monkeypatch)
    badge_id = issue_badge(valid_days=10)
    clock.advance(days=11)
    client.get(f"/v/{badge_id}/badge.png?size=s")
    assert faces[-1].status == "expired"


def test_checked_on_is_todays_date_in_shanghai(client, issue_badge, clock, monkeypatch):
    faces = _capture_faces(monkeypatch)
    badge_id = issue_badge()
    clock.now = datetime(2026, 11, 25, 15, 59, tzinfo=UTC)  # 23:59 in Shanghai
    client.get(f"/v/{badge_id}/badge.png?size=s")
    clock.now = datetime(2026, 11, 25, 16, 0, tzinfo=UTC)  # 00:00 next day in Shanghai
    client.get(f"/v/{badge_id}/badge.png?size=s")
    assert [f.checked_on for f in faces] == ["2026-11-25", "2026-11-26"]
    assert faces[0].verify_url == f"http://127.0.0.1:8000/v/{badge_id}"
    assert faces[0].shop_name == "小明杂货"


def test_badge_png_has_credential_baked_once_uncompressed(client, issue_badge):
    badge_id = issue_badge()
    credential = client.get(f"/api/v1/badges/{badge_id}").get_json()["credential"]
    chunks = png_itxt_chunks(client.get(f"/v/{badge_id}/badge.png?size=m").data)
    baked = [c for c in chunks if c[0] == b"openbadgecredential"]
    assert len(baked) == 1
    assert baked[0][1] == 0  # compression flag off
    assert baked[0][2].decode("utf-8") == credential


def test_badge_svg_has_credential_baked(client, issue_badge):
    import defusedxml.ElementTree as SafeET

    badge_id = issue_badge()
    credential = client.get(f"/api/v1/badges/{badge_id}").get_json()["credential"]
    data = client.get(f"/v/{badge_id}/badge.svg").data
    assert b'xmlns:openbadges="https://purl.imsglobal.org/ob/v3p0"' in data
    root = SafeET.fromstring(data)
    assert root.tag == f"{{{SVG_NS}}}svg"
    baked = root.findall(f"{{{OB_NAMESPACE}}}credential")
    assert len(baked) == 1
    assert baked[0].get("verify") == credential


def test_badge_shop_name_with_markup_is_drawn_not_injected(client, issue_badge):
    import defusedxml.ElementTree as SafeET

    badge_id = issue_badge(shop_name='<script>alert(1)</script>"&')
    data = client.get(f"/v/{badge_id}/badge.svg").data
    assert b"<script" not in data
    SafeET.fromstring(data)  # still well-formed


# -- credential ---------------------------------------------------------------------------------------
def test_credential_jws_is_text_plain(client, issue_badge):
    badge_id = issue_badge()
    response = client.get(f"/v/{badge_id}/credential.jws")
    assert response.status_code == 200
    assert response.mimetype == "text/plain"
    assert response.get_data(as_text=True) == client.get(f"/api/v1/badges/{badge_id}").get_json()["credential"]
    assert response.get_data(as_text=True).count(".") == 2
    assert client.get(f"/v/{badge_id}/credential.jws",
                      headers={"If-None-Match": response.headers["ETag"]}).status_code == 304


def test_credential_jws_follows_resigning(client, issue_badge, act):
    badge_id = issue_badge()
    before = client.get(f"/v/{badge_id}/credential.jws").get_data(as_text=True)
    act("renew", badge_id, valid_days=30)
    after = client.get(f"/v/{badge_id}/credential.jws").get_data(as_text=True)
    assert after != before
    assert after == client.get(f"/api/v1/badges/{badge_id}").get_json()["credential"]


# -- widget -------------------------------------------------------------------------------------------
def test_widget_js_is_served_with_cors_and_short_cache(client, app):
    response = client.get("/widget.js")
    assert response.status_code == 200
    assert response.mimetype == "text/javascript"
    assert response.headers["Access-Control-Allow-Origin"] == "*"
    assert response.headers["Cache-Control"] == "public, max-age=300"
    assert response.data == (ROOT / "widget" / "static" / "widget.js").read_bytes()


def test_widget_js_is_at_most_4_kb_gzipped(client, app):
    data = client.get("/widget.js").data
    assert len(gzip.compress(data, compresslevel=9)) <= 4096


def test_widget_js_keeps_its_promises(client, app):
    source = client.get("/widget.js").get_data(as_text=True)
    assert 'credentials: "omit"' in source
    assert "document.currentScript" in source
    assert "attachShadow" in source
    assert "此徽章不属于本店" in source
    assert "/api/v1/badges/" in source
    # never writes markup from data, never touches cookies, never loads anything from elsewhere
    assert "innerHTML" not in source
    assert "document.cookie" not in source
    # No address to contact: the one URL is the SVG namespace's name (never fetched) for the state icons.
    assert not re.search(r'https?://(?!www\.w3\.org/2000/svg")', source)


def test_image_routes_carry_no_cors(client, issue_badge):
    badge_id = issue_badge()
    assert "Access-Control-Allow-Origin" not in client.get(f"/v/{badge_id}/badge.svg").headers


# -- kit ----------------------------------------------------------------------------------------------
def test_kit_offers_previews_downloads_snippets_and_card(client, issue_badge):
    badge_id = issue_badge(shop_name="小明杂货", hosts=("shop.example.com",))
    response = client.get(f"/v/{badge_id}/kit")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    base = f"http://127.0.0.1:8000/v/{badge_id}"
    for href in (f"{base}/badge.png?size=s", f"{base}/badge.png?size=m", f"{base}/badge.png?size=l",
                 f"{base}/badge.svg", f"{base}/qr.png", f"{base}/qr.svg"):
        assert re.search(rf'href="{re.escape(href)}" download="[^"]+"', page), href
    assert page.count("<textarea") == 2
    assert page.count("readonly") == 2
    widget = (f'&lt;a class=&#34;liang-badge&#34; data-badge-id=&#34;{badge_id}&#34; href=&#34;{base}&#34;&gt;'
              f"党员网商 · 点击验证&lt;/a&gt;\n"
              f"&lt;script src=&#34;http://127.0.0.1:8000/widget.js&#34; async&gt;&lt;/script&gt;")
    assert widget in page
    assert 'class="parcel-card"' in page
    assert "用手机扫描上方二维码" in page
    assert "kit.css" in page
    assert "shop.example.com" in page


def test_kit_and_verify_pages_have_no_inline_script_or_style(client, issue_badge):
    badge_id = issue_badge()
    for path in (f"/v/{badge_id}/kit", "/verify"):
        page = client.get(path).get_data(as_text=True)
        assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", page), path
        # A real attribute, not the escaped snippet text shown in a textarea (its img scales on phones).
        assert not re.search(r"\sstyle=[\"']", page)
        assert not re.search(r"\son[a-z]+=", page)


def test_kit_print_stylesheet_is_a6(client, app):
    css = client.get("/static/kit.css").get_data(as_text=True)
    page_rule = re.search(r"@page\s*\{([^}]*)\}", css).group(1)
    assert re.search(r"size:\s*A6\b", page_rule)
    assert re.search(r"size:\s*105mm 148mm", page_rule)  # for Chromium, which lacks the A6 keyword
    assert "@media print" in css


def test_kit_escapes_shop_name(client, issue_badge):
    badge_id = issue_badge(shop_name="<b>坏店</b>")
    page = client.get(f"/v/{badge_id}/kit").get_data(as_text=True)
    assert "<b>坏店</b>" not in page
    assert "&lt;b&gt;坏店&lt;/b&gt;" in page


# -- OpenAPI ------------------------------------------------------------------------------------------
def test_openapi_describes_embed_paths(client, app):
    document = client.get("/openapi.json").get_json()
    for path in ("/v/{badge_id}/badge.svg", "/v/{badge_id}/badge.png", "/v/{badge_id}/qr.svg",
                 "/v/{badge_id}/qr.png", "/v/{badge_id}/credential.jws"):
        operation = document["paths"][path]["get"]
        assert {"200", "304", "400", "404"} <= set(operation["responses"]), path
    params = document["paths"]["/v/{badge_id}/badge.png"]["get"]["parameters"]
    assert {"name": "size", "in": "query"}.items() <= params[1].items()
    assert params[1]["schema"]["enum"] == ["s", "m", "l"]


def test_truncated_chunk_parser_sanity():
    # the independent iTXt parser above must see a hand-made chunk
    body = b"openbadgecredential\0\0\0\0\0a.b.c"
    chunk = struct.pack(">I", len(body)) + b"iTXt" + body + struct.pack(">I", zlib.crc32(b"iTXt" + body))
    data = b"\x89PNG\r\n\x1a\n" + chunk
    assert png_itxt_chunks(data) == [(b"openbadgecredential", 0, b"a.b.c")]


@pytest.mark.parametrize(("lang", "kit_words", "verify_words"), [
    ("en", "Embed kit", "Verify a badge by picture"),
    ("zh-Hant", "嵌入工具包", "拍照核驗徽章"),
])
def test_kit_and_verify_pages_are_translated(client, issue_badge, lang, kit_words, verify_words):
    badge_id = issue_badge()
    kit_page = client.get(f"/v/{badge_id}/kit?lang={lang}").get_data(as_text=True)
    assert kit_words in kit_page
    assert "用手机扫描上方二维码" in kit_page  # the parcel card is for shoppers in China: always zh-Hans
    assert verify_words in client.get(f"/verify?lang={lang}").get_data(as_text=True)


def test_what_follows_a_revocation_leaves_shared_caches_quickly(client, issue_badge):
    # A CDN in front may keep these for max-age; then it must ask again (docs/deployment.md).
    badge_id = issue_badge()
    for path in (f"/v/{badge_id}/badge.png?size=m", f"/v/{badge_id}/badge.svg"):
        assert client.get(path).headers["Cache-Control"] == "public, max-age=30, must-revalidate"
    assert client.get("/.well-known/jwks.json").headers["Cache-Control"] == "public, max-age=60, must-revalidate"


def test_badge_svg_label_is_escaped_once(client, issue_badge):
    badge_id = issue_badge(shop_name='A&B "小店"')
    svg = client.get(f"/v/{badge_id}/badge.svg").get_data(as_text=True)
    label = svg.split('aria-label="', 1)[1].split('"', 1)[0]
    assert label.count("A&amp;B &quot;小店&quot;") == 1 and "&amp;amp;" not in label
