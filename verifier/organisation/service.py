"""The organisation: branches, virtual party groups, members."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from signer.clock import Clock
from signer.errors import Conflict, InvalidInput
from verifier.audit.service import Actor, AuditLog
from verifier.storage.models import Branch, Member, PartyGroup

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
        raise InvalidInput(f"{field} must not contain NUL characters", field=field)
    return name


def _contact(value: str | None) -> str | None:
    contact = (value or "").strip()
    if len(contact) > MAX_CONTACT:  # refused, never cut: a truncated phone number reaches a stranger
        raise InvalidInput(f"contact is longer than {MAX_CONTACT} characters", field="contact", kind="too_long",
                           limit=MAX_CONTACT)
    if "\x00" in contact:
        raise InvalidInput("contact must not contain NUL characters", field="contact")
    return contact or None


class OrgService:
    """Create and look up branches, groups and members; the caller owns the transaction."""

    def __init__(self, session: Session, *, clock: Clock, audit: AuditLog) -> None:
        self._session = session
        self._clock = clock
        self._audit = audit

    def add_branch(self, code: str, name: str, *, actor: Actor) -> Branch:
        """Add a branch."""
        code, name = _code(code, "code"), _name(name)
        if self._session.execute(select(Branch).where(Branch.code == code)).scalar_one_or_none():
            raise Conflict(f"branch {code} already exists")
        branch = Branch(code=code, name=name, created_at=self._clock())
        self._session.add(branch)
        self._session.flush()
        self._audit.append(actor, "branch_add", target=code, branch_code=code, after={"name": name})
        return branch

    def add_group(self, code: str, name: str, kind: str, *, actor: Actor) -> PartyGroup:
        """Add a virtual party group (by trade or by area)."""
        code, name = _code(code, "code"), _name(name)
        if kind not in GROUP_KINDS:
            raise InvalidInput("kind must be trade or area", field="kind")
        if self._session.execute(select(PartyGroup).where(PartyGroup.code == code)).scalar_one_or_none():
            raise Conflict(f"group {code} already exists")
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
            raise InvalidInput(f"no branch with code {branch_code!r}", field="branch")
        member = Member(name=_name(name), branch=branch, contact=_contact(contact),
                        created_at=self._clock())
        self._session.add(member)
        for code in groups:
            group = self._session.execute(select(PartyGroup).where(PartyGroup.code == code)).scalar_one_or_none()
            if group is None:
                raise InvalidInput(f"no group with code {code!r}", field="groups")
            member.groups.append(group)
        self._session.add(member)
        self._session.flush()
        self._audit.append(actor, "member_add", target=f"member:{member.id}", branch_code=branch.code,
                           after={"name": member.name, "groups": list(groups)})
        return member
