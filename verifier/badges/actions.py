"""The one door to badges: what the console, the admin API, applicants and the CLI do, each write one unit of work.

Views and commands parse the request, call one method here and render the answer. Here the
write transaction is opened, the policy is asked (through the ``allow`` callable the caller
passes: the principal is the web layer's business) and the transaction is committed or, on
any error, rolled back. What a change means is decided by :class:`BadgeService`.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Iterator, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import select

from signer.clock import Clock
from signer.credentials import Issuer
from signer.lifecycle import State
from verifier.audit.service import Actor
from verifier.badges import previews
from verifier.badges.bulk import BulkImporter, ImportReport, RowError, parse_csv
from verifier.badges.export import iter_statuses
from verifier.badges.linkeddata import LinkedDataService
from verifier.badges.rules import IssueRequest
from verifier.badges.service import BadgeService
from verifier.organisation import members
from verifier.storage.models import AuditEvent, Badge, Member
from verifier.storage.unit import UnitOfWork

_logger = logging.getLogger(__name__)

#: ``allow(action, branch_code=...)``: raises unless the caller may take ``action`` in that branch.
Allow = Callable[..., None]

#: The lifecycle changes an administrator asks for by name (the policy action is ``badge.<name>``).
CHANGES = ("suspend", "reinstate", "revoke", "renew")


class _Refused(Exception):
    """Rolls back an import with refused rows; carries the report out of the transaction."""

    def __init__(self, report: ImportReport) -> None:
        super().__init__("import refused")
        self.report = report


def allow_all(action: str, *, branch_code: str | None) -> None:
    """Admit everything: the CLI's policy (whoever runs ``liang`` on the server may do anything)."""


