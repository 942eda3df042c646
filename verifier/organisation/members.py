"""Members as people, not names: pick one by id or member number, find namesakes, list them.

Two people may share a name (two 王五 in one branch). A badge therefore goes to a member chosen
by id (``member``) or by the committee's own member number (``member_ref``); with neither, a
new member is created. A name alone never selects anyone.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session, selectinload

from signer.errors import InvalidInput
from signer.ids import format_badge_id
from verifier.audit.service import MAX_PAGE
from verifier.storage.models import Badge, Branch, Member, Shop

if TYPE_CHECKING:
    from verifier.badges.rules import IssueRequest


def _same_person(name: str, holder: str, via: str) -> None:
    """Refuse a holder name that is not the chosen member's: a typo must not bind a badge to someone else."""
    if name != holder:
        raise InvalidInput(f"holder {holder!r} is not the name of the member chosen by {via} ({name!r})",
                           field="holder")


def by_ref(session: Session, ref: str) -> Member | None:
    """Return the member with this member number, or None."""
    return session.execute(select(Member).where(Member.member_ref == ref)).scalar_one_or_none()


class Chooser:
    """Decide whom each (validated) request of a batch issues to: a member chosen by id, found by number, or new.

    The requests are decided in order, as if issued one after another: a number first given
    to a new member earlier in the batch finds that member later in it. Two queries load every
    member the batch names; :meth:`choose` then needs no database.
    """

    def __init__(self, session: Session, requests: Iterable[IssueRequest], *, chunk: int = 500) -> None:
        wanted = list(requests)
        self._refs = by_refs(session, (r.member_ref for r in wanted if r.member_ref is not None), chunk=chunk)
        ids = sorted({r.member for r in wanted if r.member is not None})
        self._ids: dict[int, tuple[str, int, str | None]] = {}
        for i in range(0, len(ids), chunk):
            for mid, name, branch_id, ref in session.execute(
                select(Member.id, Member.name, Member.branch_id, Member.member_ref)
                .where(Member.id.in_(ids[i:i + chunk]))
            ).all():
                self._ids[mid] = (name, branch_id, ref)
        self._new: dict[str, tuple[str, str]] = {}  # a number first given to a new member in this batch

    def choose(self, req: IssueRequest, branch: Branch) -> tuple[int | None, bool]:
        """Return (the existing member's id or None for a new member, whether to record ``member_ref`` on it).

        Raise InvalidInput when the request names someone else: another branch's member, a
        name that is not the member's, a number that belongs to another member.
        """
        ref = req.member_ref
        if req.member is not None:
            found = self._ids.get(req.member)
            if found is None or found[1] != branch.id:
                raise InvalidInput(f"no member {req.member} in branch {branch.code}", field="member",
                                   kind="unknown_member", params={"value": req.member})
            name, branch_id, own = found
            _same_person(name, req.holder, "member")
            if ref is None or own == ref:
                return req.member, False
            if own is not None:
                raise InvalidInput("member_ref is not this member's number", field="member_ref")
            if ref in self._refs or ref in self._new:
                raise InvalidInput("member_ref already belongs to another member", field="member_ref")
            # The committee's number, recorded on first use; later requests find the member by it.
            self._ids[req.member] = (name, branch_id, ref)
            self._refs[ref] = (req.member, name, branch_id)
            return req.member, True
        if ref is None:
            return None, False
        known = self._refs.get(ref)
        if known is not None:
            if known[2] != branch.id:
                raise InvalidInput(f"member_ref belongs to a member outside branch {branch.code}",
                                   field="member_ref")
            _same_person(known[1], req.holder, "member_ref")
            return known[0], False
        if self._new.setdefault(ref, (req.holder, branch.code)) != (req.holder, branch.code):
            raise InvalidInput("member_ref is given to another holder or branch earlier in the file",
                               field="member_ref", kind="ref_reused")
        return None, False


def namesakes(session: Session, branch_code: str, name: str, *, limit: int = 20) -> list[Member]:
    """Return the members of a branch with exactly this name (with their shops), oldest first."""
    return list(session.execute(
        select(Member).join(Member.branch).where(Branch.code == branch_code, Member.name == name.strip())
        .options(selectinload(Member.shops)).order_by(Member.id).limit(limit)).scalars())


def search(session: Session, *, branch: str | None, q: str | None, page: int,
           per_page: int) -> tuple[list[Member], int]:
    """Return (members, total) of a branch (or all), by name or member number, newest first."""
    query = select(Member).join(Member.branch)
    if branch:
        query = query.where(Branch.code == branch)
    if q:
        like = f"%{q.strip()[:100]}%"
        query = query.where(or_(Member.name.like(like), Member.member_ref.like(like)))
    total = int(session.execute(select(func.count()).select_from(query.subquery())).scalar_one())
    rows = session.execute(
        query.options(selectinload(Member.groups), selectinload(Member.branch))
        .order_by(Member.id.desc()).offset((min(page, MAX_PAGE) - 1) * per_page).limit(per_page)).scalars().all()
    return list(rows), total


def badge_ids(session: Session, members: Iterable[Member]) -> dict[int, list[str]]:
    """Return each member's badge ids (grouped form), oldest first, in one query."""
    ids = [m.id for m in members]
    found: dict[int, list[str]] = {i: [] for i in ids}
    if ids:
        for member_id, badge_id in session.execute(
            select(Shop.member_id, Badge.id).join(Badge, Badge.shop_id == Shop.id)
            .where(Shop.member_id.in_(ids)).order_by(Badge.valid_from, Badge.id)
        ).all():
            found[member_id].append(format_badge_id(badge_id))
    return found


def member_json(member: Member, badges: list[str]) -> dict[str, Any]:
    """Return a member as the admin API shows it (no private contact)."""
    return {"id": member.id, "name": member.name, "member_ref": member.member_ref, "branch": member.branch.code,
            "groups": sorted(g.code for g in member.groups), "badges": badges}


def by_refs(session: Session, refs: Iterable[str], *, chunk: int = 500) -> dict[str, tuple[int, str, int]]:
    """Return {member number: (id, name, branch id)} of the members holding these numbers."""
    wanted = sorted(set(refs))
    found: dict[str, tuple[int, str, int]] = {}
    for i in range(0, len(wanted), chunk):
        for mid, name, branch_id, ref in session.execute(
            select(Member.id, Member.name, Member.branch_id, Member.member_ref)
            .where(Member.member_ref.in_(wanted[i:i + chunk]))
        ).all():
            found[str(ref)] = (mid, name, branch_id)
    return found
