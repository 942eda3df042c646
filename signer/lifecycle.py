"""Badge states and the one transition table that governs them.

Stored states are ``pending``, ``rejected``, ``active``, ``suspended`` and
``revoked``. Public states add time: an ``active`` badge is ``valid``,
``expired`` or ``not_yet_valid`` depending on the clock. ``revoked`` is final.
"""

from __future__ import annotations

import enum
from datetime import datetime

from signer.errors import IllegalTransition


class State(enum.StrEnum):
    """Stored badge state."""

    NEW = "new"  # not yet stored: the origin of "issue" and "apply"
    PENDING = "pending"
    REJECTED = "rejected"
    ACTIVE = "active"
    SUSPENDED = "suspended"
    REVOKED = "revoked"


class Action(enum.StrEnum):
    """Lifecycle action an administrator (or the system) can take."""

    APPLY = "apply"
    ISSUE = "issue"
    APPROVE = "approve"
    REJECT = "reject"
    SUSPEND = "suspend"
    REINSTATE = "reinstate"
    RENEW = "renew"
    REVOKE = "revoke"
    RESIGN = "resign"


class PublicStatus(enum.StrEnum):
    """State as shown to shoppers and platforms."""

    VALID = "valid"
    EXPIRED = "expired"
    NOT_YET_VALID = "not_yet_valid"
    SUSPENDED = "suspended"
    REVOKED = "revoked"


#: The states a list of badges shows and filters by: the public statuses, then an application's two.
LISTED_STATES = ("valid", "expired", "not_yet_valid", "suspended", "revoked", "pending", "rejected")

REVOCATION_REASONS = (
    "membership_ended",
    "misconduct",
    "shop_closed",
    "holder_request",
    "issued_in_error",
    "key_compromise",
    "superseded",
)

#: The only place that says which action is allowed from which state.
TRANSITIONS: dict[tuple[State, Action], State] = {
    (State.NEW, Action.APPLY): State.PENDING,
    (State.NEW, Action.ISSUE): State.ACTIVE,
    (State.PENDING, Action.APPROVE): State.ACTIVE,
    (State.PENDING, Action.REJECT): State.REJECTED,
    (State.ACTIVE, Action.SUSPEND): State.SUSPENDED,
    (State.SUSPENDED, Action.REINSTATE): State.ACTIVE,
    (State.ACTIVE, Action.RENEW): State.ACTIVE,
    (State.SUSPENDED, Action.RENEW): State.SUSPENDED,
    (State.ACTIVE, Action.REVOKE): State.REVOKED,
    (State.SUSPENDED, Action.REVOKE): State.REVOKED,
    (State.ACTIVE, Action.RESIGN): State.ACTIVE,
    (State.SUSPENDED, Action.RESIGN): State.SUSPENDED,
    # A revoked badge stays revoked, but its credential is re-signed when its key is withdrawn:
    # a verifier must then learn "revoked" from the status list, not "signature not valid".
    (State.REVOKED, Action.RESIGN): State.REVOKED,
}


def transition(state: State | str, action: Action | str) -> State:
    """Return the state that ``action`` leads to from ``state`` or raise IllegalTransition."""
    try:
        current, act = State(state), Action(action)
    except ValueError as exc:
        raise IllegalTransition(
            f"unknown state or action: {state!r}, {action!r}", state=str(state), action=str(action)
        ) from exc
    try:
        return TRANSITIONS[(current, act)]
    except KeyError:
        raise IllegalTransition(
            f"cannot {act.value} a badge that is {current.value}",
            state=current.value,
            action=act.value,
        ) from None


def allowed_actions(state: State | str) -> list[Action]:
    """Return the actions allowed from ``state``, in table order."""
    current = State(state)
    return [act for (st, act) in TRANSITIONS if st is current]


def public_status(
    state: State | str, *, valid_from: datetime, valid_until: datetime, now: datetime
) -> PublicStatus | None:
    """Return what a shopper sees for a stored state at ``now``; None means not public."""
    current = State(state)
    if current is State.REVOKED:
        return PublicStatus.REVOKED
    if current is State.SUSPENDED:
        return PublicStatus.SUSPENDED
    if current is not State.ACTIVE:
        return None
    if now < valid_from:
        return PublicStatus.NOT_YET_VALID
    if now >= valid_until:
        return PublicStatus.EXPIRED
    return PublicStatus.VALID
