"""The one door to the organisation: what the console, the admin API, the public documents and the CLI
read from and do to branches, groups and members.

Each write is one unit of work with its audit record (opened and committed here, rolled back on any
error); what a change means is :class:`OrgService`'s to decide. Reads need no transaction of their own.
"""

from __future__ import annotations

from collections.abc import Callable

from verifier.audit.service import Actor
from verifier.organisation.service import OrgService
from verifier.storage.models import Badge, Branch, Member, PartyGroup
from verifier.storage.unit import UnitOfWork


class OrgActions:
    """Branches, groups, members: look them up, add and edit them, put members into groups."""

    def __init__(self, uow: UnitOfWork, *, org: OrgService) -> None:
        self._uow = uow
        self._org = org

    # -- reads ----------------------------------------------------------------------------------
    def branches(self, *, scope: str | None = None) -> list[Branch]:
        """Return every branch by code (or only ``scope``'s: a branch administrator's view)."""
        return self._org.branches(scope=scope)

    def branch(self, code: str) -> Branch | None:
        """Return the branch with this code, if any."""
        return self._org.branch(code)

    def counts(self) -> tuple[dict[int, int], dict[int, int]]:
        """Return ({branch id: members}, {branch id: badges})."""
        return self._org.counts()

    def groups(self) -> list[PartyGroup]:
        """Return every group with its members, by code."""
        return self._org.groups()

    def members_of(self, *, scope: str | None, limit: int = 1000) -> list[Member]:
        """Return members (of ``scope`` only when given) by name, for a choice list."""
        return self._org.members_of(scope=scope, limit=limit)

    def search(self, *, branch: str | None, q: str | None, page: int, per_page: int) -> tuple[list[Member], int]:
        """Return (members, total) of a branch (or all), by name or member number, newest first."""
        return self._org.search(branch=branch, q=q, page=page, per_page=per_page)

    def badge_ids(self, rows: list[Member]) -> dict[int, list[str]]:
        """Return each member's badge ids."""
        return self._org.badge_ids(rows)

    def member(self, member_id: int) -> Member | None:
        """Return a member, or None."""
        return self._org.member(member_id)

    def badges_of(self, member: Member) -> list[Badge]:
        """Return a member's badges, most recently changed first."""
        return self._org.badges_of(member)

    # -- writes ---------------------------------------------------------------------------------
    def add_branch(self, code: str, name: str, *, actor: Actor) -> Branch:
        """Add a branch (audited)."""
        with self._uow.write():
            return self._org.add_branch(code, name, actor=actor)

    def add_group(self, code: str, name: str, kind: str, *, actor: Actor) -> PartyGroup:
        """Add a virtual party group (audited)."""
        with self._uow.write():
            return self._org.add_group(code, name, kind, actor=actor)

    def add_member(self, name: str, branch_code: str, *, actor: Actor, contact: str | None = None,
                   groups: tuple[str, ...] = ()) -> Member:
        """Add a member to a branch and, optionally, to groups (audited)."""
        with self._uow.write():
            return self._org.add_member(name, branch_code, actor=actor, contact=contact, groups=groups)

    def assign(self, group_id: int, member_id: int, *, actor: Actor, allow: Callable[[Member], None]) -> PartyGroup:
        """Put a member into a group (``allow`` checks the member's branch first)."""
        with self._uow.write():
            return self._org.assign(group_id, member_id, actor=actor, allow=allow)

    def edit_branch(self, code: str, name: str, *, actor: Actor) -> Branch:
        """Rename a branch."""
        with self._uow.write():
            return self._org.edit_branch(code, name, actor=actor)

    def edit_group(self, code: str, name: str, kind: str, *, actor: Actor) -> PartyGroup:
        """Rename a group or change its kind."""
        with self._uow.write():
            return self._org.edit_group(code, name, kind, actor=actor)

    def edit_member(self, member_id: int, *, name: str, contact: str | None, groups: tuple[str, ...],
                    actor: Actor, allow: Callable[[Member], None]) -> Member:
        """Correct a member's name and contact and set their groups (``allow`` checks the branch)."""
        with self._uow.write():
            return self._org.edit_member(member_id, name=name, contact=contact, groups=groups, actor=actor,
                                         allow=allow)
