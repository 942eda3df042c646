"""Headless Chromium against a real ``liang serve``: log in, issue, suspend, reinstate, revoke; the public page follows."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.functional.admin.conftest import PASSWORD, make_user  # noqa: F401 - fixture

CHROMIUM = "/usr/bin/chromium"
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.browser,
    pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="needs /usr/bin/chromium (apt-get install chromium)"),
]


@pytest.fixture
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        chromium = pw.chromium.launch(executable_path=CHROMIUM, args=[
            "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
            "--disable-sync", "--no-first-run"])
        yield chromium
        chromium.close()


def _public_word(page, base: str, badge_id: str) -> str:
    page.goto(f"{base}/v/{badge_id}")
    return page.locator("h1.word").inner_text()


def _act(page, base: str, badge_id: str, action: str, **fields: str) -> None:
    page.goto(f"{base}/admin/badges/{badge_id}")
    page.click(f"#act-{action}")
    if "reason" in fields:
        page.select_option("#reason", fields["reason"])
    if "note" in fields:
        page.fill("#note", fields["note"])
    page.check("input[name=confirm]")
    page.click("#confirm-submit")
    page.wait_for_url(f"{base}/admin/badges/{badge_id}")


def test_console_lifecycle_in_chromium(make_user, make_branch, live_server, browser):  # noqa: F811
    make_branch("B01", "第一支部")
    make_user("boss", "committee")
    base = live_server.url
    context = browser.new_context(locale="zh-CN", viewport={"width": 1280, "height": 900})
    page = context.new_page()
    errors: list[str] = []
    page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)

    page.goto(f"{base}/admin/badges")
    assert "/admin/login" in page.url
    page.fill("#username", "boss")
    page.fill("#password", PASSWORD)
    page.click("main button[type=submit]")
    page.wait_for_url(f"{base}/admin/badges")

    page.goto(f"{base}/admin/badges/new")
    page.fill("#holder", "浏览器测试")
    page.fill("#shop_name", "浏览器小店")
    page.fill("#shop_url", "https://browser-test.taobao.com")
    page.select_option("#platform", "taobao")
    page.select_option("#branch", "B01")
    page.check("input[name=confirm]")
    page.click("main button[type=submit]")
    page.wait_for_url(f"{base}/admin/badges/*")
    badge_id = page.url.rsplit("/", 1)[1]
    assert len(badge_id) == 14

    viewer = context.new_page()
    assert _public_word(viewer, base, badge_id) == "有效"
    _act(page, base, badge_id, "suspend", note="投诉核查中")
    assert _public_word(viewer, base, badge_id) == "已暂停"
    _act(page, base, badge_id, "reinstate")
    assert _public_word(viewer, base, badge_id) == "有效"
    _act(page, base, badge_id, "revoke", reason="misconduct", note="私密备注")
    assert _public_word(viewer, base, badge_id) == "已撤销"
    assert "私密备注" not in viewer.content()

    page.goto(f"{base}/admin/")
    assert page.locator("svg.chart").count() == 3
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "admin-dashboard.png"), full_page=True)
    assert not [e for e in errors if "Content Security Policy" in e], errors
    context.close()
