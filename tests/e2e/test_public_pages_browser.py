"""Every public page, in every state and language, as a shopper sees it on a phone in real Chromium.

For each page: the text Chromium shows (visible elements only) must be free of blemishes
(tests/visible.py), axe-core must find no serious or critical violation, no CSP error may be
logged, and on the verify pages the complaint and 12315 buttons sit on the first screen of a
390×844 phone. Screenshots of each first screen go to test-artifacts/public/.
"""

from __future__ import annotations

import io
import re
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import requests

from tests.conftest import TEST_KEK, FrozenClock, LiveServer, free_port, start_server
from tests.visible import blemishes

CHROMIUM = "/usr/bin/chromium"
ROOT = Path(__file__).resolve().parent.parent.parent
AXE = ROOT / "tests" / "e2e" / "js" / "node_modules" / "axe-core" / "axe.min.js"
ARTIFACTS = ROOT / "test-artifacts" / "public"
PHONE = {"width": 390, "height": 844}
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run"]

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.browser,
    pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="/usr/bin/chromium is not installed"),
    pytest.mark.skipif(not AXE.exists(), reason="axe-core missing: run `npm ci` in tests/e2e/js (scripts/test.sh does)"),
]

LANGS = ("zh-Hans", "zh-Hant", "en")
STATES = ("valid", "expired", "not_yet_valid", "suspended", "revoked")
SHOP, HOLDER, BRANCH = "Lucky Corner Store", "Wang Wu", "Harbour Branch"
UNKNOWN = "7K3M-9QX2-HT4B"
ALLOWED = (SHOP, HOLDER, BRANCH, UNKNOWN, "The hair dryer broke after a day.", "lucky.example.com",
           "0579-8512 3456", "jubao@example.org")

#: Chromium's own reading of the page: text of rendered, visible elements, skipping subtrees in
#: another language on purpose (the language switcher).
_VISIBLE_TEXT_JS = """() => {
  const lang = document.documentElement.lang;
  const out = [];
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  for (let node = walker.nextNode(); node; node = walker.nextNode()) {
    const el = node.parentElement;
    if (!el || !node.textContent.trim()) continue;
    const other = el.closest('[lang]');
    if (other && other !== document.documentElement && other.lang !== lang) continue;
    if (!el.checkVisibility({opacityProperty: true, visibilityProperty: true})) continue;
    const box = el.getBoundingClientRect();
    if (box.right < 0 || box.bottom < 0) continue;  // moved off-screen (the honeypot)
    out.push(node.textContent.trim());
  }
  for (const el of document.querySelectorAll('[aria-label],[alt],[title],[placeholder],time[datetime]')) {
    for (const a of ['aria-label', 'alt', 'title', 'placeholder', 'datetime'])
      if (el.getAttribute(a)) out.push(el.getAttribute(a));
  }
  return [document.title, ...out].join('\\n');
}"""


@pytest.fixture
def clock() -> FrozenClock:
    """Issue at the real time: the live server checks validity with the real clock."""
    return FrozenClock(now=datetime.now(UTC).replace(microsecond=0))


@pytest.fixture
def live_port() -> int:
    return free_port()


@pytest.fixture
def app_config(app_config: dict[str, Any], live_port: int) -> dict[str, Any]:
    return {**app_config, "PUBLIC_URL": f"http://127.0.0.1:{live_port}"}


