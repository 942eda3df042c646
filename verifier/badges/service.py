"""Badge issuance and lifecycle: validate, transition, sign, record, audit."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, joinedload

from signer import lifecycle
from signer.clock import Clock, isoformat_z
from signer.credentials import BadgeClaims, Issuer, StatusEntry, parse_jws
from signer.errors import BadgeNotFound, Conflict, InvalidCredential, InvalidInput
from signer.ids import format_badge_id, new_badge_id, parse_badge_id
from signer.keys import Keyring
from signer.lifecycle import Action, PublicStatus, State
from signer.signing import linked_data_credential, sign_credential
from verifier.audit.service import MAX_PAGE, Actor, AuditLog
from verifier.badges.issuance import Issuance
from verifier.badges.rules import (
    MAX_NOTE,
    MAX_VALID_DAYS,
    PLATFORMS,
    IssueRequest,
    clean_text,
    normalise_host,
    validate_issue,
    validate_shop_url,
)
from verifier.badges.shopkeys import shop_conflict
from verifier.badges.shops import foreign_hosts, shop_key, url_key
from verifier.badges.statuslists import StatusListService, list_url
from verifier.storage.models import Badge, Branch, Member, Shop, StatusSlot
from verifier.storage.publicdoc import refresh_public_document
from verifier.transparency.entries import PublicLog

_logger = logging.getLogger(__name__)

__all__ = ["MAX_VALID_DAYS", "PLATFORMS", "BadgeService", "IssueRequest", "badge_snapshot", "normalise_host",
           "refresh_public_document", "validate_issue", "validate_shop_url"]  # re-exported for callers


def badge_snapshot(badge: Badge) -> dict[str, Any]:
    """Return the audit before/after view of a badge (no private notes)."""
    return {
        "state": badge.state,
        "valid_from": isoformat_z(badge.valid_from),
        "valid_until": isoformat_z(badge.valid_until),
        "revocation_reason": badge.revocation_reason,
        "kid": badge.kid,
    }


class BadgeService:
    """Issue badges and move them through the lifecycle; the caller owns the transaction."""

    def __init__(self, session: Session, *, issuer: Issuer, keyring: Keyring, clock: Clock,
                 audit: AuditLog, status_ttl: int = 300, default_days: int = 365) -> None:
        self._session = session
        self._issuer = issuer
        self._keyring = keyring
        self._clock = clock
        self._audit = audit
        self._log = PublicLog(session, clock=clock)
        self._default_days = default_days
        self.status_lists = StatusListService(session, issuer=issuer, keyring=keyring, clock=clock,
                                              ttl_seconds=status_ttl)
        self.issuance = Issuance(session, issuer=issuer, keyring=keyring, clock=clock, audit=audit,
                                 status_ttl=status_ttl, default_days=default_days)
        self._branches: dict[str, Branch] = {}

    # -- look-ups -------------------------------------------------------------
    def get(self, raw_id: str, *, for_update: bool = False) -> Badge:
        """Return the badge with this id (any state) or raise BadgeNotFound / MalformedId."""
        canonical = parse_badge_id(raw_id)
        query = select(Badge).where(Badge.id == canonical).options(
            joinedload(Badge.shop).joinedload(Shop.member), joinedload(Badge.branch)
        )
        if for_update:
            # populate_existing: a badge this session loaded before the lock (a view's
            # permission check, say) is refreshed from the locked row. Without it the identity
            # map hands back the stale object and the transition is decided on the state read
            # before the lock: a concurrent revocation could be silently undone.
            query = query.with_for_update(of=Badge).execution_options(populate_existing=True)
        badge = self._session.execute(query).unique().scalar_one_or_none()
        if badge is None:
            raise BadgeNotFound(f"no badge {format_badge_id(canonical)}", badge_id=format_badge_id(canonical))
        return badge

    def get_public(self, raw_id: str) -> Badge:
        """Return a badge shoppers may see; pending and rejected ones are not found."""
        badge = self.get(raw_id)
        if badge.state in (State.PENDING.value, State.REJECTED.value):
            raise BadgeNotFound(f"no badge {format_badge_id(badge.id)}", badge_id=format_badge_id(badge.id))
        return badge

    def branch(self, code: str) -> Branch:
        """Return the branch with this code or raise InvalidInput."""
        cached = self._branches.get(code)
        if cached is not None:
            return cached
        branch = self._session.execute(select(Branch).where(Branch.code == code)).scalar_one_or_none()
        if branch is None:
            raise InvalidInput(f"no branch with code {code!r}", field="branch", kind="unknown", params={"value": code})
        self._branches[code] = branch
        return branch

    # -- lifecycle ------------------------------------------------------------
    def issue(self, req: IssueRequest, *, actor: Actor, state: State = State.ACTIVE,
              valid_from: datetime | None = None, contact: str | None = None) -> Badge:
        """Validate and issue a badge (or record an application when ``state`` is pending).

        An issue is a batch of one through :class:`verifier.badges.issuance.Issuance`, the path
        a CSV import takes too: the member chosen by ``req.member`` or found by ``req.member_ref``,
        else a new member (a name never selects anyone); an existing shop reused only as it is.
        An application (pending) never touches an existing member or shop: it proposes a new
        member and a new shop, seen by nobody but the branch until it approves them.
        """
        if state is State.ACTIVE:
            accepted = self.issuance.accept(req)
            with self.issuance.signer() as signer:
                signer.start(1)
                (shown,) = self.issuance.issue([accepted], actor=actor, signer=signer, valid_from=valid_from,
                                               linked_data=True)
            return self._session.execute(
                select(Badge).where(Badge.id == parse_badge_id(shown))
                .options(joinedload(Badge.shop).joinedload(Shop.member), joinedload(Badge.branch))
                .execution_options(populate_existing=True)).unique().scalar_one()
        return self._apply(req, actor=actor, valid_from=valid_from, contact=contact)

    def _apply(self, req: IssueRequest, *, actor: Actor, valid_from: datetime | None, contact: str | None) -> Badge:
        new_state = lifecycle.transition(State.NEW, Action.APPLY)
        req, hosts = validate_issue(req, default_days=self._default_days)
        branch = self.branch(req.branch)
        key = shop_key(req.platform, req.shop_url)
        self.issuance.refuse_second_badge(key, pending=True)
        member = Member(name=req.holder, branch=branch, contact=contact or None, created_at=self._clock())
        self._session.add(member)
        shop = Shop(member=member, platform=req.platform, name=req.shop_name, url=req.shop_url,
                    url_key=url_key(req.shop_url), hosts=hosts, created_at=self._clock())
        self._session.add(shop)
        now = self._clock()
        start = valid_from or now
        days = self._days(req.valid_days)
        badge = Badge(id=self._fresh_id(), shop=shop, branch=branch, state=new_state.value,
                      valid_from=start, valid_until=start + timedelta(days=days), issued_at=None, updated_at=now,
                      shop_key=key)
        self._session.add(badge)
        self._flush_one_per_shop(pending=True)
        refresh_public_document(self._session, [badge.id])
        after = badge_snapshot(badge)
        if req.confirm_foreign_hosts:
            after["confirmed_foreign_hosts"] = foreign_hosts(hosts, validate_shop_url(req.shop_url)[1])
        self._audit.append(actor, Action.APPLY.value, target=format_badge_id(badge.id),
                           branch_code=branch.code, before=None, after=after)
        return badge

    def _flush_one_per_shop(self, *, pending: bool = False) -> None:
        """Write pending changes now, turning a refusal by the one-badge-per-shop indexes into a 409."""
        try:
            self._session.flush()
        except IntegrityError as exc:
            conflict = shop_conflict(exc, pending=pending)
            if conflict is None:
                raise
            raise conflict from exc

    def approve(self, raw_id: str, *, actor: Actor, valid_days: int | None = None) -> Badge:
        """Approve a pending application: the badge is signed and becomes active."""
        badge = self.get(raw_id, for_update=True)
        before = badge_snapshot(badge)
        new_state = lifecycle.transition(badge.state, Action.APPROVE).value
        key = badge.shop_key or shop_key(badge.shop.platform, badge.shop.url)  # or an application from before 0011
        self.issuance.refuse_second_badge(key, besides=badge.id)
        badge.state, badge.shop_key = new_state, key
        self._flush_one_per_shop()  # two approvals at once: the database refuses the second
        now = self._clock()
        days = self._days(valid_days) if valid_days is not None else max(
            1, round((badge.valid_until - badge.valid_from).total_seconds() / 86400))
        badge.valid_from, badge.valid_until, badge.issued_at = now, now + timedelta(days=days), now
        self._sign(badge, self.status_lists.allocate(badge.id))
        return self._record(badge, actor, Action.APPROVE, before)

    def reject(self, raw_id: str, *, actor: Actor, note: str) -> Badge:
        """Reject a pending application with a reason."""
        badge = self.get(raw_id, for_update=True)
        before = badge_snapshot(badge)
        badge.state = lifecycle.transition(badge.state, Action.REJECT).value
        badge.state_note = clean_text(note, "note", limit=MAX_NOTE)
        return self._record(badge, actor, Action.REJECT, before)

    def suspend(self, raw_id: str, *, actor: Actor, note: str | None = None) -> Badge:
        """Suspend a badge (reversible) and set its suspension bit."""
        badge = self.get(raw_id, for_update=True)
        before = badge_snapshot(badge)
        badge.state = lifecycle.transition(badge.state, Action.SUSPEND).value
        badge.suspended_at = self._clock()
        badge.state_note = clean_text(note, "note", required=False, limit=MAX_NOTE) or None
        self.status_lists.set_bit(badge.id, "suspension", True)
        return self._record(badge, actor, Action.SUSPEND, before)

    def reinstate(self, raw_id: str, *, actor: Actor, note: str | None = None) -> Badge:
        """Lift a suspension and clear its bit."""
        badge = self.get(raw_id, for_update=True)
        before = badge_snapshot(badge)
        badge.state = lifecycle.transition(badge.state, Action.REINSTATE).value
        badge.suspended_at = None
        badge.state_note = clean_text(note, "note", required=False, limit=MAX_NOTE) or None
        self.status_lists.set_bit(badge.id, "suspension", False)
        return self._record(badge, actor, Action.REINSTATE, before)

    def revoke(self, raw_id: str, *, actor: Actor, reason: str, note: str | None = None) -> Badge:
        """Revoke a badge for good: the timestamp is set once and never changes."""
        if not reason:  # never a default: the reason is published with the badge, for good
            raise InvalidInput("reason is required: it is public and permanent", field="reason", kind="required")
        if reason not in lifecycle.REVOCATION_REASONS:
            raise InvalidInput(f"reason must be one of {', '.join(lifecycle.REVOCATION_REASONS)}", field="reason",
                               kind="choice", params={"choices": ", ".join(lifecycle.REVOCATION_REASONS)})
        badge = self.get(raw_id, for_update=True)
        before = badge_snapshot(badge)
        badge.state = lifecycle.transition(badge.state, Action.REVOKE).value
        badge.revoked_at = self._clock()
        badge.revocation_reason = reason
        badge.revocation_note = clean_text(note, "note", required=False, limit=MAX_NOTE) or None
        self.status_lists.set_bit(badge.id, "revocation", True)
        if before["state"] != State.SUSPENDED.value:
            # The suspension bit is the one credentialStatus names, the only entry a standard verifier
            # reads: set it for good, so that none of them calls a revoked badge valid.
            self.status_lists.set_bit(badge.id, "suspension", True)
        return self._record(badge, actor, Action.REVOKE, before)

    def renew(self, raw_id: str, *, actor: Actor, valid_days: int | None = None) -> Badge:
        """Add ``valid_days`` to the current end (from now once expired); the id stays.

        The rule: days still to run are kept, so a valid badge renewed for N days ends N days after
        its current end; an expired one runs N days from now; one not yet valid, N days from its
        start. The result is capped: no credential ends more than MAX_VALID_DAYS days from now
        (the longest a new badge may run), so renewals cannot pile up into a decade-long credential.
        """
        badge = self.get(raw_id, for_update=True)
        before = badge_snapshot(badge)
        badge.state = lifecycle.transition(badge.state, Action.RENEW).value
        days = self._days(valid_days)
        now = self._clock()
        start = max(now, badge.valid_until) if badge.valid_from <= now else badge.valid_from
        latest = now + timedelta(days=MAX_VALID_DAYS)
        if start + timedelta(days=days) > latest:
            room = max(0, (latest - start).days)
            raise InvalidInput(
                f"renewing for {days} days would end the credential more than {MAX_VALID_DAYS} days from now; "
                f"at most {room} more day(s) can be added now", field="valid_days", kind="validity_cap",
                params={"max": MAX_VALID_DAYS, "n": room})
        if badge.valid_until <= now:
            badge.valid_from = now
        badge.valid_until = start + timedelta(days=days)
        self._sign(badge, self._entries(badge.id))
        return self._record(badge, actor, Action.RENEW, before)

    def resign(self, raw_id: str, *, actor: Actor, linked_data: bool = True) -> Badge:
        """Re-sign a badge's credential with the current key; id and dates stay.

        ``linked_data=False`` leaves the JSON-LD form to be created on first request (or by
        ``liang badge backfill-ld``): RDF canonicalisation costs about 40 ms a credential.
        """
        badge = self.get(raw_id, for_update=True)
        before = badge_snapshot(badge)
        badge.state = lifecycle.transition(badge.state, Action.RESIGN).value
        self._sign(badge, self._entries(badge.id), linked_data=linked_data)
        return self._record(badge, actor, Action.RESIGN, before)

    def outdated_credentials(self, *, after: str = "", limit: int = 500) -> tuple[list[str], str | None]:
        """Return (ids of public badges whose credential predates the current status layout, the last id
        looked at, or None when done), looking at up to ``limit`` badges after ``after``."""
        rows = self._session.execute(
            select(Badge.id, Badge.credential).where(Badge.state.in_(_SIGNED_STATES), Badge.id > after)
            .order_by(Badge.id).limit(limit)).all()
        outdated = [row.id for row in rows if row.credential and not _current_layout(str(row.credential))]
        return outdated, (rows[-1].id if len(rows) == limit else None)

    def mark_revoked_unacceptable(self) -> int:
        """Set the suspension bit of every revoked badge whose bit is clear (an older release cleared it on
        revocation); each list touched is signed once. Return how many bits were set."""
        slots = self._session.execute(
            select(StatusSlot).join(Badge, Badge.id == StatusSlot.badge_id)
            .where(Badge.state == State.REVOKED.value, StatusSlot.purpose == "suspension")).scalars().all()
        by_list: dict[str, list[int]] = {}
        for slot in slots:
            by_list.setdefault(slot.list_id, []).append(slot.idx)
        return sum(self.status_lists.set_bits(list_id, indexes) for list_id, indexes in by_list.items())

    # -- helpers --------------------------------------------------------------
    def _days(self, valid_days: int | None) -> int:
        days = self._default_days if valid_days is None else valid_days
        if isinstance(days, bool) or not isinstance(days, int) or not 1 <= days <= MAX_VALID_DAYS:
            raise InvalidInput(f"valid_days must be a whole number from 1 to {MAX_VALID_DAYS}", field="valid_days")
        return days

    def _record(self, badge: Badge, actor: Actor, action: Action, before: dict[str, Any]) -> Badge:
        badge.updated_at = self._clock()
        refresh_public_document(self._session, [badge.id])  # flushes first
        self._audit.append(actor, action.value, target=format_badge_id(badge.id),
                           branch_code=badge.branch.code, before=before, after=badge_snapshot(badge))
        self._log.badge_decision(badge, action)  # after the audit: its head is always locked first
        return badge

    def _fresh_id(self) -> str:
        for _ in range(8):
            candidate = new_badge_id()
            if self._session.get(Badge, candidate) is None:
                return candidate
        raise Conflict("could not draw a free badge id")  # 2^60 ids: practically unreachable

    def _entries(self, badge_id: str) -> tuple[StatusEntry, ...]:
        slots = self._session.execute(
            select(StatusSlot).where(StatusSlot.badge_id == badge_id).order_by(StatusSlot.purpose)
        ).scalars()
        by_purpose = {s.purpose: s for s in slots}
        return tuple(
            StatusEntry(p, list_url(self._issuer, by_purpose[p].list_id), by_purpose[p].idx)
            for p in ("revocation", "suspension")
        )

    def _sign(self, badge: Badge, entries: tuple[StatusEntry, ...], *, linked_data: bool = True) -> None:
        kid, private = self._keyring.signing_key()
        shop = badge.shop
        claims = BadgeClaims(
            badge_id=format_badge_id(badge.id), shop_name=shop.name,
            shop_url=shop.url, platform=shop.platform, hosts=tuple(shop.hosts),
            branch_code=badge.branch.code, branch_name=badge.branch.name,
            valid_from=badge.valid_from, valid_until=badge.valid_until, status_entries=entries,
        )
        signed = sign_credential(claims, issuer=self._issuer, kid=kid, private_key=private)
        badge.credential, badge.credential_id, badge.kid = signed.jws, signed.credential_id, kid
        badge.credential_ld = linked_data_credential(signed.payload, issuer=self._issuer, kid=kid, private_key=private,
                                                     now=self._clock()) if linked_data else None

    # -- lists ----------------------------------------------------------------

    def search(self, *, branch: str | None = None, status: str | None = None, q: str | None = None,
               page: int = 1, per_page: int = 50) -> tuple[list[Badge], int]:
        """Return (badges, total) matching the filters, newest first."""
        query = select(Badge).join(Badge.shop).join(Shop.member).join(Badge.branch)
        if branch:
            query = query.where(Branch.code == branch)
        if status:
            query = query.where(*self._status_filter(status))
        if q:
            like = f"%{q.strip()[:100]}%"
            canonical = "".join(ch for ch in q.upper() if ch.isalnum())
            query = query.where(or_(Shop.name.like(like), Member.name.like(like), Shop.url.like(like),
                                    Badge.id == canonical))
        total = self._session.execute(select(func.count()).select_from(query.subquery())).scalar_one()
        rows = self._session.execute(
            query.options(joinedload(Badge.shop).joinedload(Shop.member), joinedload(Badge.branch))
            .order_by(Badge.updated_at.desc(), Badge.id)
            .offset((min(max(page, 1), MAX_PAGE) - 1) * per_page).limit(per_page)
        ).unique().scalars()
        return list(rows), total

    def _status_filter(self, status: str) -> list[Any]:
        now = self._clock()
        if status == PublicStatus.VALID.value:
            return [Badge.state == "active", Badge.valid_from <= now, Badge.valid_until > now]
        if status == PublicStatus.EXPIRED.value:
            return [Badge.state == "active", Badge.valid_until <= now]
        if status == PublicStatus.NOT_YET_VALID.value:
            return [Badge.state == "active", Badge.valid_from > now]
        if status in {s.value for s in State if s is not State.NEW}:
            return [Badge.state == status]
        raise InvalidInput("unknown status filter", field="status")

    def expiring(self, *, days: int, branch: str | None = None) -> list[Badge]:
        """Return live badges whose validity ends within ``days``, soonest first."""
        now = self._clock()
        query = (select(Badge).join(Badge.branch)
                 .where(Badge.state.in_(("active", "suspended")), Badge.valid_until > now,
                        Badge.valid_until <= now + timedelta(days=days))
                 .options(joinedload(Badge.shop).joinedload(Shop.member), joinedload(Badge.branch))
                 .order_by(Badge.valid_until))
        if branch:
            query = query.where(Branch.code == branch)
        return list(self._session.execute(query).unique().scalars())


_SIGNED_STATES = (State.ACTIVE.value, State.SUSPENDED.value, State.REVOKED.value)


def _current_layout(token: str) -> bool:
    """Return whether a stored credential names the suspension entry in ``credentialStatus`` (issue 24)."""
    try:
        status = parse_jws(token).payload.get("credentialStatus")
    except InvalidCredential:
        return False
    return isinstance(status, dict) and status.get("statusPurpose") == "suspension"
