"""Every public page, in every state and language, reads clean: what a person sees is checked.

The verify page once showed "本次核验 b'2026-11-30 16:19:17'" in all three languages while a
thousand tests passed: these tests read the page as a person does (tests/visible.py) and fail
on a bytes literal, raw template syntax, ``None``, or text left in the wrong language.
"""

from __future__ import annotations

import io
import re
from datetime import timedelta
from typing import Any

import pytest
from flask.testing import FlaskClient

from tests.visible import blemishes, simplified_only, visible_text

LANGS = ("zh-Hans", "zh-Hant", "en")
STATES = ("valid", "expired", "not_yet_valid", "suspended", "revoked")
#: What people typed: shown as typed in every language.
SHOP, HOLDER, BRANCH = "Lucky Corner Store", "Wang Wu", "Harbour Branch"
ALLOWED = (SHOP, HOLDER, BRANCH)


@pytest.fixture
def badges(app, make_branch, issue_badge, act, clock) -> dict[str, str]:
    """Return a badge id for every public state, all in one branch with ASCII names."""
    make_branch("B01", BRANCH)
    now = clock()
    made = {
        "valid": issue_badge(holder=HOLDER, shop_name=SHOP, hosts=("lucky.example.com",),
                             shop_url="https://lucky.example.com/", platform="independent"),
        "expired": issue_badge(holder=HOLDER, shop_name=SHOP, valid_from=now - timedelta(days=400),
                               valid_days=365),
        "not_yet_valid": issue_badge(holder=HOLDER, shop_name=SHOP, valid_from=now + timedelta(days=7)),
        "suspended": issue_badge(holder=HOLDER, shop_name=SHOP, platform="jd"),
        "revoked": issue_badge(holder=HOLDER, shop_name=SHOP, platform="pinduoduo"),
    }
    act("suspend", made["suspended"], note="investigating")
    act("revoke", made["revoked"], reason="misconduct", note="private")
    return made


def _read(client: FlaskClient, url: str, lang: str, **kwargs: Any) -> tuple[int, str, str]:
    method = kwargs.pop("method", "GET")
    sep = "&" if "?" in url else "?"
    response = client.open(f"{url}{sep}lang={lang}", method=method, **kwargs)
    html = response.get_data(as_text=True)
    text, attrs = visible_text(html, lang=lang)
    return response.status_code, text, attrs


def _assert_clean(text: str, attrs: str, lang: str, *, allowed: tuple[str, ...] = ALLOWED) -> None:
    problems = blemishes(text, lang=lang, allowed=allowed) + blemishes(attrs, lang=lang, allowed=allowed)
    assert problems == [], f"{lang}: {problems}\n---\n{text}"


@pytest.mark.parametrize("lang", LANGS)
@pytest.mark.parametrize("state", STATES)
def test_verify_page_reads_clean(client, badges, state, lang):
    status, text, attrs = _read(client, f"/v/{badges[state]}", lang)
    assert status == 200
    _assert_clean(text, attrs, lang)
    # The time of the check is a plain Beijing time, in the text and in <time datetime>.
    assert re.search(r"\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}", text)
    assert re.search(r"\b2026-11-25T10:00:00Z\b", attrs)


@pytest.mark.parametrize("lang", LANGS)
def test_verify_page_check_time_is_the_request_time_not_a_literal(client, badges, lang):
    response = client.get(f"/v/{badges['valid']}?lang={lang}")
    html = response.get_data(as_text=True)
    assert "b&#39;" not in html and "b'" not in html
    assert '<time datetime="2026-11-25T10:00:00Z">2026-11-25 18:00:00</time>' in html


@pytest.mark.parametrize("lang", LANGS)
def test_platform_names_follow_the_language(client, badges, lang):
    _status, text, _attrs = _read(client, f"/v/{badges['suspended']}", lang)
    expected = {"zh-Hans": "京东", "zh-Hant": "京東", "en": "JD.com"}[lang]
    assert expected in text


def test_english_revoked_page_labels_the_validity_period(client, badges):
    _status, text, _attrs = _read(client, f"/v/{badges['revoked']}", "en")
    assert "Revoked" in text
    assert "Validity period" in text
    assert not re.search(r"^Valid$", text, re.MULTILINE)


@pytest.mark.parametrize("lang", LANGS)
def test_unknown_badge_page_reads_clean(client, app, lang):
    status, text, attrs = _read(client, "/v/7K3M-9QX2-HT4B", lang)
    assert status == 404
    _assert_clean(text, attrs, lang, allowed=(*ALLOWED, "7K3M-9QX2-HT4B"))