@pytest.fixture
def server(app, app_config: dict[str, Any], live_port: int) -> Iterator[LiveServer]:
    env = {
        "LIANG_INSTANCE_DIR": app_config["INSTANCE_DIR"],
        "LIANG_DATABASE_URL": app_config["DATABASE_URL"],
        "LIANG_KEY_ENCRYPTION_KEY": TEST_KEK,
        "LIANG_PUBLIC_URL": app_config["PUBLIC_URL"],
        "LIANG_LOG_FORMAT": "text",
        "LIANG_COMMITTEE_PHONE": "0579-8512 3456",
        "LIANG_COMMITTEE_EMAIL": "jubao@example.org",
    }
    for attempt in range(3):
        try:
            live = start_server(env, port=live_port)
            break
        except RuntimeError:
            if attempt == 2:
                raise
            time.sleep(1)
    yield live
    live.stop()


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        chromium = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def badges(app, make_branch, issue_badge, act, clock) -> dict[str, str]:
    make_branch("B01", BRANCH)
    now = clock()
    made = {
        "valid": issue_badge(holder=HOLDER, shop_name=SHOP, hosts=("lucky.example.com",),
                             shop_url="https://lucky.example.com/", platform="independent"),
        "expired": issue_badge(holder=HOLDER, shop_name=SHOP, valid_from=now - timedelta(days=400), valid_days=365),
        "not_yet_valid": issue_badge(holder=HOLDER, shop_name=SHOP, valid_from=now + timedelta(days=7)),
        "suspended": issue_badge(holder=HOLDER, shop_name=SHOP, platform="jd"),
        "revoked": issue_badge(holder=HOLDER, shop_name=SHOP, platform="pinduoduo"),
    }
    act("suspend", made["suspended"], note="investigating")
    act("revoke", made["revoked"], reason="misconduct", note="private")
    return made


class _Reader:
    """Visit pages on a phone, collecting every problem instead of stopping at the first."""

    def __init__(self, browser: Any, lang: str) -> None:
        self.lang = lang
        self.context = browser.new_context(viewport=PHONE, device_scale_factor=1, is_mobile=True, has_touch=True,
                                           locale={"zh-Hans": "zh-CN", "zh-Hant": "zh-TW", "en": "en-US"}[lang])
        # axe-core from node_modules, served as if from the page's own origin: the pages' CSP
        # (script-src 'self') stays on, so the check also sees any inline script or style.
        self.context.route("**/__axe__/axe.min.js",
                           lambda route: route.fulfill(path=str(AXE), content_type="text/javascript"))
        self.page = self.context.new_page()
        self.console: list[str] = []
        self.page.on("console", lambda msg: self.console.append(msg.text) if msg.type == "error" else None)
        self.problems: list[str] = []
        ARTIFACTS.mkdir(parents=True, exist_ok=True)

    def check(self, name: str, *, allowed: tuple[str, ...] = ALLOWED) -> str:
        """Check the page now shown; return its visible text."""
        page = self.page
        page.wait_for_load_state("load")
        text = page.evaluate(_VISIBLE_TEXT_JS)
        self.problems += [f"{name}: {p}" for p in blemishes(text, lang=self.lang, allowed=allowed)]
        origin = re.match(r"https?://[^/]+", page.url)
        assert origin, page.url
        page.add_script_tag(url=f"{origin.group(0)}/__axe__/axe.min.js")
        result = page.evaluate("() => axe.run(document, {resultTypes: ['violations']})")
        for violation in result["violations"]:
            if violation["impact"] in {"serious", "critical"}:
                targets = [n["target"] for n in violation["nodes"]][:3]
                self.problems.append(f"{name}: axe {violation['id']} ({violation['impact']}) at {targets}")
        if page.evaluate("document.documentElement.scrollWidth") > PHONE["width"]:
            self.problems.append(f"{name}: scrolls sideways on a phone")
        if page.locator("h1").count() < 1:
            self.problems.append(f"{name}: no <h1>")
        # The three language links sit on one line (the English brand once pushed "EN" under the others).
        tops = page.evaluate("[...document.querySelectorAll('header.site nav.lang a')].map(a => a.getBoundingClientRect().top)")
        if len(set(tops)) > 1:
            self.problems.append(f"{name}: the language switcher wraps onto {len(set(tops))} lines")
        csp = [c for c in self.console if "Content Security Policy" in c]
        if csp:
            self.problems.append(f"{name}: CSP errors {csp}")
        self.console.clear()
        page.screenshot(path=str(ARTIFACTS / f"{self.lang}-{name}.png"))
        return str(text)

    def above_the_fold(self, name: str, selector: str) -> None:
        box = self.page.locator(selector).first.bounding_box()
        if box is None or box["y"] + box["height"] > PHONE["height"]:
            self.problems.append(f"{name}: {selector} is not on the first screen ({box})")

    def close(self) -> None:
        self.context.close()


