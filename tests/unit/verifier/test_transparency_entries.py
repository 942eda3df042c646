"""Every public decision appends exactly one log entry, in its own transaction, with a gapless index."""

from __future__ import annotations

import hashlib
import json

import pytest
from sqlalchemy import select

from signer.ids import parse_badge_id
from signer.lifecycle import State
from verifier import context
from verifier.audit.service import AuditLog
from verifier.badges.bulk import BulkImporter
from verifier.badges.service import IssueRequest
from verifier.storage.logmodels import LogEntry, LogHead
from verifier.storage.models import Badge
from verifier.transparency.entries import entry_bytes

from ...conftest import COMMITTEE

FIELDS = {"at", "badge", "branch", "credential_sha256", "event", "kid", "reason", "state"}


def _entries(app) -> list[tuple[int, bytes, str | None]]:
    with app.app_context():
        rows = context.session().execute(select(LogEntry.idx, LogEntry.data, LogEntry.badge_id)
                                         .order_by(LogEntry.idx)).all()
        head = context.session().get(LogHead, 1)
        assert [r[0] for r in rows] == list(range(len(rows))), "indexes are gapless from 0"
        assert (head.size if head else 0) == len(rows), "the head counts exactly the entries"
        return [(r[0], bytes(r[1]), r[2]) for r in rows]


