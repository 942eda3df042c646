"""Figures for the console dashboard (read only; scoped to one branch or all)."""

from __future__ import annotations

import logging
from collections import Counter
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import and_, case, func, select
from sqlalchemy.orm import Session

from signer.lifecycle import LISTED_STATES
from verifier.complaints.service import OPEN_STATES
from verifier.storage.models import Badge, Branch, Complaint, Member, Shop, VerificationCount

_logger = logging.getLogger(__name__)



@dataclass
class Dashboard:
    """What the dashboard shows."""

    branches: list[tuple[str, str]] = field(default_factory=list)  # (code, name)
    by_state: dict[str, dict[str, int]] = field(default_factory=dict)  # branch -> state -> n
    adoption: dict[str, tuple[int, int]] = field(default_factory=dict)  # branch -> (showing, members)
    per_day: list[tuple[date, int]] = field(default_factory=list)
    open_complaints: int = 0


class DashboardService:
    """Compute dashboard figures with a handful of grouped queries."""

    def __init__(self, session: Session, *, now: datetime, timezone: str,
                 pending: Counter[tuple[date, str]] | None = None) -> None:
        self._session = session
        self._now = now
        self._tz = ZoneInfo(timezone)
        self._pending = pending or Counter()

    def build(self, *, branch: str | None, days: int = 14) -> Dashboard:
        """Return the dashboard for one branch (``branch``) or the whole committee (None)."""
        board = Dashboard()
        query = select(Branch.code, Branch.name).order_by(Branch.code)
        if branch:
            query = query.where(Branch.code == branch)
        board.branches = [(c, n) for c, n in self._session.execute(query).all()]
        codes = [c for c, _ in board.branches]
        board.by_state = {c: dict.fromkeys(LISTED_STATES, 0) for c in codes}
        board.adoption = {c: (0, 0) for c in codes}
        now = self._now
        public = case(
            (and_(Badge.state == "active", Badge.valid_from > now), "not_yet_valid"),
            (and_(Badge.state == "active", Badge.valid_until <= now), "expired"),
            (Badge.state == "active", "valid"),
            else_=Badge.state,
        )
        rows = self._session.execute(
            select(Branch.code, public, func.count()).join(Badge.branch)
            .where(Branch.code.in_(codes)).group_by(Branch.code, public)
        ).all()
        for code, state, n in rows:
            board.by_state[code][state] = board.by_state[code].get(state, 0) + n
        members = dict(self._session.execute(
            select(Branch.code, func.count(Member.id)).join(Member, Member.branch_id == Branch.id)
            .where(Branch.code.in_(codes)).group_by(Branch.code)).all())
        showing = dict(self._session.execute(
            select(Branch.code, func.count(func.distinct(Shop.member_id)))
            .select_from(Badge).join(Badge.branch).join(Shop, Badge.shop_id == Shop.id)
            .where(Branch.code.in_(codes), Badge.state == "active", Badge.valid_from <= now, Badge.valid_until > now)
            .group_by(Branch.code)).all())
        board.adoption = {c: (int(showing.get(c, 0)), int(members.get(c, 0))) for c in codes}
        today = now.astimezone(self._tz).date()
        first = today - timedelta(days=days - 1)
        counts_q = (select(VerificationCount.day, func.sum(VerificationCount.count))
                    .join(Branch, VerificationCount.branch_id == Branch.id)
                    .where(VerificationCount.day >= first, Branch.code.in_(codes))
                    .group_by(VerificationCount.day))
        counts = Counter({d: int(n) for d, n in self._session.execute(counts_q).all()})
        counts.update(self._unwritten(first, codes))
        board.per_day = [(first + timedelta(days=i), counts.get(first + timedelta(days=i), 0)) for i in range(days)]
        board.open_complaints = self._open_complaints(branch)
        return board

    def _unwritten(self, first: date, codes: list[str]) -> Counter[date]:
        """Return this node's counted hits not yet written, per day, for these branches."""
        wanted = {(day, badge_id): n for (day, badge_id), n in self._pending.items() if day >= first}
        if not wanted:
            return Counter()
        ids = sorted({badge_id for _day, badge_id in wanted})
        shown = set(self._session.execute(select(Badge.id).join(Badge.branch)
                                          .where(Badge.id.in_(ids), Branch.code.in_(codes))).scalars())
        found: Counter[date] = Counter()
        for (day, badge_id), n in wanted.items():
            if badge_id in shown:
                found[day] += n
        return found

    def _open_complaints(self, branch: str | None) -> int:
        """Count the complaints still open (received or in progress), of one branch or all."""
        query = select(func.count(Complaint.id)).where(Complaint.state.in_(OPEN_STATES))
        if branch:
            query = query.join(Branch, Complaint.branch_id == Branch.id).where(Branch.code == branch)
        return int(self._session.execute(query).scalar_one())
