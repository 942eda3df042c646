"""The consistency check finds every way the badge row, status bits, signed lists and audit log can disagree."""

from __future__ import annotations

import pytest
from sqlalchemy import select, update

from signer.ids import parse_badge_id
from signer.statuslist import set_bit
from verifier import context
from verifier.audit.consistency import check_consistency
from verifier.storage.models import Badge, StatusList, StatusSlot


@pytest.fixture
def badges(issue_badge, act):
    """Return three badges: active, suspended and revoked (each through the service)."""
    active, suspended, revoked = issue_badge(), issue_badge(), issue_badge()
    act("suspend", suspended)
    act("suspend", revoked)
    act("revoke", revoked, reason="misconduct")
    return active, suspended, revoked


def _check(app):
    with app.app_context():
        return check_consistency(context.session())


def _write(app, statement):
    with app.app_context():
        context.begin_write()
        context.session().execute(statement)
        context.session().commit()


def test_a_record_written_by_the_service_agrees(app, badges):
    assert _check(app) == []


def test_a_revocation_undone_in_the_row_is_found(app, badges):
    revoked = parse_badge_id(badges[2])
    _write(app, update(Badge).where(Badge.id == revoked).values(state="active"))
    problems = "\n".join(_check(app))
    assert "state active but revoked_at is set" in problems
    assert "its revocation bit" in problems and "is set" in problems
    assert "audit log's last decision left it revoked" in problems


def test_a_suspension_bit_that_does_not_match_is_found(app, badges):
    active = parse_badge_id(badges[0])
    with app.app_context():
        slot = context.session().execute(select(StatusSlot).where(
            StatusSlot.badge_id == active, StatusSlot.purpose == "suspension")).scalar_one()
        row = context.session().get(StatusList, slot.list_id)
        bits = bytearray(row.bits)
        set_bit(bits, slot.idx, True)
        list_id = slot.list_id
    _write(app, update(StatusList).where(StatusList.id == list_id).values(bits=bytes(bits)))
    problems = "\n".join(_check(app))
    assert "state active but its suspension bit" in problems
    assert f"status list {list_id}: the signed list differs from the stored bits" in problems


def test_a_json_ld_list_that_disagrees_with_the_jws_is_found(app, badges):
    """The JSON-LD form JSON-LD verifiers read must say what the JWS says."""
    import json

    with app.app_context():
        row = context.session().execute(select(StatusList).limit(1)).scalar_one()
        document = json.loads(row.credential_ld)
        document["credentialSubject"]["encodedList"] = "uH4sIAAAAAAAAA"
        list_id = row.id
    _write(app, update(StatusList).where(StatusList.id == list_id).values(credential_ld=json.dumps(document)))
    assert f"status list {list_id}: the JSON-LD form differs from the signed JWS" in _check(app)


def test_a_revoked_badge_whose_suspension_bit_is_clear_is_found(app, badges):
    """A standard verifier reads only the suspension entry: a clear bit would call the revoked badge valid."""
    revoked = parse_badge_id(badges[2])
    with app.app_context():
        context.begin_write()
        context.badge_service().status_lists.set_bit(revoked, "suspension", False)
        context.session().commit()
    assert any("state revoked but its suspension bit" in p and "is clear" in p for p in _check(app))


def test_a_drifting_slot_counter_is_found(app, badges):
    with app.app_context():
        list_id = context.session().execute(select(StatusList.id).limit(1)).scalar_one()
    _write(app, update(StatusList).where(StatusList.id == list_id).values(used=StatusList.used - 1))
    assert any(p.startswith(f"status list {list_id}: counter says") for p in _check(app))


def test_the_cli_reports_disagreement_and_fails(app, badges, run_cli):
    assert run_cli("audit", "verify").exit_code == 0
    _write(app, update(Badge).where(Badge.id == parse_badge_id(badges[2])).values(state="suspended"))
    result = run_cli("audit", "verify")
    assert result.exit_code == 1
    assert "liang: record: badge" in result.stderr
