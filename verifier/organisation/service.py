"""The organisation: branches, virtual party groups, members."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session, selectinload

from signer.clock import Clock
from signer.errors import Conflict, InvalidInput
from verifier.audit.service import Actor, AuditLog
from verifier.organisation import members
from verifier.storage.models import Badge, Branch, Member, PartyGroup, Shop
from verifier.storage.publicdoc import refresh_public_document

GROUP_KINDS = ("trade", "area")
#: One limit per text field, enforced here and shown in the console's forms (``maxlength``).
MAX_CODE = 32  # branch and group codes
MAX_NAME = 200  # branch, group and member names
MAX_CONTACT = 200


def _code(value: str, field: str) -> str:
    code = (value or "").strip()
    if not code:
        raise InvalidInput(f"{field} is required", field=field, kind="required")
    if len(code) > MAX_CODE:
        raise InvalidInput(f"{field} is longer than {MAX_CODE} characters", field=field, kind="too_long",
                           limit=MAX_CODE)
    if not all(c.isalnum() or c in "-_" for c in code):
        raise InvalidInput(f"{field} uses letters, digits, '-' or '_' (at most {MAX_CODE})", field=field)
    return code


def _name(value: str, field: str = "name") -> str:
    name = (value or "").strip()
    if not name:
        raise InvalidInput(f"{field} is required (at most {MAX_NAME} characters)", field=field, kind="required")
    if len(name) > MAX_NAME:
        raise InvalidInput(f"{field} is longer than {MAX_NAME} characters", field=field, kind="too_long",
                           limit=MAX_NAME)
    if "\x00" in name:
        raise InvalidInput(f"{field} must not contain NUL characters", field=field, kind="not_text")
    return name


def _contact(value: str | None) -> str | None:
    contact = (value or "").strip()
    if len(contact) > MAX_CONTACT:  # refused, never cut: a truncated phone number reaches a stranger
        raise InvalidInput(f"contact is longer than {MAX_CONTACT} characters", field="contact", kind="too_long",
                           limit=MAX_CONTACT)
    if "\x00" in contact:
        raise InvalidInput("contact must not contain NUL characters", field="contact", kind="not_text")
    return contact or None


class OrgService:
    """Create and look up branches, groups and members; the caller owns the transaction (``OrgActions``)."""

    def __init__(self, session: Session, *, clock: Clock, audit: AuditLog) -> None:
        self._session = session
        self._clock = clock
        self._audit = audit

    def add_branch(self, code: str, name: str, *, actor: Actor) -> Branch:
        """Add a branch."""
        code, name = _code(code, "code"), _name(name)
        if self._session.execute(select(Branch).where(Branch.code == code)).scalar_one_or_none():
            raise Conflict(f"branch {code} already exists", reason="exists", params={"value": code})
        branch = Branch(code=code, name=name, created_at=self._clock())
        self._session.add(branch)
        self._session.flush()
        self._audit.append(actor, "branch_add", target=code, branch_code=code, after={"name": name})
        return branch

    def add_group(self, code: str, name: str, kind: str, *, actor: Actor) -> PartyGroup:
        """Add a virtual party group (by trade or by area)."""
        code, name = _code(code, "code"), _name(name)
        if kind not in GROUP_KINDS:
            raise InvalidInput("kind must be trade or area", field="kind", kind="choice", params={"choices": "trade, area"})
        if self._session.execute(select(PartyGroup).where(PartyGroup.code == code)).scalar_one_or_none():
            raise Conflict(f"group {code} already exists", reason="exists", params={"value": code})
        group = PartyGroup(code=code, name=name, kind=kind, created_at=self._clock())
        self._session.add(group)
        self._session.flush()
        self._audit.append(actor, "group_add", target=code, after={"name": name, "kind": kind})
        return group

    def add_member(self, name: str, branch_code: str, *, actor: Actor, contact: str | None = None,
                   groups: tuple[str, ...] = ()) -> Member:
        """Add a member to a branch and, optionally, to groups."""
        branch = self._session.execute(select(Branch).where(Branch.code == branch_code)).scalar_one_or_none()
        if branch is None:
            raise InvalidInput(f"no branch with code {branch_code!r}", field="branch", kind="unknown",
                               params={"value": branch_code})
        member = Member(name=_name(name), branch=branch, contact=_contact(contact),
                        created_at=self._clock())
        self._session.add(member)
        for code in groups:
            group = self._session.execute(select(PartyGroup).where(PartyGroup.code == code)).scalar_one_or_none()
            if group is None:
                raise InvalidInput(f"no group with code {code!r}", field="groups", kind="unknown",
                                   params={"value": code})
            member.groups.append(group)
        self._session.add(member)
        self._session.flush()
        self._audit.append(actor, "member_add", target=f"member:{member.id}", branch_code=branch.code,
                           after={"name": member.name, "groups": list(groups)})
        return member

    def assign(self, group_id: int, member_id: int, *, actor: Actor, allow: Callable[[Member], None]) -> PartyGroup:
        """Put a member into a group (``allow`` checks the member's branch first); audited once."""
        group = self._session.get(PartyGroup, group_id)
        if group is None:
            raise InvalidInput(f"no group {group_id}", field="groups", kind="unknown", params={"value": group_id})
        member = self._session.get(Member, member_id)
        if member is None:
            raise InvalidInput(f"no member {member_id}", field="member", kind="unknown_member",
                               params={"value": member_id})
        allow(member)
        if group not in member.groups:
            member.groups.append(group)
            self._audit.append(actor, "group_assign", target=f"member:{member.id}",
                               branch_code=member.branch.code, after={"group": group.code})
        return group

    def edit_branch(self, code: str, name: str, *, actor: Actor) -> Branch:
        """Rename a branch (its code is its identity and stays)."""
        branch = self._session.execute(select(Branch).where(Branch.code == code)).scalar_one_or_none()
        if branch is None:
            raise InvalidInput(f"no branch with code {code!r}", field="code", kind="unknown", params={"value": code})
        before, branch.name = branch.name, _name(name)
        # The branch name is in its badges' public documents: refresh them in this transaction
        # (the database's guard empties them at the flush; left empty, `liang audit verify`
        # would report them missing until the next `liang init`).
        self._refresh_documents(select(Badge.id).where(Badge.branch_id == branch.id))
        self._audit.append(actor, "branch_edit", target=code, branch_code=code, before={"name": before},
                           after={"name": branch.name})
        return branch

    def edit_group(self, code: str, name: str, kind: str, *, actor: Actor) -> PartyGroup:
        """Rename a group or change its kind (its code stays)."""
        group = self._session.execute(select(PartyGroup).where(PartyGroup.code == code)).scalar_one_or_none()
        if group is None:
            raise InvalidInput(f"no group with code {code!r}", field="code", kind="unknown", params={"value": code})
        if kind not in GROUP_KINDS:
            raise InvalidInput("kind must be trade or area", field="kind", kind="choice",
                               params={"choices": "trade, area"})
        before = {"name": group.name, "kind": group.kind}
        group.name, group.kind = _name(name), kind
        self._audit.append(actor, "group_edit", target=code, before=before,
                           after={"name": group.name, "kind": group.kind})
        return group

    def edit_member(self, member_id: int, *, name: str, contact: str | None, groups: tuple[str, ...],
                    actor: Actor, allow: Callable[[Member], None]) -> Member:
        """Correct a member's name and private contact, and set their groups (``allow`` checks the branch)."""
        member = self._session.get(Member, member_id)
        if member is None:
            raise InvalidInput(f"no member {member_id}", field="member", kind="unknown_member",
                               params={"value": member_id})
        allow(member)
        chosen = []
        for code in groups:
            group = self._session.execute(select(PartyGroup).where(PartyGroup.code == code)).scalar_one_or_none()
            if group is None:
                raise InvalidInput(f"no group with code {code!r}", field="groups", kind="unknown",
                                   params={"value": code})
            chosen.append(group)
        before = {"name": member.name, "groups": sorted(g.code for g in member.groups)}
        member.name, member.contact, member.groups = _name(name), _contact(contact), chosen
        # The holder's name is in the public documents of the member's badges: same transaction.
        self._refresh_documents(select(Badge.id).join(Shop, Shop.id == Badge.shop_id)
                                .where(Shop.member_id == member.id))
        # The contact is personal data: the audit record says it changed, never what it is.
        self._audit.append(actor, "member_edit", target=f"member:{member.id}", branch_code=member.branch.code,
                           before=before, after={"name": member.name, "groups": sorted(groups)})
        return member

    def _refresh_documents(self, badge_ids: Select[Any]) -> None:
        """Recompute the public documents of the badges ``badge_ids`` selects."""
        self._session.flush()  # the guard empties the documents now, the refresh fills them after
        refresh_public_document(self._session, list(self._session.execute(badge_ids).scalars()))

    # -- look-ups -------------------------------------------------------------
    def branch(self, code: str) -> Branch | None:
        """Return the branch with this code, if any."""
        return self._session.execute(select(Branch).where(Branch.code == code)).scalar_one_or_none()

    def branches(self, *, scope: str | None = None) -> list[Branch]:
        """Return the branches (only ``scope`` when given), by code."""
        query = select(Branch).order_by(Branch.code)
        if scope:
            query = query.where(Branch.code == scope)
        return list(self._session.execute(query).scalars())

    def counts(self) -> tuple[dict[int, int], dict[int, int]]:
        """Return ({branch id: members}, {branch id: badges})."""
        people = self._session.execute(select(Member.branch_id, func.count()).group_by(Member.branch_id)).all()
        badges = self._session.execute(select(Badge.branch_id, func.count()).group_by(Badge.branch_id)).all()
        return dict(people), dict(badges)  # type: ignore[arg-type]

    def groups(self) -> list[PartyGroup]:
        """Return every group with its members (and their branches), by code."""
        return list(self._session.execute(
            select(PartyGroup).options(selectinload(PartyGroup.members).selectinload(Member.branch))
            .order_by(PartyGroup.code)).scalars())

    def members_of(self, *, scope: str | None, limit: int = 1000) -> list[Member]:
        """Return members (of ``scope`` only when given) by name, for a choice list."""
        query = select(Member).options(selectinload(Member.branch)).order_by(Member.name).limit(limit)
        if scope:
            query = query.join(Member.branch).where(Branch.code == scope)
        return list(self._session.execute(query).scalars())

    def search(self, *, branch: str | None, q: str | None, page: int, per_page: int) -> tuple[list[Member], int]:
        """Return (members, total) of a branch (or all), by name or member number, newest first."""
        return members.search(self._session, branch=branch, q=q, page=page, per_page=per_page)

    def badge_ids(self, rows: list[Member]) -> dict[int, list[str]]:
        """Return each member's badge ids."""
        return members.badge_ids(self._session, rows)

    def member(self, member_id: int) -> Member | None:
        """Return a member, or None."""
        return self._session.get(Member, member_id)

    def badges_of(self, member: Member) -> list[Badge]:
        """Return a member's badges, most recently changed first."""
        return list(self._session.execute(
            select(Badge).where(Badge.shop_id.in_([s.id for s in member.shops] or [-1]))
            .order_by(Badge.updated_at.desc())).scalars())
