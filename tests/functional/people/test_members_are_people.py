"""Members are people: the demo, the import and the console make one member per person."""

from __future__ import annotations

import re
from collections import Counter

import pytest
from sqlalchemy import select

from verifier import context
from verifier.cli.demo import BADGES, load_demo
from verifier.storage.models import Member


@pytest.fixture
def demo(app):
    with app.app_context():
        context.begin_write()
        report = load_demo(public_url=app.config["PUBLIC_URL"])
        context.session().commit()
    return report


def test_demo_makes_one_member_per_person(app, demo):
    with app.app_context():
        names = Counter(context.session().execute(select(Member.name)).scalars())
    people = {holder for holder, *_rest in BADGES}
    assert set(names) == people
    assert [name for name, n in names.items() if n > 1] == []


def test_demo_dashboard_coverage_counts_people(app, demo, login):
    page = login("admin", demo["password"]).get("/admin/").get_data(as_text=True)
    # YW01: 王建国 (valid) and 陈静 (expired) → one of two members shows a valid badge.
    assert "1/2 · 50%" in page, re.findall(r"\d+/\d+ · \d+%", page)
    assert "1/4" not in page


def test_demo_group_picker_lists_each_person_once(app, demo, login):
    page = login("admin", demo["password"]).get("/admin/groups").get_data(as_text=True)
    select_html = re.search(r'<select id="member-for-\d+"[^>]*>(.*?)</select>', page, re.S)
    assert select_html, page[:2000]
    shown = re.findall(r"<option[^>]*>([^<]*)</option>", select_html.group(1))
    assert len(shown) == len(set(shown)) == len(BADGES), shown
