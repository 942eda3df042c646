"""The console's new-badge form: a member number, and namesakes shown before a new member is created."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import func, select

from tests.functional.admin.conftest import post_form
from tests.visible import visible_text
from verifier import context
from verifier.storage.models import Badge, Member, Shop

FORM = {"holder": "王五", "shop_name": "王五小店", "platform": "taobao", "branch": "B01", "confirm": "yes"}
_n = iter(range(10_000))


@pytest.fixture
def console(make_user, make_branch, login):
    make_branch("B01", "第一支部")
    make_branch("B02", "第二支部")
    make_user("sec1", "branch", "B01")
    make_user("sec2", "branch", "B02")
    return login("sec1")


def _post(console, **extra):
    form = {**FORM, "shop_url": f"https://s{next(_n)}.taobao.com/", **extra}
    return post_form(console, "/admin/badges/new", form, page_url="/admin/badges/new")


def _counts(app):
    with app.app_context():
        s = context.session()
        return tuple(s.execute(select(func.count()).select_from(m)).scalar_one() for m in (Member, Shop, Badge))


def _members(app):
    with app.app_context():
        return context.session().execute(select(Member.id, Member.member_ref, Member.branch_id)
                                         .order_by(Member.id)).all()


def _radios(page):
    return re.findall(r'name="member" value="([^"]+)"', page)


def test_the_form_offers_a_member_number(console):
    page = console.get("/admin/badges/new").get_data(as_text=True)
    assert 'name="member_ref"' in page and "党员编号" in visible_text(page)[0]


def test_a_namesake_is_shown_before_a_new_member_is_created_and_the_form_is_kept(console, app):
    assert _post(console, member_ref="WS-1", shop_name="第一家店").status_code == 302
    before = _counts(app)
    again = _post(console, shop_url="https://kept.taobao.com/", valid_days="30", hosts="kept.taobao.com")
    page = again.get_data(as_text=True)
    assert again.status_code == 200
    text = visible_text(page)[0]
    assert "本支部已有同名党员" in text and "WS-1" in text and "第一家店" in text
    assert _radios(page) == [str(_members(app)[0].id), "new"]
    assert 'value="https://kept.taobao.com/"' in page and 'value="30"' in page and 'value="kept.taobao.com"' in page
    assert _counts(app) == before  # nothing issued until a choice is made


def test_issue_to_this_member_or_to_a_new_person(console, app):
    assert _post(console).status_code == 302
    first = _members(app)[0].id
    assert _post(console, member=str(first)).status_code == 302
    assert _counts(app) == (1, 2, 2)
    assert _post(console, member="new").status_code == 302
    assert _post(console, new_member="yes").status_code == 302
    assert _counts(app) == (3, 4, 4)
    assert len(_radios(_post(console).get_data(as_text=True))) == 4  # three namesakes and "a new person"


def test_a_known_member_number_needs_no_choice(console, app):
    assert _post(console, member_ref="WS-2").status_code == 302
    response = _post(console, member_ref="WS-2")
    assert response.status_code == 302
    assert [m.member_ref for m in _members(app)] == ["WS-2"]


def test_namesakes_of_another_branch_are_not_shown(make_user, login, console, app):
    sec2 = login("sec2")
    assert _post(sec2, branch="B02").status_code == 302
    assert _post(console).status_code == 302  # no 王五 in B01: issued at once, to a new member
    assert len(_members(app)) == 2


@pytest.mark.parametrize("choice", ["abc", "-1", "99999999999"])
def test_a_malformed_choice_is_400_and_nothing_changes(console, app, choice):
    _post(console)
    before = _counts(app)
    response = _post(console, member=choice)
    assert response.status_code == 400
    assert _counts(app) == before


def test_a_member_of_another_branch_or_unknown_is_refused(make_user, login, console, app):
    assert _post(login("sec2"), branch="B02").status_code == 302
    theirs = _members(app)[0].id
    before = _counts(app)
    assert _post(console, member=str(theirs)).status_code == 400
    assert _post(console, member="424242").status_code == 400
    assert _post(console, member=str(theirs), branch="B02").status_code == 403
    assert _counts(app) == before
