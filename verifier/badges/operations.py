"""The console's badge operations, each one whole transaction: begin the write, decide, audit, commit.

:class:`BadgeService` decides and leaves the transaction to its caller (the CLI runs several calls
in one, a complaint suspends a badge and records it in one). The console's views call these
instead: every method here owns its transaction — a refusal rolls everything back — so no view
begins, commits or rolls back anything, and no view queries the database itself.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from sqlalchemy import select

from signer.clock import Clock
from verifier.audit.service import Actor
from verifier.badges import previews
from verifier.badges.bulk import BulkImporter, ImportReport, parse_csv
from verifier.badges.rules import IssueRequest
from verifier.badges.service import BadgeService
from verifier.organisation import members
from verifier.storage.models import AuditEvent, Badge, Member
from verifier.storage.unit import UnitOfWork


class BadgeOperations:
    """Issue, act on, renew, decide and import badges for the console, one transaction each."""

    def __init__(self, uow: UnitOfWork, *, service: BadgeService, clock: Clock,
                 importer: Callable[[], BulkImporter]) -> None:
        self._uow = uow
        self._session = uow.session
        self._service = service
        self._clock = clock
        self._importer = importer

    def issue(self, req: IssueRequest, *, actor: Actor, new_person: bool) -> Badge | list[Member]:
        """Issue a badge, or return the branch's namesakes when the request chose no member.

        A name never selects a member: with members of that name in the branch, no member chosen,
        "a new person" not chosen and no known member number, nothing is issued and the namesakes
        come back to choose from.
        """
        with self._uow.write():
            if req.member is None and not new_person and not (req.member_ref and members.by_ref(self._session,
                                                                                                 req.member_ref)):
                found = members.namesakes(self._session, req.branch, req.holder)
                if found:
                    return found
            return self._service.issue(req, actor=actor)

    def act(self, raw_id: str, action: str, *, actor: Actor, note: str | None = None, reason: str = "",
            valid_days: int | None = None) -> Badge:
        """Suspend, reinstate, renew or revoke one badge."""
        with self._uow.write():
            if action == "suspend":
                return self._service.suspend(raw_id, actor=actor, note=note)
            if action == "reinstate":
                return self._service.reinstate(raw_id, actor=actor, note=note)
            if action == "renew":
                return self._service.renew(raw_id, actor=actor, valid_days=valid_days)
            return self._service.revoke(raw_id, actor=actor, reason=reason, note=note)

    def decide(self, raw_id: str, *, approve: bool, actor: Actor, reason: str = "") -> Badge:
        """Approve (the badge is signed) or reject (with a reason) an application."""
        with self._uow.write():
            if approve:
                return self._service.approve(raw_id, actor=actor)
            return self._service.reject(raw_id, actor=actor, note=reason)

    def renew_many(self, raw_ids: Sequence[str], *, actor: Actor, allow: Callable[[Badge], None]) -> int:
        """Renew every badge (``allow`` checks each first): all of them, or none."""
        with self._uow.write():
            badges = [self._service.get(raw) for raw in raw_ids]
            for badge in badges:  # one refusal and nothing is renewed
                allow(badge)
            for badge in badges:
                self._service.renew(badge.id, actor=actor)
            return len(badges)

    def history(self, shown_id: str, *, limit: int = 200) -> list[AuditEvent]:
        """Return a badge's audit events, newest first."""
        return list(self._session.execute(
            select(AuditEvent).where(AuditEvent.target == shown_id).order_by(AuditEvent.seq.desc()).limit(limit)
        ).scalars())

    # -- import ---------------------------------------------------------------
    def preview(self, text: str, *, actor: Actor, user_id: int, branch_scope: str | None) -> tuple[ImportReport, str | None]:
        """Check a CSV file (nothing issued); keep it for commit when every row passes: (report, token)."""
        rows, parse_errors = parse_csv(text)
        report = self._importer().run(rows, actor=actor, dry_run=True, branch_scope=branch_scope,
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
                report = self._importer().run(rows, actor=actor, branch_scope=branch_scope,
                                              parse_errors=parse_errors)
                if not report.ok:
                    raise _Refused(report)  # rolls back whatever the import wrote
                self._session.delete(preview)
                return report
        except _Refused as refused:
            return refused.report


class _Refused(Exception):
    """A refused import, carried out of its transaction so that it rolls back."""

    def __init__(self, report: ImportReport) -> None:
        super().__init__("import refused")
        self.report = report