@pytest.mark.parametrize("lang", LANGS)
def test_complaint_form_reads_clean(client, badges, lang):
    status, text, attrs = _read(client, f"/v/{badges['valid']}/complain", lang)
    assert status == 200
    _assert_clean(text, attrs, lang)


@pytest.mark.parametrize("lang", LANGS)
def test_refused_complaint_form_reads_clean(client, badges, lang):
    from tests.functional.complaints_support import csrf_token

    token = csrf_token(client, badges["valid"])
    status, text, attrs = _read(client, f"/v/{badges['valid']}/complain", lang, method="POST",
                                data={"csrf_token": token, "category": "", "description": "x"})
    assert status == 400
    _assert_clean(text, attrs, lang)


@pytest.mark.parametrize("lang", LANGS)
def test_tracking_page_reads_clean(client, badges, lang):
    from tests.functional.complaints_support import file_json, token_of

    url = file_json(client, badges["valid"], description="The hair dryer broke after a day.").get_json()
    status, text, attrs = _read(client, f"/c/{token_of(url['tracking_url'])}", lang)
    assert status == 200
    _assert_clean(text, attrs, lang, allowed=(*ALLOWED, "The hair dryer broke after a day."))


@pytest.mark.parametrize("lang", LANGS)
def test_apply_pages_read_clean(client, badges, lang):
    status, text, attrs = _read(client, "/apply", lang)
    assert status == 200
    _assert_clean(text, attrs, lang)
    token = re.search(r'name="csrf_token" value="([^"]+)"', client.get("/apply").get_data(as_text=True))
    assert token
    status, text, attrs = _read(client, "/apply", lang, method="POST", data={
        "csrf_token": token.group(1), "holder": "Li Si", "branch": "B01", "shop_name": "Li's Toys",
        "platform": "independent", "shop_url": "https://lis-toys.example.com", "contact": "13800000000"})
    assert status == 201
    _assert_clean(text, attrs, lang)
    link = re.search(r"/apply/status/[^\s<\"]+", text)
    assert link
    status, text, attrs = _read(client, link.group(0), lang)
    assert status == 200
    _assert_clean(text, attrs, lang, allowed=(*ALLOWED, "Li's Toys"))


@pytest.mark.parametrize("lang", LANGS)
def test_home_page_reads_clean(client, badges, lang):
    status, text, attrs = _read(client, "/", lang)
    assert status == 200
    _assert_clean(text, attrs, lang)


@pytest.mark.parametrize("lang", LANGS)
def test_picture_verify_pages_read_clean(client, badges, lang):
    status, text, attrs = _read(client, "/verify", lang)
    assert status == 200
    _assert_clean(text, attrs, lang)
    image = client.get(f"/v/{badges['revoked']}/badge.png").data
    page = client.get("/verify").get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert token
    status, text, attrs = _read(client, "/verify", lang, method="POST", content_type="multipart/form-data",
                                data={"csrf_token": token.group(1), "file": (io.BytesIO(image),
                                                                             "badge.png")})
    assert status == 200
    _assert_clean(text, attrs, lang)


@pytest.mark.parametrize("lang", LANGS)
@pytest.mark.parametrize("path", ["/no/such/page", "/v/XXXX"])
def test_error_pages_read_clean(client, app, lang, path):
    status, text, attrs = _read(client, path, lang)
    assert status in {400, 404}
    _assert_clean(text, attrs, lang, allowed=("XXXX",))


# -- the checks themselves catch what they are for ----------------------------------------------
@pytest.mark.parametrize(("text", "lang", "word"), [
    ("本次核验 b'2026-11-30 16:19:17' （北京时间）", "zh-Hans", "bytes literal"),
    ("Checked b\"2026-11-30\"", "en", "bytes literal"),
    ("店铺 {{ badge.shop.name }}", "zh-Hans", "template syntax"),
    ("经营者 None", "zh-Hans", "placeholder word"),
    ("Platform 京东", "en", "Chinese on the English page"),
    ("平台：京东", "zh-Hant", "Simplified characters"),
    ("错误：holder is required", "zh-Hans", "English on the Chinese page"),
])
def test_blemishes_are_caught(text, lang, word):
    assert any(word in problem for problem in blemishes(text, lang=lang))


def test_allowed_user_data_is_not_a_blemish():
    assert blemishes("Shop: 小明杂货 · Wang Wu", lang="en", allowed=("小明杂货",)) == []
    assert simplified_only("平臺 京東") == []


def test_hidden_and_other_language_text_is_not_read():
    html = ('<html lang="en"><head><title>t</title></head><body><nav><a lang="zh-Hans">简体</a></nav>'
            "<script>var x = '{{';</script><p hidden>None</p><p>Shown</p></body></html>")
    text, _attrs = visible_text(html)
    assert text == "Shown"
