"""The widget and the verify pages in real headless Chromium against a real ``liang serve``."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import TEST_KEK, FrozenClock, LiveServer, free_port, start_server
from widget.snippets import widget_snippet

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.browser,
    pytest.mark.skipif(not Path("/usr/bin/chromium").exists(), reason="/usr/bin/chromium is not installed"),
]

ROOT = Path(__file__).resolve().parent.parent.parent
ARTIFACTS = ROOT / "test-artifacts"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run"]


@pytest.fixture
def clock() -> FrozenClock:
    """Issue at the real time: the live server checks validity with the real clock."""
    return FrozenClock(now=datetime.now(UTC).replace(microsecond=0))


@pytest.fixture
def live_port() -> int:
    return free_port()


@pytest.fixture
def app_config(app_config: dict[str, Any], live_port: int) -> dict[str, Any]:
    """Sign and encode URLs with the live server's own origin."""
    return {**app_config, "PUBLIC_URL": f"http://127.0.0.1:{live_port}"}


@pytest.fixture
def server(app, app_config: dict[str, Any], live_port: int) -> Iterator[LiveServer]:
    env = {
        "LIANG_INSTANCE_DIR": app_config["INSTANCE_DIR"],
        "LIANG_DATABASE_URL": app_config["DATABASE_URL"],
        "LIANG_KEY_ENCRYPTION_KEY": TEST_KEK,
        "LIANG_PUBLIC_URL": app_config["PUBLIC_URL"],
        "LIANG_LOG_FORMAT": "text",
    }
    live = _start_with_retry(env, live_port)
    yield live
    live.stop()


def _start_with_retry(env: dict[str, str], port: int, attempts: int = 3) -> LiveServer:
    """Start the server, retrying: on a loaded CI machine start-up can overrun start_server's 20 s."""
    for attempt in range(1, attempts + 1):
        try:
            return start_server(env, port=port)
        except RuntimeError:
            if attempt == attempts:
                raise
            time.sleep(1)
    raise AssertionError("unreachable")


class _Storefront(ThreadingHTTPServer):
    page: bytes = b""
    csp: str | None = None


class _ShopPage(BaseHTTPRequestHandler):
    server: _Storefront

    def do_GET(self) -> None:  # noqa: N802 - http.server's naming
        body = self.server.page if self.path in ("/", "/index.html") else b"not found"
        self.send_response(200 if self.path in ("/", "/index.html") else 404)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        if self.server.csp:
            self.send_header("Content-Security-Policy", self.server.csp)
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def storefront() -> Iterator[_Storefront]:
    """A shop's own page on a loopback port (reachable as localhost and 127.0.0.1)."""
    httpd = _Storefront(("127.0.0.1", 0), _ShopPage)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield httpd
    httpd.shutdown()
    httpd.server_close()


def shop_page(badge_id: str, public_url: str) -> bytes:
    snippet = widget_snippet(badge_id=badge_id, public_url=public_url)
    return (f"<!doctype html><html lang='zh-Hans'><head><meta charset='utf-8'><title>小明杂货</title></head>"
            f"<body><h1>小明杂货</h1><p>欢迎光临</p><footer>{snippet}</footer></body></html>").encode()


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        chromium = pw.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    context = browser.new_context(locale="zh-CN")
    yield context.new_page()
    context.close()


def _badge_box(page: Any) -> Any:
    # Playwright's CSS engine pierces open shadow roots.
    box = page.locator(".liang-badge-host [role=link]")
    box.wait_for(state="visible", timeout=10_000)
    return box


