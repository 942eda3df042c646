"""Does the record agree with itself? Badge rows, status-list bits, signed lists and the audit log.

A badge's state is told four times: the badge row (what the verify page and JSON API show),
its bits in the status lists (what an offline verifier reads), the signed list credentials
(what is actually served) and the audit log (what the committee decided). This check reads
all four and reports every disagreement, so a lost update cannot hide behind an intact chain.
Its public facts are told twice: the rows and the document precomputed from them for the
read path (``badges.public_doc``); a document that a fresh computation disagrees with is
reported too. And one badge per shop: a shop that holds two live badges (an older
database's race, from before migration 0011's unique indexes) is named.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from signer.credentials import parse_jws
from signer.errors import InvalidCredential
from signer.ids import format_badge_id
from signer.lifecycle import State
from signer.statuslist import decode_bits, get_bit
from verifier.badges.shopkeys import live_pairs
from verifier.storage.models import AuditEvent, Badge, StatusList, StatusSlot
from verifier.storage.publicdoc import stale_documents

_logger = logging.getLogger(__name__)

#: States whose badges carry status-list slots (issued at some point).
_SIGNED_STATES = (State.ACTIVE.value, State.SUSPENDED.value, State.REVOKED.value)


def check_consistency(session: Session) -> list[str]:
    """Return every disagreement between badge rows, status bits, signed lists and the audit log."""
    problems: list[str] = []
    lists = {row.id: row for row in session.execute(select(StatusList)).scalars()}
    problems.extend(_check_lists(session, lists))
    problems.extend(_check_badges(session, lists))
    # The read path serves the precomputed document: it must say what the rows say.
    problems.extend(f"badge {format_badge_id(badge_id)}: {what}" for badge_id, what in stale_documents(session))
    problems.extend(live_pairs(session))
    return problems


def _check_lists(session: Session, lists: dict[str, StatusList]) -> Iterator[str]:
    counts = dict(session.execute(
        select(StatusSlot.list_id, func.count()).group_by(StatusSlot.list_id)).all())
    for list_id, row in lists.items():
        if row.used != counts.get(list_id, 0):
            yield f"status list {list_id}: counter says {row.used} slots used, {counts.get(list_id, 0)} are"
        if not row.credential:
            yield f"status list {list_id}: no signed credential"
            continue
        try:
            subject = parse_jws(row.credential).payload.get("credentialSubject", {})
            signed = decode_bits(subject.get("encodedList", ""))
        except (InvalidCredential, ValueError, AttributeError) as exc:
            yield f"status list {list_id}: signed credential unreadable ({exc})"
            continue
        if signed != bytes(row.bits):
            yield f"status list {list_id}: the signed list differs from the stored bits"
        if row.credential_ld:  # the JSON-LD form (JSON-LD verifiers read it) must say the same
            try:
                linked = json.loads(row.credential_ld)["credentialSubject"]["encodedList"]
            except (ValueError, KeyError, TypeError) as exc:
                yield f"status list {list_id}: JSON-LD form unreadable ({type(exc).__name__})"
                continue
            if linked != subject.get("encodedList"):
                yield f"status list {list_id}: the JSON-LD form differs from the signed JWS"


def _check_badges(session: Session, lists: dict[str, StatusList]) -> Iterator[str]:
    slots: dict[str, dict[str, StatusSlot]] = {}
    for row in session.execute(select(StatusSlot)).scalars():
        slots.setdefault(row.badge_id, {})[row.purpose] = row
    last_state = _last_audited_states(session)
    rows = session.execute(select(Badge.id, Badge.state, Badge.revoked_at, Badge.suspended_at))
    for badge_id, state, revoked_at, suspended_at in rows:
        shown = format_badge_id(badge_id)
        if (state == State.REVOKED.value) != (revoked_at is not None):
            yield f"badge {shown}: state {state} but revoked_at is {'set' if revoked_at else 'empty'}"
        if (state == State.SUSPENDED.value) != (suspended_at is not None) and state != State.REVOKED.value:
            yield f"badge {shown}: state {state} but suspended_at is {'set' if suspended_at else 'empty'}"
        audited = last_state.get(shown)
        if audited is not None and audited != state:
            yield f"badge {shown}: state {state} but the audit log's last decision left it {audited}"
        if audited is None:
            yield f"badge {shown}: state {state} with no audit event"
        if state not in _SIGNED_STATES:
            continue
        own = slots.get(badge_id, {})
        # The suspension bit (credentialStatus) is set while suspended and for good once revoked.
        for purpose, expected in (("revocation", state == State.REVOKED.value),
                                  ("suspension", state in (State.SUSPENDED.value, State.REVOKED.value))):
            slot = own.get(purpose)
            if slot is None:
                yield f"badge {shown}: no {purpose} status slot"
                continue
            status_list = lists.get(slot.list_id)
            if status_list is None:
                yield f"badge {shown}: {purpose} slot in a missing list {slot.list_id}"
                continue
            bit = get_bit(bytes(status_list.bits), slot.idx)
            if bit != expected:
                yield (f"badge {shown}: state {state} but its {purpose} bit "
                       f"({slot.list_id}[{slot.idx}]) is {'set' if bit else 'clear'}")


def _last_audited_states(session: Session) -> dict[str, str]:
    """Return, per badge (shown id), the state the newest audit event with a state left it in."""
    latest: dict[str, str] = {}
    rows = session.execute(
        select(AuditEvent.target, AuditEvent.after).where(AuditEvent.target.is_not(None))
        .order_by(AuditEvent.seq.desc())
    )
    for target, after in rows:
        if target in latest or not isinstance(after, dict) or "state" not in after:
            continue
        latest[target] = str(after["state"])
    return latest
