"""A member is a person, not a name: BadgeService.issue picks members by id or member number, never by name."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from signer.errors import InvalidInput
from signer.ids import parse_badge_id
from tests.conftest import COMMITTEE
from verifier import context
from verifier.badges.rules import IssueRequest
from verifier.storage.models import Badge, Member, Shop


@pytest.fixture
def branches(make_branch):
    make_branch("B01", "第一支部")
    make_branch("B02", "第二支部")


def _issue(app, holder="王五", url=None, branch="B01", **kw):
    url = url or f"https://s{_issue.n}.taobao.com/"
    _issue.n += 1
    with app.app_context():
        context.begin_write()
        badge = context.badge_service().issue(IssueRequest(holder, "店", url, "taobao", branch, **kw), actor=COMMITTEE)
        context.session().commit()
        return badge.id, badge.shop.member_id


_issue.n = 0


def _members(app):
    with app.app_context():
        return context.session().execute(select(Member.id, Member.name, Member.member_ref, Member.branch_id)
                                         .order_by(Member.id)).all()


def _snapshot(app):
    with app.app_context():
        s = context.session()
        return [s.execute(select(func.count()).select_from(m)).scalar_one() for m in (Member, Shop, Badge)], \
            _members(app)


def test_two_people_with_the_same_name_stay_two_members(app, branches):
    _, first = _issue(app)
    _, second = _issue(app)
    assert first != second
    assert [m.name for m in _members(app)] == ["王五", "王五"]


def test_a_member_id_picks_that_member(app, branches):
    _, first = _issue(app)
    _issue(app)  # a namesake
    _, again = _issue(app, member=first)
    assert again == first
    assert len(_members(app)) == 2


def test_a_member_ref_finds_the_member_or_creates_one_with_it(app, branches):
    _, created = _issue(app, member_ref="  WS-0001 ")
    assert _members(app)[0].member_ref == "WS-0001"
    _, found = _issue(app, member_ref="WS-0001")
    assert found == created
    _, other = _issue(app, member_ref="WS-0002")
    assert other != created and len(_members(app)) == 2


@pytest.mark.parametrize("kw,field,match", [
    ({"member": 999_999}, "member", "no member 999999 in branch B01"),
    ({"member": True}, "member", "member must be a member id"),
    ({"member": "1"}, "member", "member must be a member id"),
    ({"member": 0}, "member", "member must be a member id"),
    ({"member": 2**40}, "member", "member must be a member id"),
    ({"member_ref": 7}, "member_ref", "member_ref must be text"),
    ({"member_ref": "x" * 65}, "member_ref", "longer than 64"),
    ({"member_ref": "WS\u200b01\n"}, "member_ref", "printable"),
])
def test_bad_member_choices_are_refused_and_nothing_changes(app, branches, kw, field, match):
    _issue(app)
    before = _snapshot(app)
    with pytest.raises(InvalidInput, match=match) as info:
        _issue(app, **kw)
    assert info.value.field == field
    assert _snapshot(app) == before


def test_a_member_of_another_branch_is_refused(app, branches):
    _, theirs = _issue(app, branch="B02", member_ref="WS-9")
    before = _snapshot(app)
    with pytest.raises(InvalidInput, match="no member .* in branch B01") as info:
        _issue(app, member=theirs)
    assert info.value.field == "member"
    with pytest.raises(InvalidInput, match="outside branch B01") as info:
        _issue(app, member_ref="WS-9")
    assert info.value.field == "member_ref"
    assert _snapshot(app) == before


@pytest.mark.parametrize("via", ["member", "member_ref"])
def test_a_holder_that_is_not_the_chosen_members_name_is_refused(app, branches, via):
    _, mid = _issue(app, member_ref="WS-1")
    before = _snapshot(app)
    with pytest.raises(InvalidInput, match="'王六' is not the name of the member") as info:
        _issue(app, holder="王六", **({"member": mid} if via == "member" else {"member_ref": "WS-1"}))
    assert info.value.field == "holder"
    assert _snapshot(app) == before


def test_a_member_id_with_a_new_number_records_the_number_once(app, branches):
    _, mid = _issue(app)
    _issue(app, member=mid, member_ref="WS-5")
    assert _members(app)[0].member_ref == "WS-5"
    with pytest.raises(InvalidInput, match="not this member's number"):
        _issue(app, member=mid, member_ref="WS-6")
    _, other = _issue(app)  # a namesake without a number
    with pytest.raises(InvalidInput, match="already belongs to another member"):
        _issue(app, member=other, member_ref="WS-5")


def test_applications_never_bind_to_an_existing_member(app, branches):
    _, mid = _issue(app, member_ref="WS-1")
    with app.app_context():
        context.begin_write()
        from signer.lifecycle import State

        badge = context.badge_service().issue(IssueRequest("王五", "店", "https://apply.taobao.com/", "taobao", "B01"),
                                              actor=COMMITTEE, state=State.PENDING)
        context.session().commit()
        assert badge.shop.member_id != mid
        assert context.session().get(Badge, parse_badge_id(badge.id)).state == "pending"