def test_bound_host_shows_live_badge_in_shadow_root(page, server, storefront, issue_badge):
    badge_id = issue_badge(shop_name="小明杂货", hosts=("localhost",))
    storefront.page = shop_page(badge_id, server.url)
    requests: list[str] = []
    page.on("request", lambda r: requests.append(r.url))
    page.goto(f"http://localhost:{storefront.server_port}/")
    box = _badge_box(page)
    assert box.get_attribute("data-state") == "valid"
    assert "有效" in box.inner_text()
    assert "小明杂货" in box.inner_text()
    assert "小明杂货" in box.get_attribute("aria-label")
    assert box.get_attribute("tabindex") == "0"
    in_shadow = page.evaluate("() => !!document.querySelector('.liang-badge-host').shadowRoot"
                              ".querySelector('[role=link]')")
    assert in_shadow
    # only the shop's page, the widget and our API: no third parties
    allowed = (f"http://localhost:{storefront.server_port}/", f"{server.url}/")
    assert requests and all(url.startswith(allowed) for url in requests), requests
    assert f"{server.url}/api/v1/badges/{badge_id}" in requests
    assert page.context.cookies() == []
    ARTIFACTS.mkdir(exist_ok=True)
    page.locator("footer").screenshot(path=str(ARTIFACTS / "widget-valid.png"))


def test_widget_is_styled_under_a_strict_shop_csp(page, server, storefront, issue_badge):
    badge_id = issue_badge(hosts=("localhost",))
    storefront.page = shop_page(badge_id, server.url)
    # A careful shop allows our script and API but no inline styles at all.
    storefront.csp = f"default-src 'self'; script-src {server.url}; connect-src {server.url}; style-src 'self'"
    violations: list[str] = []
    page.on("console", lambda m: violations.append(m.text) if "Content Security Policy" in m.text else None)
    page.goto(f"http://localhost:{storefront.server_port}/")
    box = _badge_box(page)
    assert box.get_attribute("data-state") == "valid"
    assert box.evaluate("el => getComputedStyle(el).display") == "inline-flex"  # the shadow sheet applied
    assert box.evaluate("el => getComputedStyle(el).backgroundColor") == "rgb(27, 122, 58)"  # docs/colours.md
    assert violations == []


def test_badge_opens_verify_page_by_click_enter_and_space(page, server, storefront, issue_badge):
    badge_id = issue_badge(hosts=("localhost",))
    storefront.page = shop_page(badge_id, server.url)
    page.goto(f"http://localhost:{storefront.server_port}/")
    box = _badge_box(page)
    verify_url = f"{server.url}/v/{badge_id}"
    for action in (box.click, lambda: (box.focus(), page.keyboard.press("Enter")),
                   lambda: (box.focus(), page.keyboard.press(" "))):
        with page.context.expect_page() as opened:
            action()
        popup = opened.value
        popup.wait_for_load_state()
        assert popup.url == verify_url
        popup.close()


def test_unbound_host_shows_warning(page, server, storefront, issue_badge):
    badge_id = issue_badge(shop_name="小明杂货", hosts=("localhost",))
    storefront.page = shop_page(badge_id, server.url)
    page.goto(f"http://127.0.0.1:{storefront.server_port}/")
    box = _badge_box(page)
    assert box.get_attribute("data-state") == "foreign"
    assert "此徽章不属于本店" in box.inner_text()
    assert "有效" not in box.inner_text()
    assert "此徽章不属于本店" in box.get_attribute("aria-label")
    ARTIFACTS.mkdir(exist_ok=True)
    page.locator("footer").screenshot(path=str(ARTIFACTS / "widget-foreign.png"))


def test_revoked_badge_shows_revoked_after_reload(page, server, storefront, issue_badge, act):
    badge_id = issue_badge(hosts=("localhost",))
    storefront.page = shop_page(badge_id, server.url)
    page.goto(f"http://localhost:{storefront.server_port}/")
    assert _badge_box(page).get_attribute("data-state") == "valid"
    act("revoke", badge_id, reason="misconduct")
    page.reload()
    box = _badge_box(page)
    assert box.get_attribute("data-state") == "revoked"
    assert "已撤销" in box.inner_text()


def test_without_javascript_it_is_the_plain_link(browser, server, storefront, issue_badge):
    badge_id = issue_badge(hosts=("localhost",))
    storefront.page = shop_page(badge_id, server.url)
    context = browser.new_context(java_script_enabled=False)
    try:
        page = context.new_page()
        page.goto(f"http://localhost:{storefront.server_port}/")
        link = page.locator("a.liang-badge")
        assert link.inner_text() == "党员网商 · 点击验证"
        assert link.get_attribute("href") == f"{server.url}/v/{badge_id}"
        assert link.is_visible()
        assert page.locator(".liang-badge-host").count() == 0
    finally:
        context.close()


