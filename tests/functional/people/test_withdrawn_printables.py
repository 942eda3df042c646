"""A withdrawn badge's printables say so on the sheet and cannot be printed as if valid (item 5)."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest

VOID = {"revoked": "此徽章已撤销：包裹卡片已作废，请勿打印或使用。",
        "suspended": "此徽章已暂停：暂停期间包裹卡片不能使用，请勿打印。",
        "expired": "此徽章已过期：包裹卡片已作废，续期后再打印。"}


@pytest.fixture
def states(issue_badge, act, clock):
    made = {"valid": issue_badge(), "expired": issue_badge(valid_days=1, valid_from=clock() - timedelta(days=5)),
            "not_yet_valid": issue_badge(valid_from=clock() + timedelta(days=5)),
            "suspended": issue_badge(), "revoked": issue_badge()}
    act("suspend", made["suspended"])
    act("revoke", made["revoked"], reason="shop_closed")
    return made


@pytest.mark.parametrize("state", ["revoked", "suspended", "expired"])
def test_withdrawn_sheet_says_void_on_every_card_and_prints_only_the_notice(client, states, state):
    page = client.get(f"/v/{states[state]}/kit/cards?lang=en").get_data(as_text=True)
    assert '<body class="kit-sheet withdrawn">' in page
    notice = re.search(r'<section class="void-notice" role="alert">(.*?)</section>', page, re.S)
    assert notice and VOID[state] in notice.group(1) and "no-print" not in notice.group(0)
    assert page.count('class="parcel-card void"') == 4 and page.count(VOID[state]) == 5
    css = client.get("/static/kit-sheet.css").get_data(as_text=True)
    assert "body.withdrawn .sheet{display:none!important}" in css


@pytest.mark.parametrize("state", ["revoked", "suspended", "expired"])
def test_withdrawn_kit_disables_the_print_button_and_its_card_is_void(client, states, state):
    page = client.get(f"/v/{states[state]}/kit").get_data(as_text=True)
    button = re.search(r'<button type="button" class="button primary print"[^>]*>', page).group(0)
    assert "disabled" in button and 'aria-describedby="print-void"' in button
    assert f'<p class="errors" id="print-void">{VOID[state]}</p>' in page
    assert 'class="parcel-card void"' in page and '<section class="print-void"' in page
    assert "打印 A4 纸：一张纸四张卡片" not in page


@pytest.mark.parametrize("state", ["valid", "not_yet_valid"])
def test_a_printable_badge_prints_as_before(client, states, state):
    page = client.get(f"/v/{states[state]}/kit").get_data(as_text=True)
    button = re.search(r'<button type="button" class="button primary print"[^>]*>', page).group(0)
    assert "disabled" not in button and "作废" not in page and "parcel-card void" not in page
    sheet = client.get(f"/v/{states[state]}/kit/cards").get_data(as_text=True)
    assert "withdrawn" not in sheet and "作废" not in sheet and sheet.count('class="parcel-card"') == 4
