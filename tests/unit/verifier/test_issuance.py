"""One issuance path: a single issue and a CSV import issue through the same core, with the same rules,
the same transition table, the same audit record and the same metrics."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import func, select

from signer import lifecycle
from signer.errors import BadgeError, Conflict, IllegalTransition, InvalidInput
from signer.lifecycle import Action, State
from tests.conftest import COMMITTEE
from verifier import context
from verifier.audit.service import AuditLog
from verifier.badges.bulk import BulkImporter, ImportReport
from verifier.badges.rules import IssueRequest
from verifier.storage.models import AuditEvent, AuditHead, Badge, Member, Shop, StatusList, StatusSlot
from verifier.web import metrics


@pytest.fixture
def branches(make_branch):
    make_branch("B01", "第一支部")
    make_branch("B02", "第二支部")


def _req(n: int, **kw: Any) -> IssueRequest:
    fields: dict[str, Any] = {"holder": "王五", "shop_name": f"店{n}", "shop_url": f"https://s{n}.taobao.com/",
                              "platform": "taobao", "branch": "B01", "valid_days": 30}
    fields.update(kw)
    return IssueRequest(**fields)


def _issue(app, req: IssueRequest) -> str:
    with app.app_context():
        context.begin_write()
        badge = context.badge_service().issue(req, actor=COMMITTEE)
        context.session().commit()
        return badge.id


def _import(app, reqs: list[IssueRequest], *, commit: bool = True) -> ImportReport:
    with app.app_context():
        session = context.begin_write()
        report = BulkImporter(session, issuer=context.issuer(), keyring=context.keyring(), clock=context.clock(),
                              audit=AuditLog(session, clock=context.clock())).run(
            [(i + 2, r) for i, r in enumerate(reqs)], actor=COMMITTEE)
        if commit and report.ok:
            session.commit()
        else:
            session.rollback()
        return report


def _stored(app) -> list[Any]:
    """Return everything an issue may write: row counts, the audit head and the lists' counters."""
    with app.app_context():
        s = context.session()
        counts = [s.execute(select(func.count()).select_from(m)).scalar_one()
                  for m in (Badge, Member, Shop, StatusSlot, AuditEvent)]
        head = s.execute(select(AuditHead.seq, AuditHead.hash)).all()
        used = s.execute(select(StatusList.id, StatusList.used).order_by(StatusList.id)).all()
        refs = s.execute(select(Member.id, Member.member_ref).order_by(Member.id)).all()
        return [counts, head, used, refs]


def _events(app) -> list[AuditEvent]:
    with app.app_context():
        return list(context.session().execute(
            select(AuditEvent).where(AuditEvent.action == "issue").order_by(AuditEvent.seq)).scalars())


def _issued_count() -> float:
    return metrics.REGISTRY.get_sample_value("liang_issuance_total") or 0.0


@pytest.mark.parametrize("kw", [{}, {"hosts": ("shop.example",), "confirm_foreign_hosts": True}])
def test_an_imported_badge_has_the_audit_record_of_a_single_issue(app, branches, kw):
    _issue(app, _req(1, **kw))
    assert _import(app, [_req(2, **kw)]).ok
    single, imported = _events(app)
    shape = ("action", "actor", "role", "client", "branch_code", "before", "after")
    assert [getattr(single, f) for f in shape] == [getattr(imported, f) for f in shape]
    assert set(single.after) == {"state", "valid_from", "valid_until", "revocation_reason", "kid",
                                 *(["confirmed_foreign_hosts"] if kw else [])}
    if kw:
        assert single.after["confirmed_foreign_hosts"] == ["shop.example"]


def test_a_single_issue_and_each_imported_badge_count_once_in_liang_issuance_total(app, branches):
    before = _issued_count()
    _issue(app, _req(1))
    assert _issued_count() == before + 1
    assert _import(app, [_req(2), _req(3), _req(4)]).ok
    assert _issued_count() == before + 4


def test_an_import_rolled_back_is_not_counted(app, branches):
    before = _issued_count()
    assert _import(app, [_req(2), _req(3)], commit=False).ok
    assert _issued_count() == before


