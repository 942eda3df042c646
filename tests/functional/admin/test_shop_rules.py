"""The admin API's side of the shop rules: foreign hosts need an explicit boolean confirmation."""

from __future__ import annotations

SHOP = "https://wangwu.taobao.com/shop"


def test_the_api_needs_a_boolean_confirmation(client, make_branch, make_user, make_token):
    make_branch("B01")
    make_user("boss", "committee")
    token = make_token("boss")
    body = {"holder": "王五", "shop_name": "王五小店", "shop_url": SHOP, "platform": "taobao", "branch": "B01",
            "hosts": ["www.jd.com"]}
    headers = {"Authorization": f"Bearer {token}"}
    refused = client.post("/api/v1/admin/badges", json=body, headers=headers)
    assert refused.status_code == 400 and refused.get_json()["error"]["field"] == "hosts"
    assert client.post("/api/v1/admin/badges", json={**body, "confirm_foreign_hosts": "yes"},
                       headers=headers).status_code == 400
    assert client.post("/api/v1/admin/badges", json={**body, "confirm_foreign_hosts": True},
                       headers=headers).status_code == 201


def test_the_api_refuses_a_second_badge_for_a_shop_spelled_otherwise(client, make_branch, make_user, make_token):
    make_branch("B01")
    make_user("boss", "committee")
    headers = {"Authorization": f"Bearer {make_token('boss')}"}
    body = {"holder": "王五", "shop_name": "王五小店", "shop_url": SHOP, "platform": "taobao", "branch": "B01"}
    assert client.post("/api/v1/admin/badges", json=body, headers=headers).status_code == 201
    again = client.post("/api/v1/admin/badges", json={**body, "holder": "赵六", "shop_url": "HTTPS://WANGWU.TAOBAO.COM/shop/"},
                        headers=headers)
    assert again.status_code == 409
