"""The public verification page and JSON API read the live record."""

from __future__ import annotations

import pytest

from signer.credentials import parse_jws
from signer.statuslist import decode_bits, get_bit


def test_status_json_has_contract_fields(client, issue_badge):
    badge_id = issue_badge(shop_name="小明杂货", hosts=("shop1.taobao.com",))
    body = client.get(f"/api/v1/badges/{badge_id}").get_json()
    assert set(body) == {"id", "status", "checked_at", "holder", "shop", "branch", "valid_from", "valid_until",
                         "revocation", "verify_url", "complaint_url", "credential", "log"}
    assert body["id"] == badge_id
    assert isinstance(body["log"]["index"], int)
    assert body["log"]["proof_url"] == f"http://127.0.0.1:8000/api/v1/badges/{badge_id}/log"
    assert body["status"] == "valid"
    assert body["checked_at"] == "2026-11-25T10:00:00Z"
    assert body["shop"]["hosts"] == ["shop1.taobao.com"]
    assert body["verify_url"] == f"http://127.0.0.1:8000/v/{badge_id}"
    assert body["complaint_url"] == f"http://127.0.0.1:8000/v/{badge_id}/complain"
    assert body["revocation"] is None


@pytest.mark.parametrize("transform", [
    lambda i: i.lower(),
    lambda i: i.replace("-", ""),
    lambda i: i.replace("-", " "),
    lambda i: i.replace("1", "I").replace("0", "O"),
    lambda i: i.replace("1", "l").replace("0", "o"),
])
def test_ids_accepted_in_any_form(client, issue_badge, transform):
    badge_id = issue_badge()
    # make sure the confusable variants actually change something in at least one run
    response = client.get(f"/api/v1/badges/{transform(badge_id)}")
    assert response.status_code == 200
    assert response.get_json()["id"] == badge_id


def test_unknown_id_is_404_not_found(client, app):
    response = client.get("/api/v1/badges/7K3M-9QX2-HT4B")
    assert response.status_code == 404
    assert response.get_json()["error"]["code"] == "not_found"


@pytest.mark.parametrize("raw", ["XXXX", "7K3M-9QX2-HT4", "7K3M-9QX2-HT4BB", "UUUU-UUUU-UUUU", "%00" * 3, "A" * 500])
def test_malformed_id_is_400(client, app, raw):
    response = client.get(f"/api/v1/badges/{raw}")
    assert response.status_code == 400
    assert response.get_json()["error"]["code"] == "malformed_id"


def test_revocation_shows_at_once_everywhere(client, issue_badge, act, app):
    badge_id = issue_badge()
    assert "有效" in client.get(f"/v/{badge_id}").get_data(as_text=True)
    act("revoke", badge_id, reason="misconduct", note="SECRET-NOTE-123")
    page = client.get(f"/v/{badge_id}").get_data(as_text=True)
    assert "已撤销" in page and "违规经营" in page
    body = client.get(f"/api/v1/badges/{badge_id}").get_json()
    assert body["status"] == "revoked"
    assert body["revocation"] == {"reason": "misconduct", "at": "2026-11-25T10:00:00Z"}
    # the private note appears nowhere public
    for path in (f"/v/{badge_id}", f"/api/v1/badges/{badge_id}", "/.well-known/jwks.json"):
        assert "SECRET-NOTE-123" not in client.get(path).get_data(as_text=True)
    # the bit is set in the revocation list, and in the list credentialStatus names (what standard verifiers read)
    payload = parse_jws(body["credential"]).payload
    assert payload["revocationStatus"]["statusPurpose"] == "revocation"
    for entry in (payload["revocationStatus"], payload["credentialStatus"]):
        list_path = entry["statusListCredential"].removeprefix("http://127.0.0.1:8000")
        status_list = client.get(list_path)
        assert "SECRET-NOTE-123" not in status_list.get_data(as_text=True)
        bits = decode_bits(parse_jws(status_list.get_data(as_text=True)).payload["credentialSubject"]["encodedList"])
        assert get_bit(bits, int(entry["statusListIndex"])) is True


@pytest.mark.parametrize("state_change,word,status", [
    (("suspend", {}), "已暂停", "suspended"),
    (("revoke", {"reason": "shop_closed"}), "已撤销", "revoked"),
])
def test_page_state_words(client, issue_badge, act, state_change, word, status):
    badge_id = issue_badge()
    method, kwargs = state_change
    act(method, badge_id, **kwargs)
    page = client.get(f"/v/{badge_id}").get_data(as_text=True)
    assert word in page
    assert f"status-{status}" in page


