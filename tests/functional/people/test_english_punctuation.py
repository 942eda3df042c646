"""English pages use English punctuation: every page the app serves, walked in English, shows no
full-width punctuation (``Reason：``, ``「Resolved」``, ``（Taobao）``) outside text in Chinese on
purpose (the parcel card is always Simplified Chinese, marked ``lang="zh-Hans"``)."""

from __future__ import annotations

import re
from html.parser import HTMLParser
from urllib.parse import urlsplit

import pytest

from tests.conftest import COMMITTEE
from tests.functional.admin.conftest import csrf_from
from tests.functional.route_walker import fill, make_world, rules
from verifier import context

FULL_WIDTH = re.compile("[：；，。！？（）「」『』【】、《》　]")
_SKIPPED = {"script", "style", "textarea"}
_ATTRIBUTES = ("alt", "title", "aria-label", "placeholder", "value")
_VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"}


class _Text(HTMLParser):
    """Collect what a reader sees (text and labelling attributes), skipping scripts and Chinese-on-purpose parts."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.stack: list[tuple[str, bool]] = []
        self.found: list[str] = []

    def _chinese(self) -> bool:
        return any(zh for _tag, zh in self.stack)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        zh = (values.get("lang") or "").startswith("zh") or tag in _SKIPPED
        if tag not in _VOID:
            self.stack.append((tag, zh))
        if not (zh or self._chinese()):
            for name in _ATTRIBUTES:
                if values.get(name) and not (name == "value" and values.get("type") in ("hidden", None)):
                    self.found.append(str(values[name]))

    def handle_endtag(self, tag: str) -> None:
        for i in range(len(self.stack) - 1, -1, -1):
            if self.stack[i][0] == tag:
                del self.stack[i:]
                return

    def handle_data(self, data: str) -> None:
        if data.strip() and not self._chinese():
            self.found.append(data.strip())


def _problems(body: str) -> list[str]:
    parser = _Text()
    parser.feed(body)
    return [t for t in parser.found if FULL_WIDTH.search(t)]


@pytest.fixture
def world(app, issue_badge, act, client):
    made = make_world(app, issue_badge)
    revoked = issue_badge(platform="taobao", shop_url="https://rev.taobao.com")
    act("revoke", revoked, reason="misconduct", note="note")
    suspended = issue_badge(platform="independent", shop_url="https://sus.example.com")
    act("suspend", suspended)
    filed = client.post(f"/api/v1/badges/{made.badge_id}/complaints",
                        json={"category": "refund", "description": "It broke after a day."}).get_json()
    with app.app_context():
        context.begin_write()
        complaint = context.complaint_service().by_tracking_number(filed["tracking_number"])
        context.complaint_service().change_state(complaint, status="in_progress", reply="We are checking.",
                                                 actor=COMMITTEE)
        context.session().commit()
    return made, revoked, suspended, filed


def _console(app):
    console = app.test_client()
    page = console.get("/admin/login").get_data(as_text=True)
    response = console.post("/admin/login", data={"username": "walker", "password": "correct-horse-battery-staple-9",
                                                  "csrf_token": csrf_from(page)})
    assert response.status_code == 302
    return console


def test_every_page_in_english_uses_english_punctuation(app, world, client):
    made, revoked, suspended, filed = world
    console = _console(app)
    paths = set()
    for rule in rules(app):
        if "GET" not in (rule.methods or ()):
            continue
        paths.add(fill(rule, made))
    for badge in (revoked, suspended):
        paths |= {f"/v/{badge}", f"/v/{badge}/kit", f"/v/{badge}/kit/cards", f"/v/{badge}/complain",
                  f"/admin/badges/{badge}"}
    paths |= {urlsplit(filed["tracking_url"]).path,
              f"/admin/complaints/{filed['tracking_number']}", f"/admin/badges/{made.badge_id}/act/revoke",
              "/v/7K3M-9QX2-HT4B", "/no-such-page", "/admin/badges?page=0"}
    seen, problems = 0, {}
    for path in sorted(paths):
        sep = "&" if "?" in path else "?"
        response = console.get(f"{path}{sep}lang=en", headers={"Accept-Language": "en"})
        if 300 <= response.status_code < 400 or response.mimetype != "text/html":
            continue
        seen += 1
        found = _problems(response.get_data(as_text=True))
        if found:
            problems[path] = found[:6]
    assert seen >= 30, seen
    assert problems == {}, "\n".join(f"{p}: {found}" for p, found in problems.items())
