"""The transition table is the only authority on lifecycle moves."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from signer.errors import IllegalTransition
from signer.lifecycle import TRANSITIONS, Action, PublicStatus, State, allowed_actions, public_status, transition

NOW = datetime(2026, 11, 25, tzinfo=UTC)


@pytest.mark.parametrize("state,action,expected", [
    (State.NEW, Action.ISSUE, State.ACTIVE),
    (State.NEW, Action.APPLY, State.PENDING),
    (State.PENDING, Action.APPROVE, State.ACTIVE),
    (State.PENDING, Action.REJECT, State.REJECTED),
    (State.ACTIVE, Action.SUSPEND, State.SUSPENDED),
    (State.SUSPENDED, Action.REINSTATE, State.ACTIVE),
    (State.ACTIVE, Action.RENEW, State.ACTIVE),
    (State.SUSPENDED, Action.RENEW, State.SUSPENDED),
    (State.ACTIVE, Action.REVOKE, State.REVOKED),
    (State.SUSPENDED, Action.REVOKE, State.REVOKED),
    (State.REVOKED, Action.RESIGN, State.REVOKED),  # a withdrawn key: the credential is re-signed, still revoked
])
def test_allowed_transitions(state, action, expected):
    assert transition(state, action) is expected


@pytest.mark.parametrize("action", [a for a in Action if a is not Action.RESIGN])
def test_revoked_is_final(action):
    with pytest.raises(IllegalTransition, match="revoked") as info:
        transition(State.REVOKED, action)
    assert info.value.state == "revoked"
    assert info.value.action == action.value
    assert info.value.code == "illegal_transition"


@pytest.mark.parametrize("state,action", [
    (State.ACTIVE, Action.REINSTATE),
    (State.SUSPENDED, Action.SUSPEND),
    (State.PENDING, Action.SUSPEND),
    (State.PENDING, Action.RENEW),
    (State.REJECTED, Action.APPROVE),
    (State.ACTIVE, Action.APPROVE),
])
def test_illegal_transitions(state, action):
    with pytest.raises(IllegalTransition, match=f"cannot {action.value}"):
        transition(state, action)


def test_unknown_words_are_illegal_not_valueerror():
    with pytest.raises(IllegalTransition, match="unknown state or action"):
        transition("active", "explode")


def test_every_table_entry_is_reachable_via_allowed_actions():
    for (state, action) in TRANSITIONS:
        assert action in allowed_actions(state)


@pytest.mark.parametrize("state,offset_from,offset_until,expected", [
    ("active", -1, 1, PublicStatus.VALID),
    ("active", 1, 2, PublicStatus.NOT_YET_VALID),
    ("active", -2, 0, PublicStatus.EXPIRED),
    ("suspended", -1, 1, PublicStatus.SUSPENDED),
    ("revoked", -1, 1, PublicStatus.REVOKED),
    ("revoked", -2, -1, PublicStatus.REVOKED),
    ("pending", -1, 1, None),
    ("rejected", -1, 1, None),
])
def test_public_status(state, offset_from, offset_until, expected):
    got = public_status(state, valid_from=NOW + timedelta(days=offset_from),
                        valid_until=NOW + timedelta(days=offset_until), now=NOW)
    assert got == expected