def _decoded(data: bytes) -> dict:
    fields = json.loads(data)
    # Canonical: UTF-8, keys sorted, no insignificant whitespace: re-encoding gives the same bytes.
    assert json.dumps(fields, ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode() == data
    return fields


def _badge(app, badge_id) -> Badge:
    with app.app_context():
        return context.session().get(Badge, parse_badge_id(badge_id))


def test_an_issue_logs_one_entry_of_public_facts_only(app, issue_badge, clock):
    badge_id = issue_badge(holder="王秘密", shop_name="秘密杂货")
    ((index, data, logged_id),) = _entries(app)
    row = _badge(app, badge_id)
    fields = _decoded(data)
    assert set(fields) == FIELDS
    assert fields == {"event": "issue", "at": "2026-11-25T10:00:00Z", "badge": badge_id, "state": "valid",
                      "reason": None, "branch": "B01", "kid": row.kid,
                      "credential_sha256": hashlib.sha256(row.credential.encode("ascii")).hexdigest()}
    assert logged_id == row.id and row.log_index == index == 0
    assert "王秘密".encode() not in data and "秘密杂货".encode() not in data


@pytest.mark.parametrize(("steps", "event", "state", "reason", "signs"), [
    ([("suspend", {"note": "私人备注"})], "suspend", "suspended", None, False),
    ([("suspend", {}), ("reinstate", {})], "reinstate", "valid", None, False),
    ([("revoke", {"reason": "misconduct", "note": "私人备注"})], "revoke", "revoked", "misconduct", False),
    ([("renew", {"valid_days": 30})], "renew", "valid", None, True),
    ([("resign", {})], "resign", "valid", None, True),
], ids=["suspend", "reinstate", "revoke", "renew", "resign"])
def test_each_lifecycle_decision_logs_exactly_one_entry(app, issue_badge, act, clock, steps, event, state, reason,
                                                        signs):
    badge_id = issue_badge()
    for method, kwargs in steps:
        clock.advance(hours=1)
        before = len(_entries(app))
        act(method, badge_id, **kwargs)
        assert len(_entries(app)) == before + 1
    index, data, _ = _entries(app)[-1]
    fields = _decoded(data)
    row = _badge(app, badge_id)
    assert (fields["event"], fields["state"], fields["reason"], fields["badge"]) == (event, state, reason, badge_id)
    assert fields["at"] == clock.now.strftime("%Y-%m-%dT%H:%M:%SZ")
    expected = hashlib.sha256(row.credential.encode("ascii")).hexdigest() if signs else None
    assert fields["credential_sha256"] == expected
    assert row.log_index == index
    assert b"\xe7\xa7\x81\xe4\xba\xba" not in data  # "私人": a private note never reaches the log


def test_an_application_logs_nothing_until_approved_and_a_rejection_never(app, make_branch, act):
    make_branch()
    ids = []
    with app.app_context():
        context.begin_write()
        for n in range(2):
            badge = context.badge_service().issue(
                IssueRequest("申请人", f"申请小店{n}", f"https://apply{n}.example.com", "jd", "B01", 30, None),
                actor=COMMITTEE, state=State.PENDING, contact="13800000000")
            ids.append(badge.id)
        context.session().commit()
    assert _entries(app) == []
    act("reject", ids[1], note="材料不全")
    assert _entries(app) == []
    act("approve", ids[0])
    ((_, data, logged),) = _entries(app)
    assert _decoded(data)["event"] == "issue" and logged == ids[0]
    assert b"13800000000" not in data


def test_an_import_logs_one_entry_per_badge_in_file_order(app, make_branch):
    make_branch()
    rows = [(i + 2, IssueRequest(f"店主{i}", f"导入店铺{i}", f"https://imp{i}.example.com", "taobao", "B01", 60, None))
            for i in range(40)]
    with app.app_context():
        session = context.begin_write()
        report = BulkImporter(session, issuer=context.issuer(), keyring=context.keyring(), clock=context.clock(),
                              audit=AuditLog(session, clock=context.clock())).run(rows, actor=COMMITTEE)
        session.commit()
    assert report.ok
    entries = _entries(app)
    assert [_decoded(d)["badge"] for _, d, _ in entries] == list(report.issued)
    for index, data, badge_id in entries:
        row = _badge(app, badge_id)
        fields = _decoded(data)
        assert row.log_index == index
        assert fields["credential_sha256"] == hashlib.sha256(row.credential.encode("ascii")).hexdigest()
        # The batch's spelled-out entry is exactly the reference serialisation.
        assert data == entry_bytes(event="issue", at=clock_now(app), badge=fields["badge"], state="valid",
                                   reason=None, branch="B01", kid=row.kid, credential_sha256=fields["credential_sha256"])


def clock_now(app):
    with app.app_context():
        return context.clock()()


def test_a_rolled_back_decision_leaves_no_entry(app, issue_badge):
    badge_id = issue_badge()
    before = _entries(app)
    with app.app_context(), pytest.raises(RuntimeError, match="after the decision"):
        with context.unit_of_work().write():
            context.badge_service().revoke(badge_id, actor=COMMITTEE, reason="misconduct")
            raise RuntimeError("after the decision")
    assert _entries(app) == before
    assert _badge(app, badge_id).state == "active"
    issue_badge()  # and the next decision takes the very next index: no gap
    assert len(_entries(app)) == len(before) + 1


def test_a_refused_import_leaves_no_entry(app, make_branch):
    make_branch()
    rows = [(2, IssueRequest("店主", "店", "https://dup.example.com", "taobao", "B01", 60, None)),
            (3, IssueRequest("店主", "店", "https://dup.example.com", "taobao", "B01", 60, None))]
    with app.app_context():
        session = context.begin_write()
        report = BulkImporter(session, issuer=context.issuer(), keyring=context.keyring(), clock=context.clock(),
                              audit=AuditLog(session, clock=context.clock())).run(rows, actor=COMMITTEE)
        session.rollback()
    assert not report.ok
    assert _entries(app) == []


def test_key_decisions_log_add_retire_and_withdraw(app, issue_badge):
    badge_id = issue_badge()
    first_kid = _badge(app, badge_id).kid
    with app.app_context():
        new = context.key_actions().rotate(actor=COMMITTEE)
    added, retired = (_decoded(d) for _, d, _ in _entries(app)[1:])
    assert (added["event"], added["kid"], added["state"]) == ("key_add", new.kid, "active")
    assert (retired["event"], retired["kid"], retired["state"]) == ("key_retire", first_kid, "retired")
    assert "badge" not in added and added["branch"] is None and added["credential_sha256"] is None
    before = len(_entries(app))
    with app.app_context():
        resigned = context.key_actions().retire(first_kid, actor=COMMITTEE)
    assert resigned == 1
    logged = [_decoded(d) for _, d, _ in _entries(app)[before:]]
    assert [f["event"] for f in logged] == ["key_withdraw", "resign"]
    assert logged[0]["kid"] == first_kid and logged[0]["state"] == "withdrawn"
    assert logged[1]["badge"] == badge_id and logged[1]["kid"] == new.kid


def test_withdrawing_the_active_key_logs_its_successor_too(app, issue_badge):
    badge_id = issue_badge()
    kid = _badge(app, badge_id).kid
    with app.app_context():
        context.key_actions().retire(kid, actor=COMMITTEE)
    logged = [_decoded(d) for _, d, _ in _entries(app)[1:]]
    assert [f["event"] for f in logged] == ["key_add", "key_withdraw", "resign"]
    assert logged[1]["kid"] == kid and logged[0]["kid"] == _badge(app, badge_id).kid != kid


def test_the_first_signing_key_is_logged(app):
    with app.app_context():
        session = context.begin_write()
        from verifier.storage.models import SigningKey

        session.execute(SigningKey.__table__.delete())
        session.commit()
        record = context.key_actions().ensure_key(actor=COMMITTEE)
    ((_, data, _),) = _entries(app)
    assert _decoded(data)["event"] == "key_add" and _decoded(data)["kid"] == record.kid


def test_two_instances_deciding_at_once_make_one_gapless_log(app, app_config, issue_badge, make_branch):
    """Two apps (two engines and pools: two instances) issue, suspend and import at the same time."""
    import threading

    from verifier.app import create_app

    make_branch()
    other = create_app(dict(app_config))
    errors: list[BaseException] = []

    def work(application, tag: str) -> None:
        try:
            for n in range(6):
                with application.app_context():
                    with context.unit_of_work().write():
                        badge = context.badge_service().issue(
                            IssueRequest("店主", f"并发店{tag}{n}", f"https://race-{tag}-{n}.example.com", "taobao",
                                         "B01", 30, None), actor=COMMITTEE)
                        badge_id = badge.id
                    with context.unit_of_work().write():
                        context.badge_service().suspend(badge_id, actor=COMMITTEE)
                with application.app_context():
                    session = context.begin_write()
                    rows = [(2, IssueRequest("店主", f"批量{tag}{n}", f"https://bulk-{tag}-{n}.example.com", "jd",
                                             "B01", 30, None))]
                    BulkImporter(session, issuer=context.issuer(), keyring=context.keyring(), clock=context.clock(),
                                 audit=AuditLog(session, clock=context.clock())).run(rows, actor=COMMITTEE)
                    session.commit()
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(a, t)) for a, t in ((app, "a"), (other, "b"))]
    try:
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=300)
    finally:
        other.extensions["liang.db"].dispose()
    assert not errors, errors
    entries = _entries(app)  # asserts 0..n-1 without a gap and the head equal to the count
    assert len(entries) == 2 * 6 * 3
    with app.app_context():
        for badge in context.session().execute(select(Badge)).scalars():
            last = max(i for i, _, b in entries if b == badge.id)
            assert badge.log_index == last