@pytest.mark.parametrize("path", ["single", "import"])
def test_both_paths_take_the_state_from_the_one_transition_table(app, branches, monkeypatch, path):
    monkeypatch.delitem(lifecycle.TRANSITIONS, (State.NEW, Action.ISSUE))
    before = _stored(app)
    with pytest.raises(IllegalTransition, match="cannot issue a badge that is new"):
        if path == "single":
            _issue(app, _req(1))
        else:
            _import(app, [_req(1)])
    assert _stored(app) == before


def _taken(app) -> None:
    _issue(app, _req(50))


def _numbered(app) -> None:
    _issue(app, _req(51, holder="李四", member_ref="WS-1"))


def _other_branch(app) -> None:
    _issue(app, _req(52, holder="赵六", branch="B02", member_ref="WS-2"))


@pytest.mark.parametrize(("setup", "kw", "error", "field", "message"), [
    (None, {"holder": " "}, InvalidInput, "holder", "holder is required"),
    (None, {"shop_name": "店" * 201}, InvalidInput, "shop_name", "shop_name is longer than 200 characters"),
    (None, {"shop_name": "a\x00b"}, InvalidInput, "shop_name", "must not contain NUL"),
    (None, {"shop_url": "ftp://s1.taobao.com/"}, InvalidInput, "shop_url", r"must be an http\(s\) URL"),
    (None, {"platform": "ebay"}, InvalidInput, "platform", "platform must be one of"),
    (None, {"branch": "NOPE"}, InvalidInput, "branch", "no branch with code 'NOPE'"),
    (None, {"valid_days": 0}, InvalidInput, "valid_days", "valid_days must be a whole number"),
    (None, {"hosts": ("bad_host!",)}, InvalidInput, "hosts", "is not a host name"),
    (None, {"hosts": ("elsewhere.example",)}, InvalidInput, "hosts", "confirm foreign hosts"),
    (None, {"member": 999_999}, InvalidInput, "member", "no member 999999 in branch B01"),
    (None, {"member_ref": "x" * 65}, InvalidInput, "member_ref", "longer than 64"),
    (_taken, {"shop_url": "HTTPS://S50.taobao.com:443/#top"}, Conflict, "shop_url", "already has a badge"),
    (_numbered, {"member_ref": "WS-1"}, InvalidInput, "holder", "'王五' is not the name of the member chosen"),
    (_other_branch, {"holder": "赵六", "member_ref": "WS-2"}, InvalidInput, "member_ref", "outside branch B01"),
])
def test_a_bad_request_is_refused_alike_by_both_paths_and_changes_nothing(app, branches, setup, kw, error, field,
                                                                        message):
    if setup is not None:
        setup(app)
    before = _stored(app)
    with pytest.raises(error, match=message) as info:
        _issue(app, _req(1, **kw))
    assert _stored(app) == before
    report = _import(app, [_req(2), _req(1, **kw), _req(3)])
    assert [(e.line, e.field, e.message) for e in report.errors] == [(3, field, info.value.message)]
    assert not report.issued
    assert _stored(app) == before
    if isinstance(info.value, InvalidInput):
        assert info.value.field == field


def test_a_refused_import_after_writing_rolls_back_whole(app, branches, monkeypatch):
    """A failure while the rows are written (here: the audit insert) leaves nothing behind."""
    before = _stored(app)

    def fail(*_a: Any, **_k: Any) -> int:
        raise BadgeError("audit log unavailable")

    monkeypatch.setattr(AuditLog, "append_many", fail)
    with pytest.raises(BadgeError, match="audit log unavailable"):
        _import(app, [_req(1), _req(2)])
    assert _stored(app) == before


def test_an_existing_members_identical_shop_is_reused_by_both_paths(app, branches):
    _issue(app, _req(1, member_ref="WS-7"))
    with app.app_context():
        context.begin_write()
        service = context.badge_service()
        service.revoke(service.search()[0][0].id, actor=COMMITTEE, reason="holder_request")
        context.session().commit()
    assert _import(app, [_req(1, member_ref="WS-7")]).ok
    with app.app_context():
        shops = context.session().execute(select(Badge.shop_id)).scalars().all()
    assert len(shops) == 2 and len(set(shops)) == 1
