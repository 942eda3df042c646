"""The audit chain detects modified, deleted and reordered events."""

from __future__ import annotations

from sqlalchemy import delete, select, update

from verifier import context
from verifier.storage.models import AuditEvent


def _problems(app):
    from verifier.audit.service import AuditLog

    with app.app_context():
        return AuditLog(context.session(), clock=context.clock()).verify_chain()


def _setup(issue_badge, act):
    badge_id = issue_badge()
    act("suspend", badge_id, note="x")
    act("reinstate", badge_id)
    act("revoke", badge_id, reason="misconduct")
    return badge_id


def test_intact_chain(app, issue_badge, act, run_cli):
    _setup(issue_badge, act)
    assert _problems(app) == []
    result = run_cli("audit", "verify")
    assert result.exit_code == 0 and "intact" in result.stdout


def test_events_record_actor_before_after(app, issue_badge, act):
    badge_id = _setup(issue_badge, act)
    with app.app_context():
        events = context.session().execute(select(AuditEvent).where(AuditEvent.target == badge_id)
                                           .order_by(AuditEvent.seq)).scalars().all()
    assert [e.action for e in events] == ["issue", "suspend", "reinstate", "revoke"]
    assert events[1].before["state"] == "active" and events[1].after["state"] == "suspended"
    assert events[3].actor == "tester" and events[3].role == "committee" and events[3].client == "127.0.0.1"
    assert all(e.prev_hash == p.hash for p, e in zip(events, events[1:], strict=False))


def _mutate(app, statement):
    with app.app_context():
        context.begin_write()
        context.session().execute(statement)
        context.session().commit()


def test_modified_event_detected(app, issue_badge, act, run_cli):
    _setup(issue_badge, act)
    _mutate(app, update(AuditEvent).where(AuditEvent.seq == 3).values(actor="mallory"))
    assert any("event 3 was modified" in p for p in _problems(app))
    result = run_cli("audit", "verify")
    assert result.exit_code == 1 and "modified" in result.stderr


def test_deleted_event_detected(app, issue_badge, act, run_cli):
    _setup(issue_badge, act)
    _mutate(app, delete(AuditEvent).where(AuditEvent.seq == 3))
    assert any("missing" in p for p in _problems(app))
    assert run_cli("audit", "verify").exit_code == 1


def test_deleted_last_event_detected(app, issue_badge, act):
    _setup(issue_badge, act)
    with app.app_context():
        last = context.session().execute(select(AuditEvent.seq).order_by(AuditEvent.seq.desc())).scalars().first()
    _mutate(app, delete(AuditEvent).where(AuditEvent.seq == last))
    assert any("written" in p for p in _problems(app))


def test_reordered_events_detected(app, issue_badge, act, run_cli):
    _setup(issue_badge, act)
    with app.app_context():
        rows = {e.seq: e for e in context.session().execute(select(AuditEvent)).scalars()}
        a, b = rows[2], rows[3]
        swap = [(2, b), (3, a)]
    _mutate(app, delete(AuditEvent).where(AuditEvent.seq.in_([2, 3])))
    with app.app_context():
        context.begin_write()
        for seq, ev in swap:
            context.session().add(AuditEvent(seq=seq, at=ev.at, actor=ev.actor, role=ev.role, client=ev.client,
                                             action=ev.action, target=ev.target, branch_code=ev.branch_code,
                                             before=ev.before, after=ev.after, prev_hash=ev.prev_hash, hash=ev.hash))
        context.session().commit()
    assert _problems(app)
    assert run_cli("audit", "verify").exit_code == 1


def test_canonical_form_is_sorted_compact_utf8_json():
    import json

    from verifier.audit.service import _canonical

    fields = {"seq": 3, "at": "2026-11-25T10:00:00Z", "actor": "王", "after": {"z": 1, "a": [None, True, 1.5]},
              "before": None, "target": 'a"b\\c\u2028'}
    assert _canonical(fields) == json.dumps(fields, ensure_ascii=False, sort_keys=True,
                                            separators=(",", ":")).encode("utf-8")
    assert _canonical(fields).startswith(b'{"actor":"\xe7\x8e\x8b","after":{"a":[null,true,1.5],"z":1}')
