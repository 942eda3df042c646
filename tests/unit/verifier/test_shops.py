"""Shops compare by a normalised URL; bound hosts belong to the shop unless confirmed."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from signer.errors import Conflict, InvalidInput
from tests.conftest import COMMITTEE
from verifier import context
from verifier.badges.rules import IssueRequest
from verifier.badges.shops import display_url, is_own_host, url_key
from verifier.storage.models import AuditEvent

SHOP = "https://wangwu.taobao.com/shop"


@pytest.mark.parametrize("variant", [
    "https://wangwu.taobao.com/shop/", "HTTPS://WangWu.TaoBao.com/shop", "https://wangwu.taobao.com:443/shop",
    "https://wangwu.taobao.com/shop#top", "https://wangwu.taobao.com/shop//", " https://wangwu.taobao.com/shop ",
])
def test_spellings_of_one_shop_share_a_key(variant):
    assert url_key(variant) == url_key(SHOP)


@pytest.mark.parametrize("other", [
    "http://wangwu.taobao.com/shop", "https://wangwu.taobao.com:8443/shop", "https://wangwu.taobao.com/Shop",
    "https://wangwu.taobao.com/shop?id=2", "https://lisi.taobao.com/shop",
])
def test_other_shops_have_other_keys(other):
    assert url_key(other) != url_key(SHOP)


def test_an_internationalised_host_compares_in_its_idna_form():
    assert url_key("https://例子.中国/店") == url_key("https://xn--fsqu00a.xn--fiqs8s/店/")


@pytest.mark.parametrize(("host", "own"), [
    ("wangwu.taobao.com", True), ("m.wangwu.taobao.com", True), ("www.wangwu.taobao.com", True),
    ("taobao.com", False), ("www.jd.com", False), ("evilwangwu.taobao.com", False),
])
def test_own_hosts_are_the_shop_host_and_its_subdomains(host, own):
    assert is_own_host(host, "wangwu.taobao.com") is own


def test_the_bare_host_of_a_www_shop_is_its_own():
    assert is_own_host("example.com", "www.example.com")


def _issue(app, url, *, holder="王五", hosts=None, confirm=False):
    with app.app_context():
        context.begin_write()
        badge = context.badge_service().issue(
            IssueRequest(holder, "王五小店", url, "taobao", "B01", None, hosts, confirm), actor=COMMITTEE)
        context.session().commit()
        return badge.id


@pytest.mark.parametrize("variant", ["https://wangwu.taobao.com/shop/", "https://WANGWU.taobao.com/shop"])
def test_a_second_badge_for_the_same_shop_is_refused_however_it_is_spelled(app, make_branch, variant):
    make_branch("B01")
    _issue(app, SHOP)
    with pytest.raises(Conflict, match="already has a badge"):
        _issue(app, variant, holder="另一个人")


def test_a_foreign_host_is_refused_without_confirmation(app, make_branch):
    make_branch("B01")
    with pytest.raises(InvalidInput, match=r"www\.jd\.com is not the shop URL's host") as info:
        _issue(app, SHOP, hosts=("wangwu.taobao.com", "www.jd.com"))
    assert info.value.field == "hosts"


def test_a_confirmed_foreign_host_is_bound_and_audited(app, make_branch):
    make_branch("B01")
    badge = _issue(app, SHOP, hosts=("wangwu.taobao.com", "www.jd.com"), confirm=True)
    with app.app_context():
        after = context.session().execute(
            select(AuditEvent.after).where(AuditEvent.action == "issue")).scalar_one()
        assert after["confirmed_foreign_hosts"] == ["www.jd.com"]
        assert context.badge_service().get(badge).shop.hosts == ["wangwu.taobao.com", "www.jd.com"]


@pytest.mark.parametrize(("stored", "shown"), [
    ("https://аррӏе.com/", "https://xn--80ak6aa92e.com/"),  # Cyrillic homograph of apple.com
    ("https://münchen.de:8443/店?id=1#top", "https://xn--mnchen-3ya.de:8443/店?id=1#top"),  # only the host changes
    ("https://WangWu.TaoBao.com/Shop?x=1", "https://WangWu.TaoBao.com/Shop?x=1"),  # ASCII: exactly as stored
])
def test_display_url_shows_the_host_in_punycode(stored, shown):
    assert display_url(stored) == shown