def test_expired_and_not_yet_valid_follow_the_clock(client, issue_badge, clock):
    badge_id = issue_badge(valid_days=10)
    clock.advance(days=11)
    assert client.get(f"/api/v1/badges/{badge_id}").get_json()["status"] == "expired"
    assert "已过期" in client.get(f"/v/{badge_id}").get_data(as_text=True)
    future = issue_badge(valid_from=clock.now.replace(year=2027))
    assert client.get(f"/api/v1/badges/{future}").get_json()["status"] == "not_yet_valid"
    assert "尚未生效" in client.get(f"/v/{future}").get_data(as_text=True)


def test_verify_page_shows_what_a_shopper_needs(client, issue_badge):
    badge_id = issue_badge(shop_name="建国饰品", hosts=("jianguo.taobao.com", "m.jianguo.taobao.com"))
    page = client.get(f"/v/{badge_id}").get_data(as_text=True)
    for needle in ("建国饰品", "淘宝", "jianguo.taobao.com", "m.jianguo.taobao.com", "第一支部" if False else "B01支部",
                   "2026-11-25 18:00:00", "北京时间", "127.0.0.1:8000", f"/v/{badge_id}/complain",
                   "https://www.12315.cn/", "您现在是否正在这家店购物"):
        assert needle in page, needle
    assert "<script" not in page  # works without JavaScript


def test_homograph_shop_url_is_shown_in_punycode_like_its_bound_host(client, issue_badge):
    """``https://аррӏе.com/`` (Cyrillic letters) showed as a familiar brand beside a punycode bound host (issue 14, item 17)."""
    import re
    from html import unescape

    badge_id = issue_badge(shop_url="https://аррӏе.com/shop?id=7", platform="independent")
    page = client.get(f"/v/{badge_id}").get_data(as_text=True)
    shown = unescape(re.search(r'<dd class="url">(.*?)</dd>', page).group(1))
    # xn--80ak6aa92e.com is the well-known punycode of this homograph (Zheng, 2017).
    assert shown == "https://xn--80ak6aa92e.com/shop?id=7"
    assert "<code>xn--80ak6aa92e.com</code>" in page  # the bound host, shown the same way
    assert "аррӏе" not in page
    assert client.get(f"/api/v1/badges/{badge_id}").get_json()["shop"]["url"] == "https://аррӏе.com/shop?id=7"  # as stored



@pytest.mark.parametrize("query,header,expected", [
    ("", None, "有效"),
    ("?lang=zh-Hant", None, "有效"),
    ("?lang=en", None, "Valid"),
    ("", "en-US,en;q=0.9", "Valid"),
    ("", "zh-TW,zh;q=0.9", "有效"),
])
def test_languages(client, issue_badge, query, header, expected):
    badge_id = issue_badge()
    headers = {"Accept-Language": header} if header else {}
    page = client.get(f"/v/{badge_id}{query}", headers=headers).get_data(as_text=True)
    assert expected in page


def test_traditional_chinese_differs_from_simplified(client, issue_badge):
    badge_id = issue_badge()
    hans = client.get(f"/v/{badge_id}?lang=zh-Hans").get_data(as_text=True)
    hant = client.get(f"/v/{badge_id}?lang=zh-Hant").get_data(as_text=True)
    assert "投诉这家店" in hans
    assert "投訴這家店" in hant
    assert 'lang="zh-Hant"' in hant


def test_pending_badge_is_not_public(client, app, make_branch):
    from signer.ids import format_badge_id
    from signer.lifecycle import State
    from tests.conftest import COMMITTEE
    from verifier import context
    from verifier.badges.service import IssueRequest

    make_branch()
    with app.app_context():
        context.begin_write()
        badge = context.badge_service().issue(
            IssueRequest("申请人", "申请店", "https://apply.taobao.com", "taobao", "B01"),
            actor=COMMITTEE, state=State.PENDING)
        context.session().commit()
        badge_id = format_badge_id(badge.id)
    assert client.get(f"/v/{badge_id}").status_code == 404
    assert client.get(f"/api/v1/badges/{badge_id}").status_code == 404


def test_healthz(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.get_json() == {"status": "ok"}


def test_jwks_never_has_private_parts(client, app):
    keys = client.get("/.well-known/jwks.json").get_json()["keys"]
    # one key, under its thumbprint and under the kid URL credentials name it by
    assert [k["kid"] for k in keys] == [keys[0]["kid"], f"http://127.0.0.1:8000/keys/{keys[0]['kid']}"]
    assert all(k["kty"] == "OKP" and k["crv"] == "Ed25519" and "d" not in k for k in keys)


def test_api_cors_open_for_get(client, issue_badge):
    badge_id = issue_badge()
    assert client.get(f"/api/v1/badges/{badge_id}").headers["Access-Control-Allow-Origin"] == "*"
    assert "Access-Control-Allow-Origin" not in client.get(f"/v/{badge_id}").headers


def test_every_platform_has_a_display_name():
    from verifier.badges.platforms import PLATFORM_NAMES
    from verifier.badges.service import PLATFORMS

    assert set(PLATFORM_NAMES) == set(PLATFORMS)