class BadgeActions:
    """Issue, apply, decide, change state, renew many, import, look up and list badges; the linked-data form."""

    def __init__(self, uow: UnitOfWork, *, badges: BadgeService, issuer: Issuer, clock: Clock,
                 importer: Callable[[], BulkImporter] | None = None, linked: LinkedDataService | None = None) -> None:
        self._uow = uow
        self._session = uow.session
        self._badges = badges
        self._issuer = issuer
        self._clock = clock
        self._importer = importer
        self._linked = linked

    # -- reads ----------------------------------------------------------------------------------
    def get(self, raw_id: str, *, allow: Allow, action: str = "badge.read") -> Badge:
        """Return a badge (any state) once ``allow`` admits ``action`` on its branch."""
        badge = self._badges.get(raw_id)
        allow(action, branch_code=badge.branch.code)
        return badge

    def search(self, *, branch: str | None, status: str | None, q: str | None = None, page: int,
               per_page: int) -> tuple[list[Badge], int]:
        """Return (badges, total) matching the filters, newest first."""
        return self._badges.search(branch=branch, status=status, q=q, page=page, per_page=per_page)

    def expiring(self, *, days: int, branch: str | None = None) -> list[Badge]:
        """Return live badges (of ``branch`` only when given) whose validity ends within ``days``, soonest first."""
        return self._badges.expiring(days=days, branch=branch)

    def statuses(self) -> Iterator[dict[str, Any]]:
        """Yield every public badge's JSON status, streamed (the export)."""
        return iter_statuses(self._session, issuer=self._issuer, now=self._clock())

    def public(self, raw_id: str) -> Badge:
        """Return a badge shoppers may see (pending and rejected ones are not found)."""
        return self._badges.get_public(raw_id)

    def history(self, shown_id: str, *, limit: int = 200) -> list[AuditEvent]:
        """Return a badge's audit events, newest first."""
        return list(self._session.execute(
            select(AuditEvent).where(AuditEvent.target == shown_id).order_by(AuditEvent.seq.desc()).limit(limit)
        ).scalars())

    # -- writes ---------------------------------------------------------------------------------
    def issue(self, req: IssueRequest, *, actor: Actor, allow: Allow,
              valid_from: datetime | None = None) -> Badge:
        """Issue a signed badge (``allow`` is asked for ``badge.issue`` in the requested branch)."""
        allow("badge.issue", branch_code=req.branch)
        with self._uow.write():
            return self._badges.issue(req, actor=actor, valid_from=valid_from)

    def issue_or_namesakes(self, req: IssueRequest, *, actor: Actor, allow: Allow, new_person: bool) -> Badge | list[Member]:
        """Issue a badge, or return the branch's namesakes when the request chose no member.

        A name never selects a member: with members of that name in the branch, no member chosen,
        "a new person" not chosen and no known member number, nothing is issued and the namesakes
        come back to choose from.
        """
        allow("badge.issue", branch_code=req.branch)
        with self._uow.write():
            if req.member is None and not new_person and not (req.member_ref and members.by_ref(self._session,
                                                                                                 req.member_ref)):
                found = members.namesakes(self._session, req.branch, req.holder)
                if found:
                    return found
            return self._badges.issue(req, actor=actor)

    def apply(self, req: IssueRequest, *, actor: Actor, contact: str) -> Badge:
        """Record a member merchant's application: a pending badge the branch decides on."""
        with self._uow.write():
            return self._badges.issue(req, actor=actor, state=State.PENDING, contact=contact)

    def change(self, name: str, raw_id: str, *, actor: Actor, allow: Allow, note: str | None = None,
               reason: str | None = None, valid_days: int | None = None) -> Badge:
        """Suspend, reinstate, revoke (with ``reason``) or renew (for ``valid_days``) a badge as ``actor``.

        The badge is read under the write lock and ``allow`` asked for ``badge.<name>`` on its
        branch before anything changes; a refusal rolls back.
        """
        by_change: dict[str, dict[str, Any]] = {"suspend": {"note": note}, "reinstate": {"note": note},
                                                "revoke": {"reason": reason, "note": note},
                                                "renew": {"valid_days": valid_days}}
        if name not in CHANGES:
            raise ValueError(f"unknown badge change {name!r}")
        with self._uow.write():
            badge = self._badges.get(raw_id)
            allow(f"badge.{name}", branch_code=badge.branch.code)
            transition: Callable[..., Badge] = getattr(self._badges, name)
            return transition(badge.id, actor=actor, **by_change[name])

    def decide(self, raw_id: str, *, approve: bool, actor: Actor, allow: Allow, reason: str = "") -> Badge:
        """Approve (the badge is signed) or reject (with a reason) an application."""
        with self._uow.write():
            badge = self._badges.get(raw_id)
            allow("application.decide", branch_code=badge.branch.code)
            if approve:
                return self._badges.approve(badge.id, actor=actor)
            return self._badges.reject(badge.id, actor=actor, note=reason)

    def renew_many(self, raw_ids: Sequence[str], *, actor: Actor, allow: Allow) -> int:
        """Renew every badge (``allow`` is asked for ``badge.renew`` on each first): all of them, or none."""
        with self._uow.write():
            badges = [self._badges.get(raw) for raw in raw_ids]
            for badge in badges:  # one refusal and nothing is renewed
                allow("badge.renew", branch_code=badge.branch.code)
            for badge in badges:
                self._badges.renew(badge.id, actor=actor)
            return len(badges)

    def import_rows(self, importer: BulkImporter, rows: list[tuple[int, IssueRequest]], *, actor: Actor,
                    dry_run: bool = False, progress: Callable[[int], None] | None = None,
                    parse_errors: Iterable[RowError] = ()) -> ImportReport:
        """Issue a file's rows in one transaction: all or none (a report with rejected rows rolls back)."""
        try:
            with self._uow.write():
                report = importer.run(rows, actor=actor, dry_run=dry_run, progress=progress,
                                      parse_errors=parse_errors)
                if not report.ok:
                    raise _Refused(report)
        except _Refused as refused:
            return refused.report
        return report

    def preview(self, text: str, *, actor: Actor, user_id: int,
                branch_scope: str | None) -> tuple[ImportReport, str | None]:
        """Check a CSV file (nothing issued); keep it for commit when every row passes: (report, token)."""
        rows, parse_errors = parse_csv(text)
        report = self._bulk().run(rows, actor=actor, dry_run=True, branch_scope=branch_scope,
                                  parse_errors=parse_errors)
        if not (report.ok and rows):
            return report, None
        with self._uow.write():  # in the database: the commit may reach another instance
            return report, previews.keep(self._session, text, user_id=user_id, now=self._clock())

    def commit_import(self, token: str, *, actor: Actor, user_id: int,
                      branch_scope: str | None) -> ImportReport | None:
        """Import a previewed file, all rows or none; None when the preview is gone (expired, unknown, another's)."""
        try:
            with self._uow.write():
                preview = previews.take(self._session, token, user_id=user_id, now=self._clock())
                if preview is None:
                    return None  # committed: the expired ones stay deleted
                rows, parse_errors = parse_csv(preview.csv_text)
                report = self._bulk().run(rows, actor=actor, branch_scope=branch_scope, parse_errors=parse_errors)
                if not report.ok:
                    raise _Refused(report)  # rolls back whatever the import wrote
                self._session.delete(preview)
                return report
        except _Refused as refused:
            return refused.report

    def _bulk(self) -> BulkImporter:
        if self._importer is None:
            raise RuntimeError("BadgeActions was built without the bulk importer")
        return self._importer()

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

    def upgrade_signed_documents(self, *, actor: Actor) -> dict[str, int]:
        """Sign what an upgrade left in an older form (``liang init``); return what was done.

        Status lists without their JSON-LD form or with a ``jti`` are signed again; revoked badges get
        their suspension bit (the one ``credentialStatus`` names); credentials in an older status layout
        are re-signed (their JSON-LD form follows on first request), a few hundred per transaction.
        """
        with self._uow.write():
            bits = self._badges.mark_revoked_unacceptable()
            lists = self._badges.status_lists.resign_outdated()
        resigned, after = 0, ""
        while True:
            with self._uow.write():
                outdated, last = self._badges.outdated_credentials(after=after)
                for badge_id in outdated:
                    self._badges.resign(badge_id, actor=actor, linked_data=False)
                resigned += len(outdated)
            if last is None:
                break
            after = last
        return {"lists": lists, "revoked_bits": bits, "credentials": resigned}

    def backfill_linked_data(self, *, limit: int = 200) -> int:
        """Create the JSON-LD form of up to ``limit`` badges that have none, in one transaction."""
        with self._uow.write():
            return self._linked_data().backfill(limit=limit)

    def _linked_data(self) -> LinkedDataService:
        if self._linked is None:
            raise RuntimeError("BadgeActions was built without the linked-data service")
        return self._linked
