"""A flood holds back the junk, never the genuine shopper after it (issue 24 D).

120 junk complaints from 4 addresses used to mark every later complaint "held for review"
and push the genuine one off the console's first page and the first 100 API items.
"""

from __future__ import annotations

from tests.functional.complaints_support import login, make_admin  # noqa: F401

API = "/api/v1/badges/{}/complaints"


def _file(client, badge_id: str, addr: str, description: str) -> str:
    response = client.post(API.format(badge_id), json={"category": "other", "description": description},
                           environ_base={"REMOTE_ADDR": addr})
    assert response.status_code == 201, response.get_data(as_text=True)
    return response.get_json()["tracking_number"]


def _listed(client, admin) -> list[dict]:
    body = client.get("/api/v1/admin/complaints", headers=admin.headers).get_json()
    return body["items"]


def test_the_shopper_after_a_flood_is_neither_held_nor_buried(client, issue_badge, make_admin,  # noqa: F811
                                                              clock):
    badge_id = issue_badge(branch="B01")
    # (The same words from one address within 10 minutes merge into one complaint: varied junk.)
    junk = [_file(client, badge_id, f"10.9.9.{i % 4 + 1}", f"垃圾投诉第 {i} 条") for i in range(120)]
    clock.advance(minutes=5)
    genuine = _file(client, badge_id, "10.8.8.8", "收到的商品是假货，要求退款")
    admin = make_admin("b01-flood", role="branch", branch="B01")
    items = _listed(client, admin)
    by_number = {c["tracking_number"]: c for c in items}
    assert genuine in by_number, "the genuine complaint is not on the first page of the API"
    assert by_number[genuine]["held_for_review"] is False
    # The junk is held: all but each address's first two.
    all_items = items + client.get("/api/v1/admin/complaints?page=2", headers=admin.headers).get_json()["items"] \
        + client.get("/api/v1/admin/complaints?page=3", headers=admin.headers).get_json()["items"]
    held = {c["tracking_number"] for c in all_items if c["held_for_review"]}
    assert len(held) == 120 - 4 * 2 and not held - set(junk)
    # The console: the genuine complaint on the first page, and the held ones in sight there too.
    login(client, admin)
    page = client.get("/admin/complaints").get_data(as_text=True)
    assert genuine in page
    assert "待复核：集中投诉" in page and "共 112 条" in page
    held_page = client.get("/admin/complaints?held=1").get_data(as_text=True)
    assert genuine not in held_page and any(number in held_page for number in held)


def test_copied_words_from_many_addresses_are_held_in_a_burst(client, issue_badge, make_admin):  # noqa: F811
    badge_id = issue_badge(branch="B01")
    copies = [_file(client, badge_id, f"10.7.{i // 200}.{i % 200 + 1}", "这家店 卖假货!!") for i in range(30)]
    own = _file(client, badge_id, "10.6.6.6", "我买的耳机没有声音")
    admin = make_admin("b01-copies", role="branch", branch="B01")
    items = {c["tracking_number"]: c["held_for_review"] for c in _listed(client, admin)}
    # The first 20 make the burst; from then on a copy of another sender's words is held.
    assert [items[n] for n in copies] == [False] * 20 + [True] * 10
    assert items[own] is False


def test_no_flood_holds_nothing(client, issue_badge, make_admin):  # noqa: F811
    badge_id = issue_badge(branch="B01")
    numbers = [_file(client, badge_id, f"10.5.5.{i + 1}", f"问题 {i}") for i in range(5)]
    numbers += [_file(client, badge_id, "10.5.5.1", "再补充一次")]
    admin = make_admin("b01-calm", role="branch", branch="B01")
    assert not any(c["held_for_review"] for c in _listed(client, admin) if c["tracking_number"] in numbers)
