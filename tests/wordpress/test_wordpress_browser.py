"""A shop owner installs the plugin on a real WordPress (Debian's package) and the badge stays honest.

One WordPress for the session (Debian's ``wordpress`` 6.1, PHP's built-in server, MariaDB; see
tests/wordpress/site.py), driven in Debian's Chromium as a shop owner would: download the zip from the
embed kit of a running ``liang serve``, upload and activate it in wp-admin, look at the storefront on a
phone and a desktop; then revoke the badge, stop the service and hang it, and look again.
Screenshots go to test-artifacts/wordpress/; with LIANG_UPDATE_DOCS_SCREENSHOTS=1 the install sequence
is also written (small) to docs/wordpress/ for docs/wordpress.md.
WooCommerce is not packaged in Debian: a stand-in must-use plugin (tests/wordpress/stand-ins/) fires
the WooCommerce action hooks the plugin uses.
"""

from __future__ import annotations

import os
import re
import socket
import time
import zipfile
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import requests

from tests.conftest import TEST_KEK, FrozenClock, LiveServer, free_port, start_server
from tests.wordpress import site as wp

ROOT = Path(__file__).resolve().parent.parent.parent
ARTIFACTS = ROOT / "test-artifacts" / "wordpress"
DOCS = ROOT / "docs" / "wordpress"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run"]
PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 800}
#: What WordPress prints for a PHP warning, notice or error when WP_DEBUG_DISPLAY is on.
PHP_TROUBLE = re.compile(r"<b>(Warning|Notice|Fatal error|Parse error)</b>:|\b(Warning|Notice): .* in /")

_MISSING = wp.missing_packages()
if _MISSING:
    print(f"\nskipping the real-WordPress test: Debian packages missing: {', '.join(_MISSING)} "
          "(scripts/test.sh installs them)")

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.browser,
    pytest.mark.slow,
    pytest.mark.skipif(bool(_MISSING), reason=f"Debian packages missing: {', '.join(_MISSING)} "
                                             "(scripts/test.sh installs them)"),
    pytest.mark.skipif(not Path("/usr/bin/chromium").exists(), reason="/usr/bin/chromium is not installed"),
]


@pytest.fixture(scope="session")
def wordpress(tmp_path_factory: pytest.TempPathFactory) -> Iterator[wp.WordPress]:
    """One real WordPress for the session (CPU is scarce: installing it costs a few seconds)."""
    site = wp.set_up(tmp_path_factory.mktemp("wordpress"))
    yield site
    wp.tear_down(site)


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
    env = {"LIANG_INSTANCE_DIR": app_config["INSTANCE_DIR"], "LIANG_DATABASE_URL": app_config["DATABASE_URL"],
           "LIANG_KEY_ENCRYPTION_KEY": TEST_KEK, "LIANG_PUBLIC_URL": app_config["PUBLIC_URL"],
           "LIANG_LOG_FORMAT": "text"}
    live = start_server(env, port=live_port)
    yield live
    live.stop()


@pytest.fixture
def browser() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        chromium = pw.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


