"""Every console page, walked by a logged-in administrator in real headless Chromium, passes axe-core.

No serious or critical violation on the dashboard, badge list, a badge's page, the issue form with
its errors shown, members, branches, groups, applications, complaints, the audit log, accounts and
the import preview (with rejected rows); the refused form also keeps what was typed and says why
beside the field, in the administrator's language. Screenshots go to test-artifacts/console/.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.test_public_pages_browser import AXE, CHROMIUM, CHROMIUM_ARGS, ROOT, browser  # noqa: F401 - fixture
from tests.functional.admin.conftest import PASSWORD, make_user  # noqa: F401 - fixture

ARTIFACTS = ROOT / "test-artifacts" / "console"

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.browser,
    pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="/usr/bin/chromium is not installed"),
    pytest.mark.skipif(not AXE.exists(), reason="axe-core missing: run `npm ci` in tests/e2e/js (scripts/test.sh does)"),
]

CSV = ("holder,shop_name,shop_url,platform,branch,valid_days\n"
       "甲,甲店,https://a.taobao.com,taobao,B01,365\n"
       ",,ftp://b,ebay,B99,x\n")


class _Console:
    """A logged-in administrator's browser tab that checks each page it is shown."""

    def __init__(self, chromium: Any, base: str) -> None:
        self.base = base
        self.context = chromium.new_context(locale="zh-CN", viewport={"width": 1280, "height": 900})
        # axe-core served as if from the console's own origin: the CSP (script-src 'self') stays on.
        self.context.route("**/__axe__/axe.min.js",
                           lambda route: route.fulfill(path=str(AXE), content_type="text/javascript"))
        self.page = self.context.new_page()
        self.problems: list[str] = []
        ARTIFACTS.mkdir(parents=True, exist_ok=True)

    def login(self, username: str) -> None:
        self.page.goto(f"{self.base}/admin/login")
        self.page.fill("#username", username)
        self.page.fill("#password", PASSWORD)
        self.page.click("main button[type=submit]")
        self.page.wait_for_load_state("load")

    def visit(self, name: str, path: str | None = None) -> None:
        if path is not None:
            self.page.goto(self.base + path)
        page = self.page
        page.wait_for_load_state("load")
        if page.locator("nav.console").count() != 1:
            self.problems.append(f"{name}: not inside the console (no navigation)")
        page.add_script_tag(url=f"{self.base}/__axe__/axe.min.js")
        result = page.evaluate("() => axe.run(document, {resultTypes: ['violations']})")
        for violation in result["violations"]:
            if violation["impact"] in {"serious", "critical"}:
                targets = [n["target"] for n in violation["nodes"]][:3]
                self.problems.append(f"{name}: axe {violation['id']} ({violation['impact']}) at {targets}")
        page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


def test_console_pages_pass_axe_in_chromium(make_user, make_branch, issue_badge, act, app, live_server,  # noqa: F811
                                            browser, tmp_path):  # noqa: F811
    make_branch("B01", "第一支部")
    make_user("boss", "committee")
    badge_id = issue_badge(branch="B01", holder="王小明", shop_url="https://xn--fiqs8s.example.com/%E5%BA%97")
    act("suspend", issue_badge(branch="B01", holder="李四", shop_url="https://li.taobao.com"), note="核查")
    console = _Console(browser, live_server.url)
    console.login("boss")
    console.visit("dashboard")
    for name, path in (("badges", "/admin/badges"), ("badge", f"/admin/badges/{badge_id}"),
                       ("members", "/admin/members"), ("member-new", "/admin/members/new"),
                       ("branches", "/admin/branches"), ("branch-edit", "/admin/branches/B01/edit"),
                       ("groups", "/admin/groups"),
                       ("applications", "/admin/applications"), ("complaints", "/admin/complaints"),
                       ("audit", "/admin/audit"), ("users", "/admin/users"), ("import", "/admin/import"),
                       ("confirm-revoke", f"/admin/badges/{badge_id}/act/revoke")):
        console.visit(name, path)

    page = console.page  # the issue form, refused: errors beside the fields, typed values kept
    page.goto(f"{live_server.url}/admin/badges/new")
    page.fill("#shop_name", "浏览器小店")
    page.fill("#shop_url", "https://shop.taobao.com")
    page.click("main button[type=submit]")
    page.wait_for_load_state("load")
    assert page.locator("#holder-error").inner_text() == "请填写经营者姓名。"
    assert page.locator("#confirm-error").inner_text() == "请勾选确认框后再提交。"
    assert page.input_value("#shop_name") == "浏览器小店"
    console.visit("badge-new-errors")

    csv_file = tmp_path / "rows.csv"
    csv_file.write_text(CSV, encoding="utf-8")
    page.goto(f"{live_server.url}/admin/import")
    page.set_input_files("#file", str(csv_file))
    page.click("main button[type=submit]")
    page.wait_for_load_state("load")
    reasons = page.locator("table.rejected tbody tr").all_inner_texts()
    assert len([r for r in reasons if r.startswith("3")]) >= 4, reasons  # every problem of line 3, not the first
    assert not any(re.search(r"[A-Za-z]{3,} [a-z]{3,}", r.split("\t")[-1]) for r in reasons), reasons
    console.visit("import-preview")
    console.context.close()
    assert console.problems == []
