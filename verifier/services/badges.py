"""Badge issuance and lifecycle: validate, transition, sign, record, audit."""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session, joinedload

from signer import lifecycle
from signer.clock import Clock, isoformat_z
from signer.credentials import BadgeClaims, Issuer, StatusEntry, build_credential, sign_jws
from signer.errors import BadgeNotFound, Conflict, InvalidInput
from signer.ids import format_badge_id, new_badge_id, parse_badge_id
from signer.keys import Keyring
from signer.lifecycle import Action, PublicStatus, State
from verifier.models import Badge, Branch, Member, Shop, StatusSlot
from verifier.services.audit import MAX_PAGE, Actor, AuditLog
from verifier.services.linkeddata import linked_data_credential
from verifier.services.publicread import PublicBadge
from verifier.services.statuslists import StatusListService, list_url

_logger = logging.getLogger(__name__)

PLATFORMS = ("taobao", "tmall", "1688", "jd", "pinduoduo", "douyin", "wechat", "independent", "other")
MAX_VALID_DAYS = 3650
_MAX_TEXT = 200
_MAX_NOTE = 2000
_MAX_HOSTS = 10


@dataclass(frozen=True)
class IssueRequest:
    """What it takes to issue a badge, as plain values."""

    holder: str
    shop_name: str
    shop_url: str
    platform: str
    branch: str
    valid_days: int | None = None
    hosts: tuple[str, ...] | None = None


def _text(value: Any, field: str, *, required: bool = True, limit: int = _MAX_TEXT) -> str:
    if value is None and not required:
        return ""
    if not isinstance(value, str):
        raise InvalidInput(f"{field} must be text", field=field)
    value = value.strip()
    if "\x00" in value:
        raise InvalidInput(f"{field} must not contain NUL characters", field=field)
    if required and not value:
        raise InvalidInput(f"{field} is required", field=field)
    if len(value) > limit:
        raise InvalidInput(f"{field} is longer than {limit} characters", field=field)
    return value


# A DNS label: ASCII letters, digits and hyphens, 1 to 63 long, no hyphen at either end.
_LABEL = r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
_HOST = re.compile(rf"{_LABEL}(?:\.{_LABEL})*")


def normalise_host(raw: str, *, field: str = "hosts") -> str:
    """Return a lower-case IDNA host name or raise InvalidInput."""
    host = raw.strip().lower().rstrip(".")
    if host.isascii():
        ascii_host = host  # IDNA keeps an ASCII name as it is (it only refuses empty or long labels, as we do)
    else:
        try:
            ascii_host = host.encode("idna").decode("ascii")
        except UnicodeError as exc:
            raise InvalidInput(f"{raw[:80]!r} is not a host name", field=field) from exc
    if len(ascii_host) > 253 or not _HOST.fullmatch(ascii_host):
        raise InvalidInput(f"{raw[:80]!r} is not a host name", field=field)
    return ascii_host


def validate_shop_url(raw: Any) -> tuple[str, str]:
    """Return (url, host) for an http(s) shop URL or raise InvalidInput."""
    url = _text(raw, "shop_url", limit=2000)
    try:
        parts = urlsplit(url)
        port = parts.port  # raises ValueError on a bad port
    except ValueError as exc:
        raise InvalidInput("shop_url is not a valid URL", field="shop_url") from exc
    if parts.scheme not in {"http", "https"} or not parts.hostname or parts.username or parts.password:
        raise InvalidInput("shop_url must be an http(s) URL with a host", field="shop_url")
    del port
    return url, normalise_host(parts.hostname, field="shop_url")


