"""BadgeService: validation, transitions, ids for life, the same transaction for bits."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from signer.credentials import parse_jws
from signer.errors import Conflict, IllegalTransition, InvalidInput
from signer.ids import parse_badge_id
from verifier import context
from verifier.storage.models import AuditEvent, Badge, StatusSlot


def _row(app, badge_id):
    with app.app_context():
        return context.session().get(Badge, parse_badge_id(badge_id))


def test_issue_allocates_two_slots_and_signs(app, issue_badge):
    badge_id = issue_badge()
    with app.app_context():
        slots = context.session().execute(
            select(StatusSlot).where(StatusSlot.badge_id == parse_badge_id(badge_id))).scalars().all()
        assert sorted(s.purpose for s in slots) == ["revocation", "suspension"]
        row = context.session().get(Badge, parse_badge_id(badge_id))
        assert row.credential and row.kid
        assert parse_jws(row.credential).payload["credentialSubject"]["badge"] == badge_id


def test_revoked_timestamp_never_changes_and_revoke_twice_is_illegal(app, issue_badge, act, clock):
    badge_id = issue_badge()
    act("revoke", badge_id, reason="misconduct")
    first = _row(app, badge_id).revoked_at
    clock.advance(days=1)
    with pytest.raises(IllegalTransition, match="cannot revoke a badge that is revoked") as info:
        act("revoke", badge_id, reason="shop_closed")
    assert info.value.state == "revoked"
    row = _row(app, badge_id)
    assert row.revoked_at == first and row.revocation_reason == "misconduct"


@pytest.mark.parametrize("method,kwargs", [("reinstate", {}), ("renew", {}), ("suspend", {})])
def test_nothing_moves_a_revoked_badge(app, issue_badge, act, method, kwargs):
    badge_id = issue_badge()
    act("revoke", badge_id, reason="holder_request")
    with pytest.raises(IllegalTransition):
        act(method, badge_id, **kwargs)
    assert _row(app, badge_id).state == "revoked"


def test_reinstate_an_active_badge_is_illegal(app, issue_badge, act):
    badge_id = issue_badge()
    with pytest.raises(IllegalTransition, match="cannot reinstate"):
        act("reinstate", badge_id)


def test_renewal_keeps_id_and_resigns(app, issue_badge, act, clock):
    badge_id = issue_badge(valid_days=30)
    before = _row(app, badge_id)
    clock.advance(days=40)
    act("renew", badge_id, valid_days=365)
    after = _row(app, badge_id)
    assert after.id == before.id
    assert after.credential != before.credential
    assert after.valid_until == clock.now + timedelta(days=365)
    assert after.valid_from == clock.now  # expired badge restarts from now
    payload = parse_jws(after.credential).payload
    assert payload["credentialSubject"]["badge"] == badge_id
    # the status-list slots stay the same
    before_payload = parse_jws(before.credential).payload
    assert payload["credentialStatus"] == before_payload["credentialStatus"]
    assert payload["revocationStatus"] == before_payload["revocationStatus"]


def test_renewal_adds_to_the_current_end_within_the_cap(app, issue_badge, act, clock):
    """The rule: a valid badge keeps its remaining days; nothing ends more than MAX_VALID_DAYS from now."""
    from verifier.badges.rules import MAX_VALID_DAYS

    badge_id = issue_badge(valid_days=365)
    end = _row(app, badge_id).valid_until
    act("renew", badge_id, valid_days=400)
    assert _row(app, badge_id).valid_until == end + timedelta(days=400)  # 765 days: stated, and within the cap
    before = _row(app, badge_id)
    room = (clock.now + timedelta(days=MAX_VALID_DAYS) - before.valid_until).days
    with pytest.raises(InvalidInput, match=f"at most {room} more day") as info:
        act("renew", badge_id, valid_days=room + 1)
    assert info.value.field == "valid_days" and info.value.kind == "validity_cap"
    after = _row(app, badge_id)
    assert after.valid_until == before.valid_until and after.credential == before.credential
    act("renew", badge_id, valid_days=room)
    assert _row(app, badge_id).valid_until <= clock.now + timedelta(days=MAX_VALID_DAYS)


def test_failed_transition_leaves_no_audit_event(app, issue_badge, act):
    badge_id = issue_badge()
    with app.app_context():
        count = context.session().execute(select(func.count()).select_from(AuditEvent)).scalar_one()
    with pytest.raises(IllegalTransition):
        act("reinstate", badge_id)
    with app.app_context():
        assert context.session().execute(select(func.count()).select_from(AuditEvent)).scalar_one() == count


@pytest.mark.parametrize("field,kwargs,message", [
    ("holder", {"holder": ""}, "holder is required"),
    ("shop_url", {"shop_url": "ftp://x.example"}, "http"),
    ("shop_url", {"shop_url": "https://user:pw@x.example"}, "http"),
    ("platform", {"platform": "ebay"}, "platform must be one of"),
    ("valid_days", {"valid_days": 0}, "valid_days"),
    ("valid_days", {"valid_days": 99999}, "valid_days"),
    ("hosts", {"hosts": ("bad host!",)}, "not a host name"),
    ("shop_name", {"shop_name": "x" * 201}, "longer than 200"),
    ("shop_name", {"shop_name": "a\x00b"}, "NUL"),
])
def test_issue_validation(issue_badge, field, kwargs, message):
    with pytest.raises(InvalidInput, match=message) as info:
        issue_badge(**kwargs)
    assert info.value.field == field


def test_unknown_branch(app, issue_badge):
    issue_badge()  # creates B01
    from tests.conftest import COMMITTEE
    from verifier.badges.service import IssueRequest

    with app.app_context(), pytest.raises(InvalidInput, match="no branch with code 'ZZ'"):
        context.badge_service().issue(IssueRequest("a", "b", "https://c.example", "taobao", "ZZ"), actor=COMMITTEE)


def test_one_live_badge_per_shop(issue_badge, act):
    first = issue_badge(shop_url="https://same.taobao.com")
    with pytest.raises(Conflict, match="already has a badge"):
        issue_badge(shop_url="https://same.taobao.com")
    act("revoke", first, reason="superseded")
    assert issue_badge(shop_url="https://same.taobao.com") != first


def test_hosts_default_to_url_host_and_are_normalised(app, client, issue_badge):
    a = issue_badge(shop_url="https://Shop.Example.COM/path")
    b = issue_badge(hosts=("WWW.例子.中国", "m.example.com."))
    assert client.get(f"/api/v1/badges/{a}").get_json()["shop"]["hosts"] == ["shop.example.com"]
    assert client.get(f"/api/v1/badges/{b}").get_json()["shop"]["hosts"] == ["www.xn--fsqu00a.xn--fiqs8s", "m.example.com"]


def test_expiring(app, issue_badge):
    soon = issue_badge(valid_days=10)
    issue_badge(valid_days=100)
    with app.app_context():
        found = [b.id for b in context.badge_service().expiring(days=30)]
    assert found == [parse_badge_id(soon)]
