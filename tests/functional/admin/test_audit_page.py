"""The console's audit log (issue 13 item 14): sentences, filters, branch scope, bad input, escaping."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from html import unescape

import pytest

from verifier import context
from verifier.audit.service import Actor, AuditLog

BADGE_A = "7K3M-9QX2-HT4B"
BADGE_B = "AB12-CD34-EF56"
SEC1 = Actor(name="王书记", role="branch", client="127.0.0.1", branch_code="B01")
SEC2 = Actor(name="李书记", role="branch", client="127.0.0.1", branch_code="B02")
BOSS = Actor(name="boss", role="committee", client="127.0.0.1")
EVIL = Actor(name="<script>alert(1)</script>", role="branch", client="127.0.0.1", branch_code="B01")


@pytest.fixture
def history(app, clock, make_branch, make_user):
    """Branch events on several local days; returns nothing (the log is the fixture)."""
    make_branch("B01")
    make_branch("B02", "第二支部")
    make_user("boss", "committee")
    make_user("sec1", "branch", "B01")
    make_user("sec2", "branch", "B02")
    events = [
        # 2026-11-27 18:02 in Shanghai
        (datetime(2026, 11, 27, 10, 2, tzinfo=UTC), SEC1, "revoke", BADGE_A, "B01",
         {"state": "revoked", "revocation_reason": "misconduct"}),
        # 2026-11-28 00:30 in Shanghai (still 11-27 in UTC)
        (datetime(2026, 11, 27, 16, 30, tzinfo=UTC), SEC2, "suspend", BADGE_B, "B02", {"state": "suspended"}),
        (datetime(2026, 11, 28, 2, 0, tzinfo=UTC), BOSS, "issue", BADGE_B, "B02", {"state": "active"}),
        (datetime(2026, 11, 29, 2, 0, tzinfo=UTC), SEC1, "frobnicate_widget", "thing-9", "B01", None),
        (datetime(2026, 11, 29, 3, 0, tzinfo=UTC), EVIL, "member_add", "member:9", "B01",
         {"name": "<b>黑店</b>", "groups": []}),
    ]
    with app.app_context():
        for at, actor, action, target, branch, after in events:
            clock.now = at
            context.begin_write()
            AuditLog(context.session(), clock=context.clock()).append(actor, action, target=target,
                                                                      branch_code=branch, after=after)
            context.session().commit()
    clock.now = datetime(2026, 11, 30, 4, 0, tzinfo=UTC)  # logins in the tests happen on the 30th


def _rows(page: str) -> list[str]:
    """The visible sentence of each event row, as a person reads it."""
    return [unescape(re.sub(r"<[^>]+>", "", m)).strip()
            for m in re.findall(r'<span class="audit-text">(.*?)</span>', page, re.S)]


def _get(client, query: str = "", status: int = 200) -> str:
    response = client.get(f"/admin/audit{query}")
    assert response.status_code == status, response.get_data(as_text=True)[:300]
    return response.get_data(as_text=True)


def test_sentence_in_chinese_with_local_time(history, login):
    page = _get(login("boss"), "?badge=" + BADGE_A)
    assert _rows(page) == ["王书记（支部管理员，B01）撤销了徽章 7K3M-9QX2-HT4B（原因：违规经营）"]
    assert "2026-11-27 18:02" in page
    assert "<details>" in page and '"revocation_reason": "misconduct"' in unescape(page)


def test_sentence_in_english(history, login):
    page = _get(login("boss"), "?badge=" + BADGE_A + "&lang=en")
    assert _rows(page) == ["王书记 (branch administrator, B01) revoked badge 7K3M-9QX2-HT4B (reason: Misconduct)"]


def test_unknown_action_shows_raw_code(history, login):
    page = _get(login("boss"), "?action=frobnicate_widget")
    assert _rows(page) == ["王书记（支部管理员，B01）执行了操作 frobnicate_widget（对象：thing-9）"]


def test_markup_in_names_is_text(history, login):
    page = _get(login("boss"), "?action=member_add")
    assert "<script>alert" not in page and "<b>黑店" not in page
    assert _rows(page) == ["<script>alert(1)</script>（支部管理员，B01）登记了成员 <b>黑店</b>"]


@pytest.mark.parametrize(("query", "expected"), [
    ("?badge=" + BADGE_B, 2),
    ("?badge=ab12cd34ef56", 2),              # any spelling: lower case, no dashes
    ("?badge=AB12 CD34 EF56", 2),
    ("?actor=%E7%8E%8B%E4%B9%A6%E8%AE%B0", 2),  # 王书记
    ("?action=suspend", 1),
    ("?from=2026-11-28&to=2026-11-29", 4),   # local dates: the 00:30 Shanghai suspension is on the 28th
    ("?to=2026-11-27", 3),                   # two branch_add events on the 25th, the revocation
    ("?from=2026-11-28&to=2026-11-28", 2),
    ("?badge=" + BADGE_B + "&action=issue", 1),
    ("?actor=boss&from=2026-11-29&to=2026-11-29", 0),
])
def test_each_filter_narrows(history, login, query, expected):
    page = _get(login("boss"), query)
    assert len(_rows(page)) == expected, _rows(page)
    assert ('id="audit-empty"' in page) == (expected == 0)


@pytest.mark.parametrize("query", ["", "?badge=" + BADGE_B, "?actor=%E6%9D%8E%E4%B9%A6%E8%AE%B0", "?action=suspend",
                                   "?from=2026-11-28&to=2026-11-28"])
def test_branch_admin_never_sees_other_branch(history, login, query):
    page = _get(login("sec1"), query)
    rows = _rows(page)
    assert all("李书记" not in row and "B02" not in row and BADGE_B not in row for row in rows)
    assert 'data-action="suspend"' not in page


@pytest.mark.parametrize(("query", "message"), [
    ("?from=2026-13-01", "起始日期不是有效日期"),
    ("?to=yesterday", "截止日期不是有效日期"),
    ("?from=2026-11-29&to=2026-11-28", "起始日期晚于截止日期"),
    ("?badge=NOT-A-BADGE", "徽章编号格式不正确"),
    ("?badge=7K3M-9QX2-HT4%C3%9F", "徽章编号格式不正确"),
    ("?action=%3Cscript%3E", "操作类型不正确"),
    ("?to=9999-12-31", None),
])
def test_bad_filter_is_a_clear_400(history, login, query, message):
    response = login("boss").get(f"/admin/audit{query}")
    if message is None:
        assert response.status_code == 200
        return
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert message in page and 'id="filter-error"' in page and "<script>" not in page


def test_bad_filter_message_in_english(history, login):
    page = _get(login("boss"), "?from=2026-02-30&lang=en", status=400)
    assert "is not a valid date" in page


def test_real_revocation_reads_in_words(org_for_audit, login, issue_badge):
    badge_id = issue_badge(branch="B01")
    page = _get(login("boss"), "?badge=" + badge_id.lower().replace("-", ""))
    assert _rows(page) == [f"tester（委员会管理员）签发了徽章 {badge_id}"]


@pytest.fixture
def org_for_audit(make_branch, make_user):
    make_branch("B01")
    make_user("boss", "committee")
