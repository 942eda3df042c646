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

from signer.clock import Clock
from signer.errors import InvalidInput
from signer.ids import format_badge_id
from verifier.audit.service import MAX_PAGE
from verifier.storage.models import Badge, Branch, Member, Shop

if TYPE_CHECKING:
    from verifier.badges.rules import IssueRequest


def _same_person(member: Member, holder: str, via: str) -> None:
    """Refuse a holder name that is not the chosen member's: a typo must not bind a badge to someone else."""
    if member.name != holder:
        raise InvalidInput(f"holder {holder!r} is not the name of the member chosen by {via} ({member.name!r})",
                           field="holder")


def by_ref(session: Session, ref: str) -> Member | None:
    """Return the member with this member number, or None."""
    return session.execute(select(Member).where(Member.member_ref == ref)).scalar_one_or_none()


def resolve(session: Session, req: IssueRequest, branch: Branch, *, clock: Clock) -> Member:
    """Return the member a (validated) request issues to: chosen by id, found by number, or new."""
    if req.member is not None:
        member = session.get(Member, req.member)
        if member is None or member.branch_id != branch.id:
            raise InvalidInput(f"no member {req.member} in branch {branch.code}", field="member", kind="unknown_member",
                               params={"value": req.member})
        _same_person(member, req.holder, "member")
        if req.member_ref is not None and member.member_ref != req.member_ref:
            if member.member_ref is not None:
                raise InvalidInput("member_ref is not this member's number", field="member_ref")
            if by_ref(session, req.member_ref) is not None:
                raise InvalidInput("member_ref already belongs to another member", field="member_ref")
            member.member_ref = req.member_ref  # the committee's number, recorded on first use
        return member
    if req.member_ref is not None:
        found = by_ref(session, req.member_ref)
        if found is not None:
            if found.branch_id != branch.id:
                raise InvalidInput(f"member_ref belongs to a member outside branch {branch.code}",
                                   field="member_ref")
            _same_person(found, req.holder, "member_ref")
            return found
    member = Member(name=req.holder, member_ref=req.member_ref, branch=branch, created_at=clock())
    session.add(member)
    return member


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
