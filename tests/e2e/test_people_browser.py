"""What people see, in real Chromium with only the fonts Debian gives it (Noto CJK): state icons that
draw, void printables of a withdrawn badge, a revoke form with no reason chosen, complaint handling
that asks and says saved, a receipt whose private link is a link, refusals inside the console, and
English pages in English punctuation (issue 24 items 1, 4–8, 10). Screenshots: test-artifacts/people/."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.test_public_pages_browser import (  # noqa: F401 - fixtures
    CHROMIUM,
    CHROMIUM_ARGS,
    LANGS,
    PHONE,
    ROOT,
    STATES,
    badges,
    browser,
    clock,
    live_port,
)
from tests.functional.admin.conftest import PASSWORD, make_user  # noqa: F401 - fixture

ARTIFACTS = ROOT / "test-artifacts" / "people"
GLYPHS = re.compile("[✓✔✕✖✗‖⌛⏳]")
FULL_WIDTH = re.compile("[：；，。！？（）「」『』【】、《》]")
LOCALES = {"zh-Hans": "zh-CN", "zh-Hant": "zh-TW", "en": "en-US"}

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.browser,
    pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="/usr/bin/chromium is not installed"),
]


def _shot(page: Any, name: str, **kwargs: Any) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), **kwargs)


def _visible_text(page: Any) -> str:
    return str(page.evaluate("() => document.body.innerText"))


def test_state_icons_draw_in_every_state_and_language(badges, live_server, browser):  # noqa: F811
    problems = []
    for lang in LANGS:
        context = browser.new_context(viewport=PHONE, locale=LOCALES[lang])
        page = context.new_page()
        for state in STATES:
            page.goto(f"{live_server.url}/v/{badges[state]}?lang={lang}")
            icon = page.locator(".status .icon svg")
            box = icon.bounding_box() if icon.count() == 1 else None
            if box is None or box["width"] < 20 or box["height"] < 20:
                problems.append(f"{state}/{lang}: no drawn icon ({box})")
            elif icon.get_attribute("data-icon") != state:
                problems.append(f"{state}/{lang}: icon {icon.get_attribute('data-icon')}")
            text = _visible_text(page)
            if GLYPHS.search(text):
                problems.append(f"{state}/{lang}: glyphs {GLYPHS.findall(text)}")
            if lang == "en" and FULL_WIDTH.search(text.replace("党员网商", "")):
                problems.append(f"{state}/{lang}: full-width punctuation {FULL_WIDTH.findall(text)}")
            _shot(page, f"verify-{state}-{lang}")
        page.goto(f"{live_server.url}/?lang={lang}")
        chips = page.locator(".legend-states svg")
        if chips.count() != 4 or any((chips.nth(i).bounding_box() or {}).get("width", 0) < 8 for i in range(4)):
            problems.append(f"home/{lang}: legend icons not drawn")
        _shot(page, f"home-legend-{lang}", full_page=True)
        context.close()
    assert problems == []


@pytest.mark.parametrize("state", ["revoked", "suspended", "expired", "valid"])
def test_printables_of_a_withdrawn_badge_are_void_on_screen_and_on_paper(badges, live_server, browser, state):  # noqa: F811
    context = browser.new_context(viewport={"width": 1000, "height": 1200}, locale="zh-CN")
    page = context.new_page()
    page.goto(f"{live_server.url}/v/{badges[state]}/kit")
    button = page.locator("button.print")
    assert button.is_visible()
    assert button.is_disabled() is (state != "valid")
    _shot(page, f"kit-{state}", full_page=True)
    page.emulate_media(media="print")
    if state == "valid":
        assert page.locator(".parcel-card").is_visible()
    else:
        assert not page.locator(".parcel-card").is_visible()
        assert page.locator(".print-void").is_visible() and "此徽章已" in page.locator(".print-void").inner_text()
    _shot(page, f"kit-{state}-print", full_page=True)
    page.emulate_media(media="screen")
    page.goto(f"{live_server.url}/v/{badges[state]}/kit/cards")
    cards = page.locator(".sheet .parcel-card")
    assert cards.count() == 4
    if state != "valid":
        assert all("此徽章已" in cards.nth(i).inner_text() for i in range(4))
    _shot(page, f"sheet-{state}", full_page=True)
    page.emulate_media(media="print")
    assert page.locator(".sheet").is_visible() is (state == "valid")
    if state != "valid":
        assert page.locator(".void-notice").is_visible()
    _shot(page, f"sheet-{state}-print", full_page=True)
    context.close()


def _login(page: Any, base: str, username: str) -> None:
    page.goto(f"{base}/admin/login")
    page.fill("#username", username)
    page.fill("#password", PASSWORD)
    page.click("main button[type=submit]")
    page.wait_for_load_state("load")


def test_console_asks_first_and_refuses_in_words(badges, live_server, browser, make_user, client):  # noqa: F811
    make_user("boss", "committee")
    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="zh-CN")
    page = context.new_page()
    _login(page, live_server.url, "boss")
    # Item 1: no reason chosen for the administrator; choosing none is refused beside the field.
    page.goto(f"{live_server.url}/admin/badges/{badges['valid']}/act/revoke")
    assert page.locator("#reason").input_value() == ""
    _shot(page, "revoke-form")
    page.check("input[name=confirm]")
    page.click("#confirm-submit")
    page.wait_for_load_state("load")
    assert "请选择撤销原因：原因将公开显示在核验页面上，且不能更改。" in page.locator("#reason-error").inner_text()
    assert page.locator("nav.console").count() == 1
    _shot(page, "revoke-refused")
    assert client.get(f"/api/v1/badges/{badges['valid']}").get_json()["status"] == "valid"
    # Item 10: a token revocation asks first (the browser will not send it unticked), then revokes.
    page.goto(f"{live_server.url}/admin/tokens")
    page.fill("#label", "script")
    page.click("form.card button[type=submit]")
    page.wait_for_load_state("load")
    row = page.locator("table tbody tr").first
    row.locator("button[type=submit]").click()
    assert page.url.endswith("/admin/tokens") and "已吊销" not in row.inner_text()
    _shot(page, "token-asks")
    row.locator("input[name=confirm]").check()
    row.locator("button[type=submit]").click()
    page.wait_for_load_state("load")
    assert "已吊销" in page.locator("table tbody tr").first.inner_text()
    # Item 10: the last committee account cannot be disabled; said on the users page, in words.
    page.goto(f"{live_server.url}/admin/users?lang=en")
    form = page.locator("#user-boss form")
    form.locator("select[name=op]").select_option("disable")
    form.locator("input[name=confirm]").check()
    form.locator("button[type=submit]").click()
    page.wait_for_load_state("load")
    assert page.locator("nav.console").count() == 1 and page.locator("#user-boss").count() == 1
    assert "last" in page.locator(".flash.errors").inner_text().lower()
    roles = page.locator("#user-boss td").nth(1).inner_text()
    assert roles == "committee administrator"
    _shot(page, "users-last-committee-en", full_page=True)
    context.close()


@pytest.mark.parametrize("lang", ["zh-Hans", "en"])
def test_complaint_receipt_link_and_handling(badges, live_server, browser, make_user, lang):  # noqa: F811
    make_user("sec", "committee")
    context = browser.new_context(viewport=PHONE, locale=LOCALES[lang])
    context.grant_permissions(["clipboard-read", "clipboard-write"], origin=live_server.url)
    page = context.new_page()
    page.goto(f"{live_server.url}/v/{badges['valid']}/complain?lang={lang}")
    page.select_option("select[name=category]", "quality")
    page.fill("textarea[name=description]", "The hair dryer broke after a day.")
    page.click("form.complaint-form button[type=submit]")
    page.wait_for_load_state("load")
    link = page.locator("a#tracking-link")
    href = link.get_attribute("href")
    assert href and "/c/" in href and link.inner_text() == href
    assert page.url == href  # the address bar shows the private link itself, not the receipt's address
    page.locator("button.copy-link").click()
    assert page.evaluate("() => navigator.clipboard.readText()") == href
    text = _visible_text(page)
    received = {"zh-Hans": "待受理", "en": "Received"}[lang]
    assert received in text and "已受理" not in text and "等待支部受理" not in text
    if lang == "en":
        assert not FULL_WIDTH.search(text), FULL_WIDTH.findall(text)
    _shot(page, f"receipt-{lang}", full_page=True)

    console = context.new_page()
    console.set_viewport_size({"width": 1280, "height": 900})
    _login(console, live_server.url, "sec")
    number = page.locator(".tracking-number").inner_text()
    console.goto(f"{live_server.url}/admin/complaints/{number}?lang={lang}")
    shown = _visible_text(console)
    assert "(active)" not in shown and "filed →" not in shown and badges["valid"] in shown
    _shot(console, f"complaint-console-{lang}", full_page=True)
    console.select_option("#status", "resolved")
    console.click("form.card button.primary")
    console.wait_for_load_state("load")
    assert console.locator("#reply-error").count() == 1 and console.locator("#confirm-error").count() == 1
    _shot(console, f"complaint-resolve-refused-{lang}", full_page=True)
    console.select_option("#status", "resolved")
    console.fill("#reply", "The shop refunded the order.")
    console.check("#confirm")
    console.click("form.card button.primary")
    console.wait_for_load_state("load")
    assert console.locator(".flash").count() == 1
    _shot(console, f"complaint-resolved-{lang}", full_page=True)
    page.goto(href)
    assert "The shop refunded the order." in _visible_text(page)
    _shot(page, f"tracking-resolved-{lang}", full_page=True)
    context.close()
