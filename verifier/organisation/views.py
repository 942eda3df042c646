"""Console pages for the organisation: branches, virtual party groups, members."""

from __future__ import annotations

import logging
from typing import Any

from flask import flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from sqlalchemy import func, or_, select
from sqlalchemy.orm import selectinload

from verifier import context
from verifier.accounts import guards
from verifier.accounts.policy import branch_scope
from verifier.console.blueprint import PER_PAGE, audit_log, bp, member_for, org_service, page_arg, visible_branches
from verifier.organisation.service import GROUP_KINDS
from verifier.storage.models import Badge, Branch, Member, PartyGroup
from verifier.web.errors import ApiError

_logger = logging.getLogger(__name__)


# -- organisation -------------------------------------------------------------------------------
@bp.route("/branches", methods=["GET", "POST"])
@guards.console("branch.read")
def branches() -> Any:
    """Branches with member and badge counts; the committee adds branches."""
    if request.method == "POST":
        guards.allow("branch.write", branch_code=None)
        context.begin_write()
        org_service().add_branch(request.form.get("code", ""), request.form.get("name", ""),
                          actor=guards.principal().actor())
        context.session().commit()
        flash(_("支部已添加。"))
        return redirect(url_for("admin.branches"))
    rows = visible_branches()
    members = dict(context.session().execute(select(Member.branch_id, func.count()).group_by(Member.branch_id)).all())
    badges_n = dict(context.session().execute(select(Badge.branch_id, func.count()).group_by(Badge.branch_id)).all())
    return render_template("admin/branches.html", rows=rows, members=members, badges_n=badges_n)


@bp.route("/groups", methods=["GET", "POST"])
@guards.console("group.read")
def groups() -> Any:
    """Virtual party groups (by trade or area); the committee adds groups."""
    if request.method == "POST":
        guards.allow("group.write", branch_code=None)
        context.begin_write()
        org_service().add_group(request.form.get("code", ""), request.form.get("name", ""), request.form.get("kind", ""),
                         actor=guards.principal().actor())
        context.session().commit()
        flash(_("党小组已添加。"))
        return redirect(url_for("admin.groups"))
    scope = branch_scope(guards.principal())
    rows = context.session().execute(
        select(PartyGroup).options(selectinload(PartyGroup.members).selectinload(Member.branch))
        .order_by(PartyGroup.code)).scalars().all()
    visible = {g_.id: [m for m in g_.members if scope is None or m.branch.code == scope] for g_ in rows}
    members_q = select(Member).order_by(Member.name).limit(1000)
    if scope:
        members_q = members_q.join(Member.branch).where(Branch.code == scope)
    return render_template("admin/groups.html", rows=rows, visible=visible, kinds=GROUP_KINDS,
                           members=context.session().execute(members_q).scalars().all())


@bp.post("/groups/<int:group_id>/members")
@guards.console("member.write")
def group_assign(group_id: int) -> ResponseReturnValue:
    """Put a member into a group (branch administrators: their own members)."""
    context.begin_write()
    group = context.session().get(PartyGroup, group_id)
    if group is None:
        raise ApiError(404, "not_found", _("没有这个党小组。"))
    raw = request.form.get("member_id", "")
    if not raw.isdigit():
        raise ApiError(400, "invalid_request", _("请选择党员。"))
    member = member_for("member.write", int(raw))
    if group not in member.groups:
        member.groups.append(group)
        audit_log().append(guards.principal().actor(), "group_assign", target=f"member:{member.id}",
                        branch_code=member.branch.code, after={"group": group.code})
    context.session().commit()
    flash(_("已加入党小组。"))
    return redirect(url_for("admin.groups"))


@bp.get("/members")
@guards.console("member.read")
def members() -> str:
    """Members, limited to the user's branch; filter by branch and name."""
    page = page_arg()
    wanted = request.args.get("branch") or None
    if wanted:
        guards.allow("member.read", branch_code=wanted)
    code = branch_scope(guards.principal()) or wanted
    q = (request.args.get("q") or "").strip()[:100]
    query = select(Member).join(Member.branch)
    if code:
        query = query.where(Branch.code == code)
    if q:
        query = query.where(or_(Member.name.like(f"%{q}%"), Member.member_ref.like(f"%{q}%")))
    total = context.session().execute(select(func.count()).select_from(query.subquery())).scalar_one()
    rows = context.session().execute(
        query.options(selectinload(Member.shops), selectinload(Member.groups)).order_by(Member.id.desc())
        .offset((page - 1) * PER_PAGE).limit(PER_PAGE)).scalars().all()
    return render_template("admin/members.html", rows=rows, total=total, page=page, per_page=PER_PAGE,
                           branches=visible_branches(), branch=wanted or "", q=q)


@bp.route("/members/new", methods=["GET", "POST"])
@guards.console("member.write")
def member_new() -> Any:
    """Add a member to a branch (and groups)."""
    if request.method == "GET":
        all_groups = context.session().execute(select(PartyGroup).order_by(PartyGroup.code)).scalars().all()
        return render_template("admin/member_new.html", branches=visible_branches(), groups=all_groups)
    guards.allow("member.write", branch_code=request.form.get("branch", ""))
    context.begin_write()
    member = org_service().add_member(request.form.get("name", ""), request.form.get("branch", ""),
                               actor=guards.principal().actor(), contact=request.form.get("contact"),
                               groups=tuple(request.form.getlist("groups")))
    context.session().commit()
    return redirect(url_for("admin.member", member_id=member.id))


@bp.get("/members/<int:member_id>")
@guards.console("member.read")
def member(member_id: int) -> str:
    """A member with shops and badges; the private contact only for the own branch and the committee."""
    row = member_for("member.read", member_id)
    who = guards.principal()
    show_contact = who.role == "committee" or (who.role == "branch" and who.branch_code == row.branch.code)
    badges_ = context.session().execute(
        select(Badge).where(Badge.shop_id.in_([s.id for s in row.shops] or [-1])).order_by(Badge.updated_at.desc())
    ).scalars().all()
    return render_template("admin/member.html", member=row, show_contact=show_contact, badges=badges_)
