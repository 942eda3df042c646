"""A shopper on a phone files a complaint with a photo in real Chromium against a real server."""

from __future__ import annotations

import os
import re

import pytest

from tests.functional.complaints_support import jpeg_with_gps

CHROMIUM = "/usr/bin/chromium"

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.browser,
    pytest.mark.skipif(not os.path.exists(CHROMIUM), reason="/usr/bin/chromium is not installed"),
]


def test_shopper_files_a_complaint_from_the_verify_page(live_server, issue_badge, tmp_path):
    from playwright.sync_api import sync_playwright

    badge_id = issue_badge(shop_name="义乌小家电")
    photo = tmp_path / "broken.jpg"
    photo.write_bytes(jpeg_with_gps((320, 240)))
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=[
            "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
            "--disable-sync", "--no-first-run"])
        try:
            context = browser.new_context(viewport={"width": 375, "height": 740}, locale="zh-CN",
                                          is_mobile=True, has_touch=True)
            page = context.new_page()
            errors: list[str] = []
            page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
            page.goto(f"{live_server.url}/v/{badge_id}")
            page.click("text=投诉这家店")
            page.wait_for_url(re.compile(r"/complain$"))
            box = page.locator("input[name=website]").bounding_box()
            assert box is None or box["x"] + box["width"] < 0  # honeypot moved off-screen by CSS
            assert page.evaluate("document.documentElement.scrollWidth") <= 375  # no sideways scrolling
            page.select_option("select[name=category]", "refund")
            page.fill("input[name=order_number]", "TB-20261125-01")
            page.fill("textarea[name=description]", "吹风机用了一天就坏了，<b>店家</b>拒绝退货。")
            page.fill("input[name=contact]", "13800000000")
            page.set_input_files("input[name=evidence]", str(photo))
            page.click("button[type=submit]")
            page.wait_for_url(re.compile(r"/c/[^/]+\?filed=1$"))
            text = page.inner_text("main")
            assert "投诉已提交" in text and "待受理" in text
            assert re.search(r"TS-\d{8}-[0-9A-Z]{5}", text)
            assert "吹风机用了一天就坏了，<b>店家</b>拒绝退货。" in text  # markup shown as text
            assert "13800000000" not in page.content() and "TB-20261125-01" not in page.content()
            assert page.locator("a[href='https://www.12315.cn/']").count() == 1
            # no horizontal scrolling on a phone
            assert page.evaluate("document.documentElement.scrollWidth") <= 375
            assert not [e for e in errors if "Content Security Policy" in e]
        finally:
            browser.close()