def _shot(page: Any, name: str, *, docs: bool = False, full_page: bool = False) -> None:
    """Save a screenshot under test-artifacts/wordpress/ (and, when asked, a small copy for the docs)."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=full_page)
    if docs and os.environ.get("LIANG_UPDATE_DOCS_SCREENSHOTS") == "1":
        from PIL import Image

        DOCS.mkdir(parents=True, exist_ok=True)
        # Few colours, optimised: the committed pictures stay a few tens of kB.
        Image.open(path).convert("RGB").quantize(colors=64).save(DOCS / f"{name}.png", optimize=True)


def _storefront(site: wp.WordPress, path: str = "/") -> tuple[str, float]:
    start = time.monotonic()
    response = requests.get(site.url + path, timeout=30)
    elapsed = time.monotonic() - start
    assert response.status_code == 200, response.text[-1000:]
    assert not PHP_TROUBLE.search(response.text), PHP_TROUBLE.search(response.text)
    return response.text, elapsed


def _wait_for(check: Any, *, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.5)
    raise AssertionError(f"{what}: not within {timeout:.0f} s")


def _save_settings(page: Any, site: wp.WordPress, **fields: Any) -> None:
    page.goto(f"{site.url}/wp-admin/options-general.php?page=liangshenfen-badge")
    for name, value in fields.items():
        box = page.locator(f"input[name='liangshenfen_badge_options[{name}]']")
        if isinstance(value, bool):
            box.set_checked(value)
        else:
            box.fill(str(value))
    page.locator("#submit").click()
    page.wait_for_load_state()
    assert page.locator("#setting-error-settings_updated").count() == 1, page.content()[-2000:]


_POST_COLUMNS = ("post_author, post_date, post_date_gmt, post_content, post_title, post_excerpt, post_status, "
                 "post_name, to_ping, pinged, post_modified, post_modified_gmt, post_content_filtered, post_type")


def _add_post(site: wp.WordPress, content: str) -> int:
    """Publish a post with ``content`` straight into the database and return its id."""
    values = (f"1, NOW(), UTC_TIMESTAMP(), X'{content.encode().hex()}', 'Our badge', '', 'publish', 'our-badge', "
              "'', '', NOW(), UTC_TIMESTAMP(), '', 'post'")
    site.sql(f"INSERT INTO wp_posts ({_POST_COLUMNS}) VALUES ({values})")  # noqa: S608 - our own content, hex
    return int(site.sql("SELECT MAX(ID) FROM wp_posts WHERE post_name = 'our-badge'"))


def test_shop_owner_installs_the_plugin_and_the_badge_stays_honest(wordpress, server, browser, issue_badge, act,
                                                                    tmp_path):
    site = wordpress
    badge_id = issue_badge(shop_name="小明杂货", hosts=("127.0.0.1",))
    verify_url = f"{server.url}/v/{badge_id}"

    # 1. The embed kit offers the plugin; the shop owner downloads it.
    context = browser.new_context(locale="zh-CN", viewport={"width": 1024, "height": 760}, accept_downloads=True)
    page = context.new_page()
    page.goto(f"{server.url}/v/{badge_id}/kit")
    page.locator("#wordpress").scroll_into_view_if_needed()
    _shot(page, "01-kit-download", docs=True)
    with page.expect_download() as download_info:
        page.locator("#wordpress-download").click()
    plugin_zip = tmp_path / "liangshenfen-badge.zip"
    download_info.value.save_as(plugin_zip)
    assert download_info.value.suggested_filename == "liangshenfen-badge.zip"
    assert f"'{badge_id}'" in zipfile.ZipFile(plugin_zip).read("liangshenfen-badge/config.php").decode()
    context.close()

    # 2. wp-admin: log in, Plugins → Add New → Upload Plugin, Install Now, Activate.
    context = browser.new_context(locale="en-US", viewport={"width": 1024, "height": 760})
    page = context.new_page()
    page.goto(f"{site.url}/wp-login.php")
    page.fill("#user_login", wp.ADMIN_USER)
    page.fill("#user_pass", wp.ADMIN_PASSWORD)
    page.click("#wp-submit")
    page.wait_for_url(re.compile(r"/wp-admin/"))
    page.goto(f"{site.url}/wp-admin/plugin-install.php")
    page.locator(".upload-view-toggle").click()
    page.set_input_files("#pluginzip", str(plugin_zip))
    _shot(page, "02-upload", docs=True)
    page.click("#install-plugin-submit")
    page.wait_for_load_state()
    activate = page.locator("a.button-primary", has_text="Activate Plugin")
    activate.wait_for(timeout=30_000)
    _shot(page, "03-installed", docs=True)
    activate.click()
    page.wait_for_load_state()
    assert page.locator("tr[data-plugin='liangshenfen-badge/liangshenfen-badge.php'].active").count() == 1, page.content()[-3000:]
    # A valid badge on a bound host: nothing to warn about.
    assert page.locator(".liang-badge-notice").count() == 0
    _shot(page, "04-activated", docs=True)

    # 3. The storefront shows the live badge in the footer, linked to the verify page, on phone and desktop.
    html, _ = _storefront(site)
    assert f'href="{verify_url}"' in html and f'src="{verify_url}/badge.png?size=m"' in html
    for label, viewport in (("phone", PHONE), ("desktop", DESKTOP)):
        shop = browser.new_context(locale="zh-CN", viewport=viewport)
        shop_page = shop.new_page()
        shop_page.goto(site.url)
        image = shop_page.locator(f".liang-badge-footer a[href='{verify_url}'] img.liang-badge-image")
        image.scroll_into_view_if_needed()
        shop_page.wait_for_function("img => img.complete && img.naturalWidth > 0", arg=image.element_handle(),
                                    timeout=15_000)
        box = image.bounding_box()
        assert box is not None and box["width"] <= viewport["width"], (label, box)
        if label == "phone":
            assert box["width"] < 480  # scaled down from 480 px to fit the phone
        _shot(shop_page, f"05-storefront-{label}", docs=label == "phone")
        shop.close()
    assert requests.get(verify_url, timeout=10).status_code == 200

    # 4. Settings: the site is bound; a short cache; WooCommerce places on.
    page.goto(f"{site.url}/wp-admin/options-general.php?page=liangshenfen-badge")
    assert page.locator(".liang-badge-status[data-liang-state='valid']").count() == 1
    assert page.locator(".liang-badge-host-ok").count() == 1
    _shot(page, "06-settings", docs=True, full_page=True)
    _save_settings(page, site, ttl=5, product=True, cart=True, checkout=True)
    # A badge bound to another shop's host: the settings page and every wp-admin page say so plainly.
    foreign = issue_badge(shop_name="别家店", hosts=("shop.example",))
    _save_settings(page, site, badge_id=foreign.lower().replace("-", " "))
    warning = page.locator(".liang-badge-host-warning").inner_text()
    assert "127.0.0.1" in warning and "shop.example" in warning, warning
    assert page.locator(".liang-badge-notice[data-liang-state='unbound']").count() == 1
    assert page.locator("#liang-badge-id").input_value() == foreign  # normalised on saving
    _save_settings(page, site, badge_id=badge_id)
    assert page.locator(".liang-badge-host-ok").count() == 1

    # 5. WooCommerce's hooks (stand-in plugin): product, cart and checkout show the badge.
    for place in ("product", "cart", "checkout"):
        html, _ = _storefront(site, f"/?liang_wc={place}")
        assert re.search(rf'class="liang-badge liang-badge-{place}"><a href="{re.escape(verify_url)}"', html), place

    # 5a. The block is in the block editor without a build step (plain editor.js, server-side rendering).
    page.goto(f"{site.url}/wp-admin/post-new.php")
    page.wait_for_function("() => window.wp && wp.blocks && !!wp.blocks.getBlockType('liangshenfen/badge')",
                           timeout=60_000)
    assert page.evaluate("() => wp.blocks.getBlockType('liangshenfen/badge').title") == "Liangshenfen badge"

    # 5b. The shortcode and the block in a post, and the classic widget (stand-in page: the block theme has no sidebar).
    post_id = _add_post(site, '<p>[liang_badge size="s" style="link"]</p>\n'
                              '<!-- wp:liangshenfen/badge {"size":"s"} /-->')
    html, _ = _storefront(site, f"/?p={post_id}")
    assert re.search(rf'class="liang-badge liang-badge-shortcode"><a class="liang-badge-text" href="{re.escape(verify_url)}"',
                     html), html[-3000:]
    assert re.search(rf'class="liang-badge liang-badge-block"><a href="{re.escape(verify_url)}"[^>]*><img [^>]*'
                     rf'src="{re.escape(verify_url)}/badge.png\?size=s" width="320" height="200"', html)
    html, _ = _storefront(site, "/?liang_widget=1")
    assert "<h2>Verified shop</h2>" in html
    assert f'class="liang-badge liang-badge-widget"><a href="{verify_url}"' in html

    # 6. Revoked: after the cache's lifetime the storefront shows nothing of the badge; wp-admin says why.
    act("revoke", badge_id, reason="shop_closed")
    _wait_for(lambda: "liang-badge" not in _storefront(site)[0], timeout=5 + 10, what="badge gone after revocation")
    for path in ("/?liang_wc=product", "/?liang_wc=cart", "/?liang_wc=checkout", f"/?p={post_id}", "/?liang_widget=1"):
        assert "liang-badge" not in _storefront(site, path)[0], path
    page.goto(f"{site.url}/wp-admin/")
    notice = page.locator(".liang-badge-notice[data-liang-state='revoked']")
    assert "is revoked" in notice.inner_text()
    # In the shop owner's language: switch the admin to Simplified Chinese.
    site.sql("UPDATE wp_usermeta SET meta_value = 'zh_CN' WHERE user_id = 1 AND meta_key = 'locale'")
    page.goto(f"{site.url}/wp-admin/")
    notice = page.locator(".liang-badge-notice[data-liang-state='revoked']")
    assert "已撤销" in notice.inner_text()
    _shot(page, "07-revoked-notice", docs=True)

    # 7. Service stopped, nothing cached: the plain verify link, fast, no PHP warning.
    server.stop()
    time.sleep(6)  # the 5 s lifetime of the cached "revoked" answer
    html, elapsed = _storefront(site)
    assert f'<a class="liang-badge-text" href="{verify_url}"' in html
    assert "badge.png" not in html
    assert elapsed < 3 + 2, elapsed
    shop = browser.new_context(locale="zh-CN", viewport=PHONE)
    shop_page = shop.new_page()
    shop_page.goto(site.url)
    shop_page.locator(".liang-badge-footer a.liang-badge-text").scroll_into_view_if_needed()
    _shot(shop_page, "08-service-down-phone")
    shop.close()

    # 8. A service that accepts and never answers: the page still comes within the plugin's 3 s timeout.
    with socket.socket() as hung:
        hung.bind(("127.0.0.1", 0))
        hung.listen(16)
        hung_url = f"http://127.0.0.1:{hung.getsockname()[1]}"
        _save_settings(page, site, service_url=hung_url)  # the settings page asked it too, and waited
        time.sleep(6)  # past the 5 s for which that unanswered request is remembered
        html, elapsed = _storefront(site)
        assert f'<a class="liang-badge-text" href="{hung_url}/v/{badge_id}"' in html
        assert 2.5 <= elapsed < 3 + 4, elapsed

    # 9. Deactivate and delete: uninstall.php removes the settings and every cached state.
    stored = ("SELECT COUNT(*) FROM wp_options WHERE option_name LIKE 'liangshenfen\\_%' "
              "OR option_name LIKE '\\_transient\\_%liang\\_badge\\_%'")
    assert int(site.sql(stored)) >= 3  # options, cache key list, transients (with their timeouts)
    page.goto(f"{site.url}/wp-admin/plugins.php")
    row = page.locator("tr[data-plugin='liangshenfen-badge/liangshenfen-badge.php']")
    row.hover()  # row actions show on hover
    row.locator(".deactivate a").click()
    page.wait_for_load_state()
    row.hover()
    page.on("dialog", lambda dialog: dialog.accept())  # "Are you sure you want to delete…?"
    row.locator(".delete a").click()
    page.wait_for_load_state()
    if "action=delete-selected" in page.url:  # the confirmation page (when the click was not taken by script)
        page.locator("form input#submit").first.click()  # "Yes, delete these files and data"
        page.wait_for_load_state()
    _wait_for(lambda: not (site.root / "wp-content" / "plugins" / "liangshenfen-badge").exists(), timeout=30,
              what="plugin deleted")
    assert int(site.sql(stored)) == 0, site.sql(stored.replace("COUNT(*)", "option_name"))
    context.close()

    # 10. No warning or notice from the plugin anywhere in PHP's log.
    log = site.error_log.read_text(encoding="utf-8", errors="replace") if site.error_log.exists() else ""
    assert "liangshenfen-badge" not in log, log[-3000:]