def test_verify_pages_fit_a_phone(browser, server, issue_badge):
    badge_id = issue_badge(shop_name="小明杂货")
    ARTIFACTS.mkdir(exist_ok=True)
    context = browser.new_context(viewport={"width": 390, "height": 844}, device_scale_factor=2,
                                  is_mobile=True, has_touch=True, locale="zh-CN")
    try:
        page = context.new_page()
        errors: list[str] = []
        page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
        failed: list[str] = []
        page.on("response", lambda r: failed.append(r.url) if r.status >= 400 and "favicon" not in r.url else None)
        for path, name in ((f"/v/{badge_id}", "verify-page-phone.png"), ("/verify", "verify-upload-phone.png")):
            page.goto(f"{server.url}{path}")
            assert page.evaluate("() => document.documentElement.scrollWidth") <= 390, path
            page.screenshot(path=str(ARTIFACTS / name), full_page=True)
            assert (ARTIFACTS / name).stat().st_size > 10_000
        assert page.locator("input[type=file][capture=environment]").count() == 1
        assert failed == []
        assert [e for e in errors if "404" not in e] == []  # e.g. no CSP violations
    finally:
        context.close()


def test_verify_upload_page_answers_a_badge_image(browser, server, issue_badge, tmp_path):
    import requests

    badge_id = issue_badge(shop_name="小明杂货")
    picture = tmp_path / "badge.png"
    picture.write_bytes(requests.get(f"{server.url}/v/{badge_id}/badge.png?size=s", timeout=10).content)
    context = browser.new_context(viewport={"width": 390, "height": 844})
    try:
        page = context.new_page()
        page.goto(f"{server.url}/verify")
        with page.expect_navigation():
            page.set_input_files("#file-pick", str(picture))  # verify-upload.js submits on change
        assert page.locator(".result.status-valid").count() == 1
        assert "小明杂货" in page.locator("section.shop").inner_text()  # the shop, its hosts and the question
    finally:
        context.close()


def test_kit_prints_one_a6_parcel_card(browser, server, issue_badge):
    import re

    badge_id = issue_badge(shop_name="小明杂货")
    ARTIFACTS.mkdir(exist_ok=True)
    context = browser.new_context(viewport={"width": 1000, "height": 1200})
    try:
        page = context.new_page()
        page.goto(f"{server.url}/v/{badge_id}/kit")
        page.wait_for_load_state("networkidle")
        page.screenshot(path=str(ARTIFACTS / "kit-page.png"), full_page=True)
        assert page.locator("button.copy").first.is_visible()  # kit.js revealed the copy buttons
        page.emulate_media(media="print")
        assert page.locator("header.site").is_hidden()
        assert page.locator("section.no-print").first.is_hidden()
        assert page.locator(".parcel-card img.pc-qr").is_visible()
        assert "用手机扫描上方二维码" in page.locator(".parcel-card").inner_text()  # Chinese even in an en browser
        page.set_viewport_size({"width": 351, "height": 514})  # 93 x 136 mm: A6 less its margins
        assert page.evaluate("() => document.documentElement.scrollHeight") <= 514  # the card fits one page
        page.screenshot(path=str(ARTIFACTS / "parcel-card-print.png"))
        pdf = page.pdf(prefer_css_page_size=True, print_background=True)
        (ARTIFACTS / "parcel-card-a6.pdf").write_bytes(pdf)
        boxes = re.findall(rb"/MediaBox\s*\[\s*0 0 ([\d.]+) ([\d.]+)\s*\]", pdf)
        assert len(boxes) == 1, boxes  # exactly one page
        width, height = (float(v) for v in boxes[0])
        assert abs(width - 297.6) < 2 and abs(height - 419.5) < 2  # A6 in points
    finally:
        context.close()
