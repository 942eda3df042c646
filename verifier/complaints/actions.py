"""What shoppers, administrators and the CLI do to complaints, each write one unit of work.

Views and commands parse, call one method here and render. The transaction is opened and
committed (or rolled back) here; the policy is asked through the ``allow`` callable the
caller passes (``allow(action, branch_code=...)`` raises unless permitted), under the lock,
before anything changes; what a change means is :class:`ComplaintService`'s to decide.
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager, nullcontext
from typing import Any

from verifier.audit.service import Actor
from verifier.badges.service import BadgeService
from verifier.complaints.service import ComplaintForm, ComplaintNotFound, ComplaintService, Filing
from verifier.storage.models import Badge, Complaint, ComplaintEvidence
from verifier.storage.unit import UnitOfWork

#: ``allow(action, branch_code=...)``: raises unless the caller may take ``action`` in that branch.
Allow = Callable[..., None]


class ComplaintActions:
    """File, look up, list, handle and purge complaints; suspend a complaint's badge."""

    def __init__(self, uow: UnitOfWork, *, complaints: ComplaintService, badges: BadgeService) -> None:
        self._uow = uow
        self._session = uow.session
        self._complaints = complaints
        self._badges = badges

    # -- shoppers -------------------------------------------------------------------------------
    def badge(self, raw_id: str) -> Badge:
        """Return the badge a shopper complains about (pending and rejected ones are not found)."""
        return self._badges.get_public(raw_id)

    def file(self, badge: Badge, form: ComplaintForm, *, client: str | None, actor: Actor,
             decoding: AbstractContextManager[Any] | None = None) -> Filing:
        """File a complaint about ``badge`` (or merge a repeat into the earlier one) and commit it.

        The evidence is decoded and re-encoded first, outside the transaction (inside
        ``decoding``, the caller's budget for that work, when there is evidence): a write lock
        held while pictures decode made every other writer wait (SQLite) or time out.
        """
        images: tuple[tuple[bytes, str], ...] = ()
        if form.evidence:
            with decoding or nullcontext():
                images = self._complaints.prepare_evidence(form)
        with self._uow.write():
            return self._complaints.file(badge, form, client=client, actor=actor, images=images)

    # -- administrators -------------------------------------------------------------------------
    def get(self, number: str, *, allow: Allow) -> Complaint:
        """Return the complaint once ``allow`` admits ``complaint.read`` on its branch."""
        complaint = self._complaints.by_tracking_number(number)
        allow("complaint.read", branch_code=complaint.branch.code)
        return complaint

    def queue(self, *, branch_code: str | None, status: str | None, page: int,
              per_page: int, held: bool | None = None) -> tuple[list[Complaint], int]:
        """Return one page of complaints (oldest first, held ones after the rest) and the total count."""
        return self._complaints.queue(branch_code=branch_code, status=status, page=page, per_page=per_page,
                                      held=held)

    def evidence(self, complaint: Complaint, evidence_id: int) -> ComplaintEvidence:
        """Return one evidence image of ``complaint`` or raise ComplaintNotFound."""
        item = self._session.get(ComplaintEvidence, evidence_id)
        if item is None or item.complaint_id != complaint.id:
            raise ComplaintNotFound("no such evidence")
        return item

    def change_state(self, number: str, *, status: Any, reply: Any, note: Any, actor: Actor,
                     allow: Allow) -> Complaint:
        """Move a complaint to ``status`` with a public reply and a private note (audited)."""
        with self._uow.write():
            complaint = self._locked(number, allow=allow)
            return self._complaints.change_state(complaint, status=status, reply=reply, note=note, actor=actor)

    def suspend_badge(self, number: str, *, actor: Actor, allow: Allow) -> Complaint:
        """Suspend the complaint's badge while it is investigated; the audit links both ways."""
        with self._uow.write():
            complaint = self._locked(number, allow=allow)
            badge = self._badges.get(complaint.badge_id)
            allow("badge.suspend", branch_code=badge.branch.code)
            self._badges.suspend(badge.id, actor=actor, note=f"complaint {complaint.tracking_number}")
            self._complaints.record_badge_suspension(complaint, actor=actor)
            return complaint

    def _locked(self, number: str, *, allow: Allow) -> Complaint:
        complaint = self._complaints.by_tracking_number(number, for_update=True)
        allow("complaint.write", branch_code=complaint.branch.code)
        return complaint

    # -- retention ------------------------------------------------------------------------------
    def purge(self, *, retention_days: int, actor: Actor) -> dict[str, int]:
        """Remove personal data of complaints closed before the retention period (one transaction)."""
        with self._uow.write():
            return self._complaints.purge(retention_days=retention_days, actor=actor)