@pytest.mark.parametrize("lang", LANGS)
def test_every_public_page_reads_clean_and_passes_axe_on_a_phone(browser, server, badges, lang, tmp_path):
    reader = _Reader(browser, lang)
    page = reader.page
    base, q = server.url, f"?lang={lang}"
    try:
        logged = {"zh-Hans": "已记入公开日志", "zh-Hant": "已記入公開日誌", "en": "Recorded in the public log"}[lang]
        for state in STATES:
            page.goto(f"{base}/v/{badges[state]}{q}")
            text = reader.check(f"verify-{state}")
            if logged not in text:  # the transparency log's line, shown as Chromium renders it (issue 22)
                reader.problems.append(f"verify-{state}: no '{logged}' line")
            elif page.locator("dd.log a[href$='/log']").count() != 1:
                reader.problems.append(f"verify-{state}: the log line does not link to the proof")
            reader.above_the_fold(f"verify-{state}", "a[href*='/complain']")
            reader.above_the_fold(f"verify-{state}", "a[href='https://www.12315.cn/']")

        response = page.goto(f"{base}/v/{UNKNOWN}{q}")
        assert response is not None and response.status == 404
        reader.check("verify-unknown")
        reader.above_the_fold("verify-unknown", "a[href='https://www.12315.cn/']")

        page.goto(f"{base}/{q}")
        reader.check("home")
        page.fill("#lookup-id", badges["valid"].lower().replace("-", " "))
        page.click("form.lookup button[type=submit]")
        page.wait_for_url(re.compile(rf"/v/{badges['valid']}\?lang={lang}$"))

        # From the verify page to the complaint form: the language stays.
        page.goto(f"{base}/v/{badges['valid']}{q}")
        page.click("a[href*='/complain']")
        page.wait_for_url(re.compile(r"/complain\?lang="))
        reader.check("complain")
        page.select_option("select[name=category]", "quality")
        page.fill("textarea[name=description]", "The hair dryer broke after a day.")
        page.click("form.complaint-form button[type=submit]")
        page.wait_for_url(re.compile(rf"/c/[^/?]+\?filed=1&lang={lang}$"))
        reader.check("tracking-filed")
        page.goto(page.url.split("?", 1)[0] + q)
        reader.check("tracking")

        page.goto(f"{base}/apply{q}")
        reader.check("apply")

        page.goto(f"{base}/verify{q}")
        reader.check("verify-photo")
        image = requests.get(f"{base}/v/{badges['valid']}/badge.png", timeout=10).content
        picture = tmp_path / "badge.png"
        picture.write_bytes(image)
        page.set_input_files("#file-pick", str(picture))  # the page submits on choosing
        page.wait_for_selector("section.result")
        text = reader.check("verify-photo-result")
        if "lucky.example.com" not in text:
            reader.problems.append("verify-photo-result: bound hosts not shown")

        page.goto(f"{base}/no/such/page{q}")
        reader.check("error-404")
    finally:
        reader.close()
    assert reader.problems == [], "\n".join(reader.problems)


def test_complaint_keeps_what_was_typed_when_a_photo_is_too_big_without_javascript(browser, server, badges,
                                                                                    tmp_path):
    """No JavaScript (no downscaling): the server refuses the photo but gives the form back filled."""
    big = tmp_path / "huge.jpg"
    big.write_bytes(_noisy_jpeg((4000, 3000), quality=98, at_least=5 * 1024 * 1024 + 1))
    context = browser.new_context(viewport=PHONE, java_script_enabled=False)
    try:
        page = context.new_page()
        page.goto(f"{server.url}/v/{badges['valid']}/complain")
        page.select_option("select[name=category]", "counterfeit")
        page.fill("input[name=order_number]", "TB-1")
        page.fill("textarea[name=description]", "假货，和图片完全不一样。")
        page.set_input_files("input[name=evidence]", str(big))
        page.click("form.complaint-form button[type=submit]")
        page.wait_for_load_state("load")
        assert page.input_value("textarea[name=description]") == "假货，和图片完全不一样。"
        assert page.input_value("input[name=order_number]") == "TB-1"
        assert page.input_value("select[name=category]") == "counterfeit"
        assert "5 MB" in page.inner_text("[role=alert]")
    finally:
        context.close()


