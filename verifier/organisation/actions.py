"""What the console, the public documents and the CLI read from and do to the organisation.

Each write is one unit of work with its audit record; reads need no transaction of their own.
"""

from __future__ import annotations

from sqlalchemy import select

from verifier.audit.service import Actor
from verifier.organisation.service import OrgService
from verifier.storage.models import Branch
from verifier.storage.unit import UnitOfWork


class OrgActions:
    """Branches: list them, look one up, add one."""

    def __init__(self, uow: UnitOfWork, *, org: OrgService) -> None:
        self._uow = uow
        self._session = uow.session
        self._org = org

    def branches(self, *, scope: str | None = None) -> list[Branch]:
        """Return every branch by code (or only ``scope``'s: a branch administrator's view)."""
        query = select(Branch).order_by(Branch.code)
        if scope:
            query = query.where(Branch.code == scope)
        return list(self._session.execute(query).scalars())

    def branch(self, code: str) -> Branch | None:
        """Return the branch with this code, if any."""
        return self._session.execute(select(Branch).where(Branch.code == code)).scalar_one_or_none()

    def add_branch(self, code: str, name: str, *, actor: Actor) -> Branch:
        """Add a branch (audited)."""
        with self._uow.write():
            return self._org.add_branch(code, name, actor=actor)
