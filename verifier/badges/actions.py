"""What the console, the admin API, applicants and the CLI do to badges, each method one unit of work.

Views and commands parse the request, call one method here and render the answer. Here the
write transaction is opened, the policy is asked (through the ``allow`` callable the caller
passes: the principal is the web layer's business) and the transaction is committed or, on
any error, rolled back. What a change means is decided by :class:`BadgeService`.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from datetime import datetime
from typing import Any

from signer.lifecycle import State
from verifier.audit.service import Actor
from verifier.badges.bulk import BulkImporter, ImportReport, RowError
from verifier.badges.linkeddata import LinkedDataService
from verifier.badges.rules import IssueRequest
from verifier.badges.service import BadgeService
from verifier.storage.models import Badge
from verifier.storage.unit import UnitOfWork

_logger = logging.getLogger(__name__)

#: ``allow(action, branch_code=...)``: raises unless the caller may take ``action`` in that branch.
Allow = Callable[..., None]

#: The lifecycle changes an administrator asks for by name (the policy action is ``badge.<name>``).
CHANGES = ("suspend", "reinstate", "revoke", "renew")


class _Rejected(Exception):
    """Rolls back an import with rejected rows; carries the report out of the transaction."""

    def __init__(self, report: ImportReport) -> None:
        super().__init__("rows rejected")
        self.report = report


def allow_all(action: str, *, branch_code: str | None) -> None:
    """Admit everything: the CLI's policy (whoever runs ``liang`` on the server may do anything)."""


class BadgeActions:
    """Issue, apply, change state, look up and list badges; the linked-data form on demand."""

    def __init__(self, uow: UnitOfWork, *, badges: BadgeService, linked: LinkedDataService | None = None) -> None:
        self._uow = uow
        self._badges = badges
        self._linked = linked

    # -- reads ----------------------------------------------------------------------------------
    def get(self, raw_id: str, *, allow: Allow, action: str = "badge.read") -> Badge:
        """Return a badge (any state) once ``allow`` admits ``action`` on its branch."""
        badge = self._badges.get(raw_id)
        allow(action, branch_code=badge.branch.code)
        return badge

    def search(self, *, branch: str | None, status: str | None, q: str | None, page: int,
               per_page: int) -> tuple[list[Badge], int]:
        """Return (badges, total) matching the filters, newest first."""
        return self._badges.search(branch=branch, status=status, q=q, page=page, per_page=per_page)

    def expiring(self, *, days: int) -> list[Badge]:
        """Return live badges whose validity ends within ``days``, soonest first."""
        return self._badges.expiring(days=days)

    # -- writes ---------------------------------------------------------------------------------
    def issue(self, req: IssueRequest, *, actor: Actor, allow: Allow,
              valid_from: datetime | None = None) -> Badge:
        """Issue a signed badge (``allow`` is asked for ``badge.issue`` in the requested branch)."""
        allow("badge.issue", branch_code=req.branch)
        with self._uow.write():
            return self._badges.issue(req, actor=actor, valid_from=valid_from)

    def apply(self, req: IssueRequest, *, actor: Actor, contact: str) -> Badge:
        """Record a member merchant's application: a pending badge the branch decides on."""
        with self._uow.write():
            return self._badges.issue(req, actor=actor, state=State.PENDING, contact=contact)

    def change(self, name: str, raw_id: str, *, actor: Actor, allow: Allow, **params: Any) -> Badge:
        """Suspend, reinstate, revoke or renew a badge (``params``: note, reason, valid_days) as ``actor``.

        The badge is read under the write lock and ``allow`` asked for ``badge.<name>`` on its
        branch before anything changes; a refusal rolls back.
        """
        if name not in CHANGES:
            raise ValueError(f"unknown badge change {name!r}")
        with self._uow.write():
            badge = self._badges.get(raw_id)
            allow(f"badge.{name}", branch_code=badge.branch.code)
            transition: Callable[..., Badge] = getattr(self._badges, name)
            return transition(badge.id, actor=actor, **params)

    def import_rows(self, importer: BulkImporter, rows: list[tuple[int, IssueRequest]], *, actor: Actor,
                    dry_run: bool = False, progress: Callable[[int], None] | None = None,
                    parse_errors: Iterable[RowError] = ()) -> ImportReport:
        """Issue a file's rows in one transaction: all or none (a report with rejected rows rolls back)."""
        try:
            with self._uow.write():
                report = importer.run(rows, actor=actor, dry_run=dry_run, progress=progress,
                                      parse_errors=parse_errors)
                if not report.ok:
                    raise _Rejected(report)
        except _Rejected as rejected:
            return rejected.report
        return report

    def linked_data(self, raw_id: str) -> str:
        """Return a public badge's JSON-LD credential, creating and keeping it on first use."""
        linked = self._linked_data()
        text = linked.for_badge(raw_id, create=False)
        if text is not None:
            return text
        # Signed before this form existed, or bulk-imported: create it under the write lock.
        self._uow.session.rollback()  # end the read so that the writer starts afresh
        with self._uow.write():
            return str(linked.for_badge(raw_id, create=True))

    def backfill_linked_data(self, *, limit: int = 200) -> int:
        """Create the JSON-LD form of up to ``limit`` badges that have none, in one transaction."""
        with self._uow.write():
            return self._linked_data().backfill(limit=limit)

    def _linked_data(self) -> LinkedDataService:
        if self._linked is None:
            raise RuntimeError("BadgeActions was built without the linked-data service")
        return self._linked
