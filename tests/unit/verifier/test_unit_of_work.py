"""The unit of work: a service's write commits at its end, rolls back on error, and nested writes join."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import func, select

from verifier import context
from verifier.audit.service import Actor
from verifier.storage.models import AuditEvent, Badge, Branch

WHEN = datetime(2026, 11, 25, 10, 0, tzinfo=UTC)
SYSTEM = Actor(name="test", role="system", client="test")


class Refused(Exception):
    """What a test's policy raises."""


def _branches(app) -> set[str]:
    """Return the branch codes as another session sees them (committed rows only)."""
    with app.app_context():
        return set(context.session().execute(select(Branch.code)).scalars())


def _add(session, code: str) -> None:
    session.add(Branch(code=code, name=code, created_at=WHEN))
    session.flush()


def test_a_write_commits_when_it_ends(app):
    with app.app_context():
        with context.unit_of_work().write() as session:
            _add(session, "U01")
    assert "U01" in _branches(app)


def test_a_write_rolls_back_when_it_raises(app):
    with app.app_context():
        uow = context.unit_of_work()
        with pytest.raises(RuntimeError, match="half way"), uow.write() as session:
            _add(session, "U02")
            raise RuntimeError("half way")
        uow.session.commit()  # nothing of the failed write is left to commit
    assert "U02" not in _branches(app)


def test_keep_on_commits_what_was_written_then_raises(app):
    with app.app_context(), pytest.raises(Refused, match="count it"):
        with context.unit_of_work().write(keep_on=(Refused,)) as session:
            _add(session, "U03")
            raise Refused("count it")
    assert "U03" in _branches(app)


def test_a_nested_write_joins_the_outer_one_and_commits_only_with_it(app):
    with app.app_context(), pytest.raises(RuntimeError, match="after the inner write"):
        uow = context.unit_of_work()
        with uow.write() as session:
            with context.unit_of_work().write() as inner:  # another service on the same session
                assert inner is session
                _add(inner, "U04")
            raise RuntimeError("after the inner write")
    assert "U04" not in _branches(app)


def test_a_write_after_a_failed_one_starts_afresh(app):
    with app.app_context():
        uow = context.unit_of_work()
        with pytest.raises(RuntimeError, match="first"), uow.write() as session:
            _add(session, "U05")
            raise RuntimeError("first")
        with uow.write() as session:
            _add(session, "U06")
    assert _branches(app) >= {"U06"} and "U05" not in _branches(app)


def _events(app) -> int:
    with app.app_context():
        return int(context.session().execute(select(func.count()).select_from(AuditEvent)).scalar_one())


def test_a_refused_badge_change_changes_nothing(app, issue_badge):
    badge_id = issue_badge(branch="B01")
    before = _events(app)

    def refuse(action: str, *, branch_code: str | None) -> None:
        raise Refused(f"{action} in {branch_code}")

    with app.app_context(), pytest.raises(Refused, match="badge.revoke in B01"):
        context.badge_actions().change("revoke", badge_id, actor=SYSTEM, allow=refuse, reason="misconduct")
    with app.app_context():
        assert context.badge_service().get(badge_id).state == "active"
    assert _events(app) == before


def test_an_unknown_badge_change_is_refused(app, issue_badge):
    badge_id = issue_badge(branch="B01")
    with app.app_context(), pytest.raises(ValueError, match="unknown badge change 'resign'"):
        context.badge_actions().change("resign", badge_id, actor=SYSTEM, allow=lambda *a, **k: None)
    with app.app_context():
        assert context.session().get(Badge, badge_id.replace("-", "")).state == "active"


def test_context_transaction_is_the_unit_of_works_write(app):
    with app.app_context(), pytest.raises(RuntimeError, match="inside"):
        with context.transaction() as session:
            with context.transaction() as inner:  # joins: nothing commits before the outer block ends
                _add(inner, "U07")
            raise RuntimeError("inside")
    with app.app_context():
        with context.transaction() as session:
            _add(session, "U08")
    assert "U08" in _branches(app) and "U07" not in _branches(app)
