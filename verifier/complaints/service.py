"""Shopper complaints: file, merge repeats, route to the issuing branch, handle, purge.

Plain Python: the session, clock and audit log are injected; nothing here
imports Flask. Personal data (contact, order number, evidence) never enters
the audit log, because the hash-chained log cannot be purged later.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import secrets
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session, joinedload

from signer.clock import Clock, isoformat_z
from signer.errors import BadgeNotFound, IllegalTransition, InvalidInput
from signer.ids import format_badge_id
from verifier.audit.service import Actor, AuditLog
from verifier.complaints.bursts import BURST_THRESHOLD, held_clause, hold_if_burst
from verifier.complaints.words import normalise_text, working_days_between
from verifier.storage.models import Badge, Branch, Complaint, ComplaintEvent, ComplaintEvidence
from verifier.web.uploads import reencode_evidence

_logger = logging.getLogger(__name__)

CATEGORIES = ("quality", "counterfeit", "false_advertising", "refund", "service", "other")
STATES = ("received", "in_progress", "resolved", "rejected")
OPEN_STATES = ("received", "in_progress")
CLOSED_STATES = ("resolved", "rejected")

#: The only place that says which complaint state may follow which. A closed
#: complaint may be reopened (the shopper comes back) unless its personal data
#: is already purged; "in_progress → received" undoes a premature pick-up.
TRANSITIONS: dict[str, frozenset[str]] = {
    "received": frozenset({"in_progress", "resolved", "rejected"}),
    "in_progress": frozenset({"received", "resolved", "rejected"}),
    "resolved": frozenset({"in_progress"}),
    "rejected": frozenset({"in_progress"}),
}

MAX_DESCRIPTION = 2000
MAX_ORDER_NUMBER = 100
MAX_CONTACT = 200
MAX_REPLY = 2000
MAX_NOTE = 4000
MAX_EVIDENCE = 3
MAX_EVIDENCE_BYTES = 5 * 1024 * 1024
MAX_PAGE = 100_000  # of the administrators' complaint queue
#: Same text, same client, same badge within this window: one complaint, not many.
MERGE_WINDOW = timedelta(minutes=10)
#: The 12315 online dispute rule: handle within 10 working days.
TARGET_WORKING_DAYS = 10

_TRACKING_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"  # Crockford base32
_TRACKING_RANDOM = 5  # 25 bits a day: unguessable enough for a number that unlocks nothing


class ComplaintNotFound(BadgeNotFound):
    """No complaint with this tracking number (or not visible to the caller)."""

    def __init__(self, message: str, *, tracking_number: str = "") -> None:
        super().__init__(message)
        self.tracking_number = tracking_number


@dataclass(frozen=True)
class ComplaintForm:
    """What a shopper submits, as plain values (evidence as raw uploaded bytes)."""

    category: Any
    description: Any
    order_number: Any = None
    contact: Any = None
    evidence: tuple[bytes, ...] = field(default_factory=tuple)


@dataclass(frozen=True)
class Filing:
    """The outcome of filing: the complaint and whether it merged into an earlier one."""

    complaint: Complaint
    merged: bool


def _content_hash(badge_id: str, form: ComplaintForm) -> str:
    """Return the hash that makes a repeat a repeat: every field the shopper filled in.

    Only a true double submission merges. Two shoppers behind one address (a campus, a
    mobile carrier's NAT) who write the same words but leave another contact, category,
    order number or photo are two complaints: nothing either of them gave is dropped.
    """
    digest = hashlib.sha256()
    for part in (badge_id, str(form.category or ""), str(form.order_number or ""), str(form.contact or ""),
                 normalise_text(str(form.description))):
        digest.update(part.encode("utf-8") + b"\x00")
    for data in form.evidence:
        digest.update(hashlib.sha256(data).digest())
    return digest.hexdigest()


def _clean(value: Any, fieldname: str, *, limit: int, required: bool = False, label: str = "") -> str | None:
    if value is None and required:
        raise InvalidInput(f"{label or fieldname} is required", field=fieldname, kind="required")
    if value is None or (isinstance(value, str) and not value.strip() and not required):
        return None
    if not isinstance(value, str):
        raise InvalidInput(f"{fieldname} must be text", field=fieldname, kind="not_text")
    value = value.replace("\r\n", "\n").strip()
    if "\x00" in value:
        raise InvalidInput(f"{fieldname} must not contain NUL characters", field=fieldname, kind="not_text")
    if required and not value:
        raise InvalidInput(f"{label or fieldname} is required", field=fieldname, kind="required")
    if len(value) > limit:
        raise InvalidInput(f"{label or fieldname} is longer than {limit} characters", field=fieldname, kind="too_long",
                           limit=limit)
    return value


def validate(form: ComplaintForm) -> ComplaintForm:
    """Return the form cleaned, or raise InvalidInput naming the field."""
    if form.category not in CATEGORIES:
        raise InvalidInput(f"category must be one of {', '.join(CATEGORIES)}", field="category")
    description = _clean(form.description, "description", limit=MAX_DESCRIPTION, required=True)
    order_number = _clean(form.order_number, "order_number", limit=MAX_ORDER_NUMBER)
    contact = _clean(form.contact, "contact", limit=MAX_CONTACT)
    if len(form.evidence) > MAX_EVIDENCE:
        raise InvalidInput(f"at most {MAX_EVIDENCE} evidence images", field="evidence")
    return ComplaintForm(category=form.category, description=description, order_number=order_number,
                         contact=contact, evidence=form.evidence)


class ComplaintService:
    """File and handle complaints; the caller owns the transaction."""

    def __init__(self, session: Session, *, clock: Clock, audit: AuditLog, client_key: bytes,
                 timezone: str = "Asia/Shanghai", burst_threshold: int = BURST_THRESHOLD) -> None:
        self._burst_threshold = burst_threshold
        self._session = session
        self._clock = clock
        self._audit = audit
        self._client_key = client_key
        self._tz = ZoneInfo(timezone)

    # -- filing ---------------------------------------------------------------
    def prepare_evidence(self, form: ComplaintForm) -> tuple[tuple[bytes, str], ...]:
        """Return the form's evidence re-encoded (bytes, media type), refusing a bad image.

        The costly part of filing, and it touches no database: callers run it before the
        write transaction, so no lock is held while pictures are decoded.
        """
        if len(form.evidence) > MAX_EVIDENCE:
            raise InvalidInput(f"at most {MAX_EVIDENCE} evidence images", field="evidence")
        return tuple(reencode_evidence(self._check_evidence(data)) for data in form.evidence)

    def file(self, badge: Badge, form: ComplaintForm, *, client: str | None, actor: Actor,
             images: tuple[tuple[bytes, str], ...] | None = None) -> Filing:
        """File a complaint about ``badge`` (or return the one it repeats).

        ``images`` is what :meth:`prepare_evidence` made of ``form.evidence`` (done here when absent).
        """
        form = validate(form)
        now = self._clock()
        content_hash = _content_hash(badge.id, form)
        client_hash = self.client_hash(client)
        if client_hash is not None:
            earlier = self._session.execute(
                select(Complaint).where(Complaint.badge_id == badge.id, Complaint.content_hash == content_hash,
                                        Complaint.client_hash == client_hash,
                                        Complaint.created_at >= now - MERGE_WINDOW)
                .order_by(Complaint.id).limit(1)
            ).scalar_one_or_none()
            if earlier is not None:
                return Filing(earlier, merged=True)
        if images is None:  # a bad image refuses the whole filing, before anything is stored
            images = self.prepare_evidence(form)
        complaint = Complaint(
            tracking_number=self._fresh_tracking_number(now), badge_id=badge.id, branch_id=badge.branch_id,
            category=form.category, order_number=form.order_number, description=form.description,
            contact=form.contact, state="received", content_hash=content_hash, client_hash=client_hash,
            created_at=now, updated_at=now,
        )
        for data, content_type in images:
            complaint.evidence.append(ComplaintEvidence(data=data, content_type=content_type, size=len(data),
                                                        created_at=now))
        complaint.events.append(ComplaintEvent(at=now, kind="filed", to_state="received", public=1))
        # A burst: accepted like any other (the shopper is not refused), flagged for the branch.
        held = hold_if_burst(self._session, complaint, now=now, threshold=self._burst_threshold,
                             words=normalise_text(str(form.description)))
        self._session.add(complaint)
        self._session.flush()
        self._audit.append(actor, "complaint_file", target=complaint.tracking_number,
                           branch_code=badge.branch.code, before=None,
                           after={"badge": format_badge_id(badge.id), "category": complaint.category,
                                  "state": complaint.state, "evidence": len(images), "held": held})
        return Filing(complaint, merged=False)

    def client_hash(self, client: str | None) -> str | None:
        """Return a keyed hash of the client address (the address itself is never stored)."""
        if not client:
            return None
        return hmac.new(self._client_key, client.encode("utf-8"), hashlib.sha256).hexdigest()

    @staticmethod
    def _check_evidence(data: bytes) -> bytes:
        if len(data) > MAX_EVIDENCE_BYTES:
            raise InvalidInput(f"each evidence image must be at most {MAX_EVIDENCE_BYTES // (1024 * 1024)} MB",
                               field="evidence")
        return data

    def _fresh_tracking_number(self, now: datetime) -> str:
        day = now.astimezone(self._tz).strftime("%Y%m%d")
        for _ in range(16):
            tail = "".join(secrets.choice(_TRACKING_ALPHABET) for _ in range(_TRACKING_RANDOM))
            candidate = f"TS-{day}-{tail}"
            if self._session.execute(
                    select(Complaint.id).where(Complaint.tracking_number == candidate)).first() is None:
                return candidate
        raise InvalidInput("could not draw a free tracking number; try again")  # 2^25 a day

    # -- look-ups -------------------------------------------------------------
    def get(self, complaint_id: int) -> Complaint:
        """Return the complaint with this database id or raise ComplaintNotFound."""
        complaint = self._session.get(Complaint, complaint_id)
        if complaint is None:
            raise ComplaintNotFound("no such complaint")
        return complaint

    def by_tracking_number(self, number: str, *, for_update: bool = False) -> Complaint:
        """Return the complaint with this tracking number (any case) or raise ComplaintNotFound."""
        cleaned = (number or "").strip().upper()
        if not cleaned or len(cleaned) > 24:
            raise ComplaintNotFound("no such complaint", tracking_number=cleaned[:24])
        query = select(Complaint).where(Complaint.tracking_number == cleaned).options(
            joinedload(Complaint.branch), joinedload(Complaint.badge))
        if for_update:
            # Refresh a complaint this session loaded before the lock: decide on the locked row.
            query = query.with_for_update(of=Complaint).execution_options(populate_existing=True)
        complaint = self._session.execute(query).unique().scalar_one_or_none()
        if complaint is None:
            raise ComplaintNotFound(f"no complaint {cleaned}", tracking_number=cleaned)
        return complaint

    def queue(self, *, branch_code: str | None = None, status: str | None = None, page: int = 1,
              per_page: int = 50, held: bool | None = None) -> tuple[list[Complaint], int]:
        """Return one page of complaints and the total count: oldest first, held ones after the rest.

        A flood held for review must not push a genuine complaint off the first page; ``held``
        True or False lists only the held complaints or only the others.
        """
        if status is not None and status not in STATES and status != "open":
            raise InvalidInput(f"status must be one of {', '.join(STATES)} or open", field="status")
        conditions: list[Any] = []
        if branch_code is not None:
            conditions.append(Branch.code == branch_code)
        if status == "open":
            conditions.append(Complaint.state.in_(OPEN_STATES))
        elif status is not None:
            conditions.append(Complaint.state == status)
        flooded: Any = held_clause()
        if held is True:
            conditions.append(flooded)
        elif held is False:
            conditions.append(~flooded)
        total = self._session.execute(
            select(func.count(Complaint.id)).join(Complaint.branch).where(*conditions)).scalar_one()
        page = max(int(page), 1)
        rows = self._session.execute(
            select(Complaint).join(Complaint.branch).where(*conditions)
            .options(joinedload(Complaint.branch), joinedload(Complaint.badge))
            .order_by(flooded, Complaint.created_at, Complaint.id)
            .offset((page - 1) * per_page).limit(per_page)
        ).unique().scalars()
        return list(rows), int(total)

    # -- handling -------------------------------------------------------------
    def change_state(self, complaint: Complaint, *, status: str, actor: Actor, reply: str | None = None,
                     note: str | None = None) -> Complaint:
        """Move a complaint to ``status`` with an optional public reply and private note (audited).

        Keeping the same state is allowed when a reply or note is given, so a
        branch can answer the shopper without pretending progress.
        """
        if status not in STATES:
            raise InvalidInput(f"status must be one of {', '.join(STATES)}", field="status")
        reply = _clean(reply, "reply", limit=MAX_REPLY)
        note = _clean(note, "note", limit=MAX_NOTE)
        before = complaint.state
        if status == before:
            if reply is None and note is None:
                raise IllegalTransition(f"the complaint is already {before}", state=before, action=status,
                                        subject="complaint")
        elif status not in TRANSITIONS[before] or (
                complaint.personal_data_purged_at is not None and status in OPEN_STATES):
            raise IllegalTransition(f"a complaint cannot go from {before} to {status}", state=before, action=status,
                                    subject="complaint")
        if status in CLOSED_STATES and status != before and reply is None:  # never closed in silence
            raise InvalidInput(f"a public reply is required to close a complaint ({status})", field="reply",
                               kind="reply_to_close")
        now = self._clock()
        complaint.state = status
        if status in CLOSED_STATES and before not in CLOSED_STATES:
            complaint.closed_at = now
        elif status in OPEN_STATES:
            complaint.closed_at = None
        if reply is not None:
            complaint.public_reply = reply
        if note is not None:
            complaint.private_note = note
        complaint.updated_at = now
        complaint.events.append(ComplaintEvent(
            at=now, kind="state" if status != before else "reply", from_state=before, to_state=status,
            public_reply=reply, public=1, actor=actor.name))
        self._session.flush()
        self._audit.append(actor, "complaint_status", target=complaint.tracking_number,
                           branch_code=complaint.branch.code, before={"state": before},
                           after={"state": status, "reply": reply is not None, "note": note is not None})
        return complaint

    def record_badge_suspension(self, complaint: Complaint, *, actor: Actor) -> None:
        """Note in the timeline and the audit log that the badge was suspended for this complaint."""
        now = self._clock()
        complaint.updated_at = now
        complaint.events.append(ComplaintEvent(at=now, kind="badge_suspended", public=0, actor=actor.name))
        self._session.flush()
        # Targeted at the badge so that the badge's history links back here.
        self._audit.append(actor, "complaint_suspend_badge", target=format_badge_id(complaint.badge_id),
                           branch_code=complaint.branch.code, before=None,
                           after={"complaint": complaint.tracking_number, "state": "suspended"})

    # -- privacy --------------------------------------------------------------
    def purge(self, *, retention_days: int, actor: Actor) -> dict[str, int]:
        """Remove contact, order number and evidence of complaints closed before the retention period."""
        if retention_days < 0:
            raise InvalidInput("the retention period must not be negative", field="retention_days")
        now = self._clock()
        cutoff = now - timedelta(days=retention_days)
        rows = list(self._session.execute(
            select(Complaint).where(Complaint.state.in_(CLOSED_STATES), Complaint.closed_at.is_not(None),
                                    Complaint.closed_at <= cutoff, Complaint.personal_data_purged_at.is_(None))
            .order_by(Complaint.id).with_for_update()
        ).scalars())
        ids = [c.id for c in rows]
        evidence = 0
        if ids:
            evidence = int(self._session.execute(
                select(func.count(ComplaintEvidence.id)).where(ComplaintEvidence.complaint_id.in_(ids))
            ).scalar_one())
            self._session.execute(delete(ComplaintEvidence).where(ComplaintEvidence.complaint_id.in_(ids)))
        for complaint in rows:
            complaint.contact = None
            complaint.order_number = None
            complaint.client_hash = None
            complaint.personal_data_purged_at = now
            self._session.add(ComplaintEvent(complaint_id=complaint.id, at=now, kind="purged", public=0,
                                             actor=actor.name))
        self._session.flush()
        self._session.expire_all()
        counts = {"complaints": len(rows), "evidence": evidence}
        self._audit.append(actor, "complaint_purge", target=None, before=None,
                           after={**counts, "retention_days": retention_days, "cutoff": isoformat_z(cutoff)})
        return counts

    # -- presentation ---------------------------------------------------------
    def age(self, complaint: Complaint) -> dict[str, Any]:
        """Return the complaint's age in working days against the 10-working-day target."""
        today = self._clock().astimezone(self._tz).date()
        end = complaint.closed_at.astimezone(self._tz).date() if complaint.closed_at else today
        days = working_days_between(complaint.created_at.astimezone(self._tz).date(), end)
        return {"working_days": days, "target": TARGET_WORKING_DAYS,
                "overdue": complaint.state in OPEN_STATES and days > TARGET_WORKING_DAYS}