def validate_issue(req: IssueRequest, *, default_days: int) -> tuple[IssueRequest, list[str]]:
    """Return the cleaned request and bound hosts, or raise InvalidInput."""
    holder = _text(req.holder, "holder")
    shop_name = _text(req.shop_name, "shop_name")
    shop_url, url_host = validate_shop_url(req.shop_url)
    if req.platform not in PLATFORMS:
        raise InvalidInput(f"platform must be one of {', '.join(PLATFORMS)}", field="platform")
    branch = _text(req.branch, "branch", limit=32)
    days = default_days if req.valid_days is None else req.valid_days
    if isinstance(days, bool) or not isinstance(days, int) or not 1 <= days <= MAX_VALID_DAYS:
        raise InvalidInput(f"valid_days must be a whole number from 1 to {MAX_VALID_DAYS}", field="valid_days")
    if req.hosts is None or len(req.hosts) == 0:
        hosts = [url_host]
    else:
        if len(req.hosts) > _MAX_HOSTS or not all(isinstance(h, str) for h in req.hosts):
            raise InvalidInput(f"hosts must be at most {_MAX_HOSTS} host names", field="hosts")
        hosts = list(dict.fromkeys(normalise_host(h) for h in req.hosts))
    cleaned = IssueRequest(holder, shop_name, shop_url, req.platform, branch, days, tuple(hosts))
    return cleaned, hosts


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
        self._default_days = default_days
        self.status_lists = StatusListService(session, issuer=issuer, keyring=keyring, clock=clock,
                                              ttl_seconds=status_ttl)
        self._branches: dict[str, Branch] = {}

    # -- look-ups -------------------------------------------------------------
    def get(self, raw_id: str, *, for_update: bool = False) -> Badge:
        """Return the badge with this id (any state) or raise BadgeNotFound / MalformedId."""
        canonical = parse_badge_id(raw_id)
        query = select(Badge).where(Badge.id == canonical).options(
            joinedload(Badge.shop).joinedload(Shop.member), joinedload(Badge.branch)
        )
        if for_update:
            query = query.with_for_update(of=Badge)
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
            raise InvalidInput(f"no branch with code {code!r}", field="branch")
        self._branches[code] = branch
        return branch

    # -- lifecycle ------------------------------------------------------------
    def issue(self, req: IssueRequest, *, actor: Actor, state: State = State.ACTIVE,
              valid_from: datetime | None = None) -> Badge:
        """Validate and issue a badge (or record an application when ``state`` is pending)."""
        action = Action.ISSUE if state is State.ACTIVE else Action.APPLY
        new_state = lifecycle.transition(State.NEW, action)
        req, hosts = validate_issue(req, default_days=self._default_days)
        branch = self.branch(req.branch)
        member = self._member(req.holder, branch)
        shop = self._shop(member, req, hosts)
        now = self._clock()
        start = valid_from or now
        days = self._days(req.valid_days)
        badge = Badge(id=self._fresh_id(), shop=shop, branch=branch, state=new_state.value,
                      valid_from=start, valid_until=start + timedelta(days=days),
                      issued_at=now if new_state is State.ACTIVE else None, updated_at=now)
        self._session.add(badge)
        self._session.flush()
        if new_state is State.ACTIVE:
            self._sign(badge, self.status_lists.allocate(badge.id))
        self._audit.append(actor, action.value, target=format_badge_id(badge.id),
                           branch_code=branch.code, before=None, after=badge_snapshot(badge))
        return badge

    def approve(self, raw_id: str, *, actor: Actor, valid_days: int | None = None) -> Badge:
        """Approve a pending application: the badge is signed and becomes active."""
        badge = self.get(raw_id, for_update=True)
        before = badge_snapshot(badge)
        badge.state = lifecycle.transition(badge.state, Action.APPROVE).value
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
        badge.state_note = _text(note, "note", limit=_MAX_NOTE)
        return self._record(badge, actor, Action.REJECT, before)

    def suspend(self, raw_id: str, *, actor: Actor, note: str | None = None) -> Badge:
        """Suspend a badge (reversible) and set its suspension bit."""
        badge = self.get(raw_id, for_update=True)
        before = badge_snapshot(badge)
        badge.state = lifecycle.transition(badge.state, Action.SUSPEND).value
        badge.suspended_at = self._clock()
        badge.state_note = _text(note, "note", required=False, limit=_MAX_NOTE) or None
        self.status_lists.set_bit(badge.id, "suspension", True)
        return self._record(badge, actor, Action.SUSPEND, before)

    def reinstate(self, raw_id: str, *, actor: Actor, note: str | None = None) -> Badge:
        """Lift a suspension and clear its bit."""
        badge = self.get(raw_id, for_update=True)
        before = badge_snapshot(badge)
        badge.state = lifecycle.transition(badge.state, Action.REINSTATE).value
        badge.suspended_at = None
        badge.state_note = _text(note, "note", required=False, limit=_MAX_NOTE) or None
        self.status_lists.set_bit(badge.id, "suspension", False)
        return self._record(badge, actor, Action.REINSTATE, before)

    def revoke(self, raw_id: str, *, actor: Actor, reason: str, note: str | None = None) -> Badge:
        """Revoke a badge for good: the timestamp is set once and never changes."""
        if reason not in lifecycle.REVOCATION_REASONS:
            raise InvalidInput(f"reason must be one of {', '.join(lifecycle.REVOCATION_REASONS)}", field="reason")
        badge = self.get(raw_id, for_update=True)
        before = badge_snapshot(badge)
        badge.state = lifecycle.transition(badge.state, Action.REVOKE).value
        badge.revoked_at = self._clock()
        badge.revocation_reason = reason
        badge.revocation_note = _text(note, "note", required=False, limit=_MAX_NOTE) or None
        self.status_lists.set_bit(badge.id, "revocation", True)
        if before["state"] == State.SUSPENDED.value:  # revoked, no longer "suspended": one status at a time
            self.status_lists.set_bit(badge.id, "suspension", False)
        return self._record(badge, actor, Action.REVOKE, before)

    def renew(self, raw_id: str, *, actor: Actor, valid_days: int | None = None) -> Badge:
        """Extend validity from now (or from the current end if later); the id stays."""
        badge = self.get(raw_id, for_update=True)
        before = badge_snapshot(badge)
        badge.state = lifecycle.transition(badge.state, Action.RENEW).value
        days = self._days(valid_days)
        now = self._clock()
        start = max(now, badge.valid_until) if badge.valid_from <= now else badge.valid_from
        if badge.valid_until <= now:
            badge.valid_from = now
        badge.valid_until = start + timedelta(days=days)
        self._sign(badge, self._entries(badge.id))
        return self._record(badge, actor, Action.RENEW, before)

    def resign(self, raw_id: str, *, actor: Actor) -> Badge:
        """Re-sign a badge's credential with the current key; id and dates stay."""
        badge = self.get(raw_id, for_update=True)
        before = badge_snapshot(badge)
        badge.state = lifecycle.transition(badge.state, Action.RESIGN).value
        self._sign(badge, self._entries(badge.id))
        return self._record(badge, actor, Action.RESIGN, before)

    # -- helpers --------------------------------------------------------------
    def _days(self, valid_days: int | None) -> int:
        days = self._default_days if valid_days is None else valid_days
        if isinstance(days, bool) or not isinstance(days, int) or not 1 <= days <= MAX_VALID_DAYS:
            raise InvalidInput(f"valid_days must be a whole number from 1 to {MAX_VALID_DAYS}", field="valid_days")
        return days

    def _record(self, badge: Badge, actor: Actor, action: Action, before: dict[str, Any]) -> Badge:
        badge.updated_at = self._clock()
        self._session.flush()
        self._audit.append(actor, action.value, target=format_badge_id(badge.id),
                           branch_code=badge.branch.code, before=before, after=badge_snapshot(badge))
        return badge

    def _fresh_id(self) -> str:
        for _ in range(8):
            candidate = new_badge_id()
            if self._session.get(Badge, candidate) is None:
                return candidate
        raise Conflict("could not draw a free badge id")  # 2^60 ids: practically unreachable

    def _member(self, name: str, branch: Branch) -> Member:
        member = self._session.execute(
            select(Member).where(Member.name == name, Member.branch_id == branch.id).limit(1)
        ).scalar_one_or_none()
        if member is None:
            member = Member(name=name, branch=branch, created_at=self._clock())
            self._session.add(member)
        return member

    def _shop(self, member: Member, req: IssueRequest, hosts: list[str]) -> Shop:
        shop = None
        if member.id is not None:
            shop = self._session.execute(
                select(Shop).where(Shop.member_id == member.id, Shop.url == req.shop_url).limit(1)
            ).scalar_one_or_none()
        if shop is not None:
            live = self._session.execute(
                select(func.count()).select_from(Badge).where(
                    Badge.shop_id == shop.id,
                    Badge.state.in_((State.PENDING.value, State.ACTIVE.value, State.SUSPENDED.value)),
                )
            ).scalar_one()
            if live:
                raise Conflict("this shop already has a badge; renew it instead")
            shop.name, shop.platform, shop.hosts = req.shop_name, req.platform, hosts
            return shop
        shop = Shop(member=member, platform=req.platform, name=req.shop_name, url=req.shop_url,
                    hosts=hosts, created_at=self._clock())
        self._session.add(shop)
        return shop

    def _entries(self, badge_id: str) -> tuple[StatusEntry, ...]:
        slots = self._session.execute(
            select(StatusSlot).where(StatusSlot.badge_id == badge_id).order_by(StatusSlot.purpose)
        ).scalars()
        by_purpose = {s.purpose: s for s in slots}
        return tuple(
            StatusEntry(p, list_url(self._issuer, by_purpose[p].list_id), by_purpose[p].idx)
            for p in ("revocation", "suspension")
        )

    def _sign(self, badge: Badge, entries: tuple[StatusEntry, ...]) -> None:
        kid, private = self._keyring.signing_key()
        shop = badge.shop
        claims = BadgeClaims(
            badge_id=format_badge_id(badge.id), shop_name=shop.name,
            shop_url=shop.url, platform=shop.platform, hosts=tuple(shop.hosts),
            branch_code=badge.branch.code, branch_name=badge.branch.name,
            valid_from=badge.valid_from, valid_until=badge.valid_until, status_entries=entries,
        )
        payload = build_credential(claims, issuer=self._issuer)
        badge.credential = sign_jws(payload, kid_url=self._issuer.kid_url(kid), private_key=private)
        badge.credential_id = payload["id"]
        badge.kid = kid
        badge.credential_ld = linked_data_credential(payload, issuer=self._issuer, kid=kid, private_key=private,
                                                     now=self._clock())

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


def status_json(badge: Badge | PublicBadge, *, issuer: Issuer, now: datetime) -> dict[str, Any]:
    """Return the public JSON status of a badge (the contract's shape)."""
    view = badge if isinstance(badge, PublicBadge) else PublicBadge.from_badge(badge)
    shown = format_badge_id(view.id)
    public = lifecycle.public_status(view.state, valid_from=view.valid_from, valid_until=view.valid_until, now=now)
    verify_url = issuer.verify_url(shown)
    return {
        "id": shown,
        "status": public.value if public else view.state,
        "checked_at": isoformat_z(now),
        "holder": {"display_name": view.holder},
        "shop": {"name": view.shop_name, "platform": view.platform, "url": view.shop_url, "hosts": list(view.hosts)},
        "branch": {"code": view.branch_code, "name": view.branch_name},
        "valid_from": isoformat_z(view.valid_from),
        "valid_until": isoformat_z(view.valid_until),
        "revocation": (
            {"reason": view.revocation_reason, "at": isoformat_z(view.revoked_at)}
            if view.state == State.REVOKED.value and view.revoked_at else None
        ),
        "verify_url": verify_url,
        "complaint_url": f"{verify_url}/complain",
        "credential": view.credential,
    }
