"""Shops compare by a normalised URL; bound hosts belong to the shop unless confirmed."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from signer.errors import Conflict, InvalidInput
from tests.conftest import COMMITTEE
from verifier import context
from verifier.badges.rules import IssueRequest
from verifier.badges.shops import display_url, is_own_host, is_public_name, shop_key, url_key
from verifier.storage.models import AuditEvent

SHOP = "https://wangwu.taobao.com/shop"
SITE = "https://shop.example.com/store"


@pytest.mark.parametrize("variant", [
    "https://shop.example.com/store/", "HTTPS://Shop.Example.COM/store", "https://shop.example.com:443/store",
    "https://shop.example.com/store#top", "https://shop.example.com/store//", " https://shop.example.com/store ",
    "http://shop.example.com/store", "http://shop.example.com:80/store", "https://www.shop.example.com/store",
    "https://shop.example.com./store", "https://shop.example.com/store?spm=a1z10.1-c.0.0",
    "https://shop.example.com/store?utm_source=wechat&utm_medium=share", "https://shop.example.com/%73tore",
    "https://shop.example.com/./store", "https://shop.example.com//store", "https://shop.example.com/store/index.html",
    "https://shop.example.com/x/../store", "https://shop.example.com/store/INDEX.HTM",
    "https://shop.example.com/store?", "https://shop.example.com/store?spm=1&fbclid=2&gclid=3",
])
def test_spellings_of_one_shop_share_a_key(variant):
    assert url_key(variant) == url_key(SITE)


@pytest.mark.parametrize("other", [
    "https://shop.example.com:8443/store", "https://shop.example.com/Store", "https://shop.example.com/store?id=2",
    "https://shop.example.com/store2", "https://shop.example.com/store/a", "https://shop.example.com.evil.com/store",
    "https://shop.examp1e.com/store", "https://example.com/store", "https://m.shop.example.com/store",
    "https://shop.example.com/store%2Fx", "https://shop.example.com/sto%2Fre",
    "https://shop.example.com/store?page=index.html",
])
def test_look_alikes_have_other_keys(other):
    assert url_key(other) != url_key(SITE)


def test_the_query_compares_as_parameters_not_as_their_order_or_escapes():
    assert url_key("https://a.example/s?b=2&a=%4d") == url_key("https://a.example/s?a=M&b=2")
    assert url_key("https://a.example/s?a=1") != url_key("https://a.example/s?a=2")


@pytest.mark.parametrize("variant", [
    "https://wangwu.taobao.com/", "http://wangwu.taobao.com", "https://WANGWU.taobao.com/shop?spm=a230r.7195193",
    "https://wangwu.taobao.com/category.htm", "https://wangwu.m.taobao.com/", "https://wangwu.taobao.com/index.htm",
])
def test_a_taobao_shop_is_its_sub_domain(variant):
    assert url_key(variant) == url_key(SHOP)


@pytest.mark.parametrize(("one", "same"), [
    ("https://shop123456.taobao.com/", "https://shop.m.taobao.com/shop/shop_index.htm?shop_id=123456"),
    ("https://shop123456.taobao.com/", "https://shop123456.m.taobao.com/?spm=x"),
    ("https://mall.jd.com/index-1000001.html", "https://shop.m.jd.com/?shopId=1000001"),
    ("https://mobile.yangkeduo.com/mall_page.html?mall_id=42", "https://mobile.yangkeduo.com/mall_page.html?mall_id=42&refer_page_name=x"),
    ("https://zhangsan.1688.com/", "https://zhangsan.1688.com/page/offerlist.htm"),
])
def test_a_marketplace_names_its_shop_in_one_part_of_the_url(one, same):
    assert url_key(one) == url_key(same)


@pytest.mark.parametrize(("one", "other"), [
    ("https://wangwu.taobao.com/", "https://lisi.taobao.com/"),
    ("https://wangwu.taobao.com/", "https://wangwu.tmall.com/"),
    ("https://shop123.taobao.com/", "https://shop1234.taobao.com/"),
    ("https://item.taobao.com/item.htm?id=1", "https://item.taobao.com/item.htm?id=2"),
    ("https://mall.jd.com/index-1.html", "https://mall.jd.com/index-2.html"),
    ("https://mobile.yangkeduo.com/mall_page.html?mall_id=1", "https://mobile.yangkeduo.com/mall_page.html?mall_id=2"),
    ("https://wangwu.taobao.com/", "https://wangwu.taobao.com.evil.example/"),
])
def test_marketplace_look_alikes_stay_apart(one, other):
    assert url_key(one) != url_key(other)


def test_taobao_and_tmall_are_one_platform_family_for_one_badge_per_shop():
    assert shop_key("tmall", SHOP) == shop_key("taobao", SHOP)
    assert shop_key("independent", SITE) == shop_key("other", SITE)
    assert shop_key("jd", SITE) != shop_key("taobao", SITE)
    assert shop_key("taobao", SHOP) != shop_key("taobao", "https://lisi.taobao.com/")


def test_an_internationalised_host_compares_in_its_uts46_form():
    assert url_key("https://例子.中国/店") == url_key("https://xn--fsqu00a.xn--fiqs8s/店/")
    assert url_key("https://例子。中国/%E5%BA%97") == url_key("https://xn--fsqu00a.xn--fiqs8s/店")
    assert url_key("https://faß.de/shop") == url_key("https://xn--fa-hia.de/shop")
    assert url_key("https://faß.de/shop") != url_key("https://fass.de/shop")


@pytest.mark.parametrize(("host", "public"), [
    ("shop.example.com", True), ("例子.中国", True), ("localhost", False), ("shop.localhost", False),
    ("127.0.0.1", False), ("10.0.0.8", False), ("::1", False), ("com", False), ("intranet", False),
    ("printer.local", False),
])
def test_public_names(host, public):
    assert is_public_name(host) is public


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
    ("https://faß.de/shop", "https://xn--fa-hia.de/shop"),  # UTS #46: the host a browser visits, not fass.de
])
def test_display_url_shows_the_host_in_punycode(stored, shown):
    assert display_url(stored) == shown