def test_complaint_photo_over_5_mb_is_downscaled_in_the_browser(browser, server, badges, tmp_path):
    big = tmp_path / "phone-photo.jpg"
    big.write_bytes(_noisy_jpeg((4000, 3000), quality=98, at_least=5 * 1024 * 1024 + 1))
    context = browser.new_context(viewport=PHONE)
    try:
        page = context.new_page()
        page.goto(f"{server.url}/v/{badges['valid']}/complain")
        page.select_option("select[name=category]", "quality")
        page.fill("textarea[name=description]", "图片很大的投诉。")
        page.set_input_files("input[name=evidence]", str(big))
        page.locator("input[name=evidence][data-ready='1']").wait_for(state="attached", timeout=30_000)
        assert "5 MB" in page.inner_text("#evidence-status")
        size = page.evaluate("document.querySelector('input[name=evidence]').files[0].size")
        assert size <= 5 * 1024 * 1024
        page.click("form.complaint-form button[type=submit]")
        page.wait_for_url(re.compile(r"/c/[^/]+\?filed=1"), timeout=30_000)
        assert "图片很大的投诉。" in page.inner_text("main")
    finally:
        context.close()


def _noisy_jpeg(size: tuple[int, int], *, quality: int, at_least: int) -> bytes:
    from PIL import Image

    image = Image.effect_noise(size, 120).convert("RGB")
    out = io.BytesIO()
    image.save(out, "JPEG", quality=quality)
    data = out.getvalue()
    assert len(data) >= at_least, len(data)
    return data


# -- the widget ------------------------------------------------------------------------------------
def _shop(snippet: str) -> tuple[Any, int]:
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    body = (f"<!doctype html><html lang='zh-Hans'><head><meta charset='utf-8'><title>店</title></head>"
            f"<body><h1>店</h1><footer>{snippet}</footer></body></html>").encode()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: Any) -> None:
            pass

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    return httpd, httpd.server_port


def _widget_state(browser: Any, server: LiveServer, badge_id: str, host: str = "localhost") -> tuple[str, str, str]:
    from widget.snippets import widget_snippet

    httpd, port = _shop(widget_snippet(badge_id=badge_id, public_url=server.url))
    context = browser.new_context()
    try:
        page = context.new_page()
        page.goto(f"http://{host}:{port}/")
        box = page.locator(".liang-badge-host [role=link]")
        box.wait_for(state="visible", timeout=10_000)
        colour = box.evaluate("el => getComputedStyle(el).backgroundColor")
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        page.locator("footer").screenshot(path=str(ARTIFACTS / f"widget-{box.get_attribute('data-state')}.png"))
        return str(box.get_attribute("data-state")), box.inner_text(), str(colour)
    finally:
        context.close()
        httpd.shutdown()
        httpd.server_close()


def test_widget_with_an_unknown_id_warns_of_a_counterfeit(browser, server, app):
    state, text, colour = _widget_state(browser, server, UNKNOWN)
    assert state == "unknown"
    assert "没有这枚徽章" in text and "伪造" in text
    assert colour == "rgb(165, 29, 29)"  # the revoked red: a danger


def test_widget_valid_and_foreign_are_different_colours(browser, server, issue_badge):
    badge_id = issue_badge(hosts=("localhost",))
    valid = _widget_state(browser, server, badge_id, "localhost")
    foreign = _widget_state(browser, server, badge_id, "127.0.0.1")
    assert valid[0] == "valid" and foreign[0] == "foreign"
    assert valid[2] == "rgb(27, 122, 58)" and foreign[2] == "rgb(165, 29, 29)"
