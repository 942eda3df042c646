"""Console pages for the organisation: branches, virtual party groups, members.

Views parse a form and call the organisation's door (``OrgActions``), which owns each change's
transaction and audit record; a refused value comes back beside its field, the typed values kept.
"""

from __future__ import annotations

import logging
from typing import Any

from flask import Response, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _

from signer.errors import Conflict, InvalidInput
from verifier import context
from verifier.accounts import guards
from verifier.accounts.policy import branch_scope
from verifier.console.blueprint import PER_PAGE, bp, member_for, page_arg, visible_branches
from verifier.console.forms import refuse, refuse_with
from verifier.errorwords import conflict_message, field_message
from verifier.organisation.forms import (
    AssignForm,
    BranchEditForm,
    BranchForm,
    GroupEditForm,
    GroupForm,
    MemberEditForm,
    MemberForm,
)
from verifier.organisation.service import GROUP_KINDS
from verifier.storage.models import Member
from verifier.web.errors import ApiError

_logger = logging.getLogger(__name__)


def _posted(form_class: Any, **kwargs: Any) -> Any:
    return form_class(request.form if request.method == "POST" else None, **kwargs)


def _page(template: str, status: int, **values: Any) -> Response:
    return Response(render_template(template, **values), status=status)


def _save(form: Any, change: Any) -> Any:
    """Run a service change; a refusal goes beside its field (None), else the change's result."""
    try:
        return change()
    except InvalidInput as exc:
        refuse(form, exc)
    except Conflict as exc:  # the code is taken
        refuse_with(form, "code", conflict_message(exc.reason, exc.params))
    return None


# -- organisation -------------------------------------------------------------------------------
@bp.route("/branches", methods=["GET", "POST"])
@guards.console("branch.read")
def branches() -> Any:
    """Branches with member and badge counts; the committee adds branches."""
    form = _posted(BranchForm)
    if request.method == "POST":
        guards.allow("branch.write", branch_code=None)
        if form.validate() and _save(form, lambda: context.org_actions().add_branch(
                form.code.data, form.name.data, actor=guards.principal().actor())) is not None:
            flash(_("支部已添加。"))
            return redirect(url_for("admin.branches"))
    members_n, badges_n = context.org_actions().counts()
    return _page("admin/branches.html", 400 if form.errors else 200, rows=visible_branches(), members=members_n,
                 badges_n=badges_n, form=form)


@bp.route("/groups", methods=["GET", "POST"])
@guards.console("group.read")
def groups() -> Any:
    """Virtual party groups (by trade or area); the committee adds groups."""
    form = _posted(GroupForm)
    if request.method == "POST":
        guards.allow("group.write", branch_code=None)
        if form.validate() and _save(form, lambda: context.org_actions().add_group(
                form.code.data, form.name.data, form.kind.data, actor=guards.principal().actor())) is not None:
            flash(_("党小组已添加。"))
            return redirect(url_for("admin.groups"))
    return _groups_page(form, status=400 if form.errors else 200)


def _groups_page(form: GroupForm, *, status: int = 200, assign: tuple[int, AssignForm] | None = None) -> Response:
    scope = branch_scope(guards.principal())
    service = context.org_actions()
    rows = service.groups()
    visible = {g_.id: [m for m in g_.members if scope is None or m.branch.code == scope] for g_ in rows}
    return _page("admin/groups.html", status, rows=rows, visible=visible, kinds=GROUP_KINDS, form=form,
                 members=service.members_of(scope=scope), assign=assign)


@bp.post("/groups/<int:group_id>/members")
@guards.console("member.write")
def group_assign(group_id: int) -> ResponseReturnValue:
    """Put a member into a group (branch administrators: their own members)."""
    form = AssignForm(request.form)
    if not form.validate():
        return _groups_page(GroupForm(None), status=400, assign=(group_id, form))

    def allow(member: Member) -> None:
        guards.allow("member.write", branch_code=member.branch.code)

    try:
        context.org_actions().assign(group_id, int(form.member_id.data), actor=guards.principal().actor(), allow=allow)
    except InvalidInput as exc:
        refuse_with(form, "member_id", field_message(exc)[1])
        return _groups_page(GroupForm(None), status=400, assign=(group_id, form))
    flash(_("已加入党小组。"))
    return redirect(url_for("admin.groups"))


@bp.get("/members")
@guards.console("member.read")
def members() -> str:
    """Members, limited to the user's branch; filter by branch and name or member number."""
    page = page_arg()
    wanted = request.args.get("branch") or None
    if wanted:
        guards.allow("member.read", branch_code=wanted)
    q = (request.args.get("q") or "").strip()[:100]
    service = context.org_actions()
    rows, total = service.search(branch=branch_scope(guards.principal()) or wanted, q=q or None, page=page,
                                 per_page=PER_PAGE)
    shops = service.badge_ids(rows)
    return render_template("admin/members.html", rows=rows, total=total, page=page, per_page=PER_PAGE,
                           branches=visible_branches(), branch=wanted or "", q=q, badges=shops)


@bp.route("/members/new", methods=["GET", "POST"])
@guards.console("member.write")
def member_new() -> Any:
    """Add a member to a branch (and groups)."""
    form = _posted(MemberForm, branches=[(b.code, f"{b.code} {b.name}") for b in visible_branches()],
                   groups=[(g_.code, g_.name) for g_ in context.org_actions().groups()])
    if request.method == "POST":
        guards.allow("member.write", branch_code=form.branch.data or "")
        if form.validate():
            member = _save(form, lambda: context.org_actions().add_member(
                form.name.data, form.branch.data, actor=guards.principal().actor(), contact=form.contact.data,
                groups=tuple(form.groups.data or ())))
            if member is not None:
                flash(_("党员已添加。"))
                return redirect(url_for("admin.member", member_id=member.id))
    return _page("admin/member_new.html", 400 if form.errors else 200, form=form)


@bp.get("/members/<int:member_id>")
@guards.console("member.read")
def member(member_id: int) -> str:
    """A member with shops and badges; the private contact only for the own branch and the committee."""
    row = member_for("member.read", member_id)
    who = guards.principal()
    show_contact = who.role == "committee" or (who.role == "branch" and who.branch_code == row.branch.code)
    return render_template("admin/member.html", member=row, show_contact=show_contact,
                           badges=context.org_actions().badges_of(row))


# -- edits ----------------------------------------------------------------------------------------
def _edit(form: Any, change: Any, *, title: str, action: str, back: str) -> Any:
    """Save a valid posted edit form through ``change`` and go ``back``; else the form, refusals beside their fields."""
    if request.method == "POST" and form.validate() and _save(form, change) is not None:
        flash(_("已保存。"))
        return redirect(back)
    return _page("admin/org_edit.html", 400 if form.errors else 200, form=form, title=title, action=action,
                 back=back)


@bp.route("/branches/<branch_code>/edit", methods=["GET", "POST"])
@guards.console("branch.read")
def branch_edit(branch_code: str) -> Any:
    """Rename a branch (the committee; others may open the form, as any page they may read)."""
    code = branch_code
    if request.method == "POST":
        guards.allow("branch.write", branch_code=None)
    branch = next((b for b in context.org_actions().branches(scope=code[:64]) if b.code == code), None)
    if branch is None:
        raise ApiError(404, "not_found", _("没有这个支部。"))
    form = _posted(BranchEditForm, data={"name": branch.name})
    return _edit(form, lambda: context.org_actions().edit_branch(code, form.name.data, actor=guards.principal().actor()),
                 title=_("修改支部 %(code)s", code=code), action=url_for("admin.branch_edit", branch_code=code),
                 back=url_for("admin.branches"))


@bp.route("/groups/<group_code>/edit", methods=["GET", "POST"])
@guards.console("group.read")
def group_edit(group_code: str) -> Any:
    """Rename a group or change its kind (the committee; others may open the form, as any page they may read)."""
    code = group_code
    if request.method == "POST":
        guards.allow("group.write", branch_code=None)
    group = next((g_ for g_ in context.org_actions().groups() if g_.code == code), None)
    if group is None:
        raise ApiError(404, "not_found", _("没有这个党小组。"))
    form = _posted(GroupEditForm, data={"name": group.name, "kind": group.kind})
    return _edit(form, lambda: context.org_actions().edit_group(code, form.name.data, form.kind.data,
                                                        actor=guards.principal().actor()),
                 title=_("修改党小组 %(code)s", code=code), action=url_for("admin.group_edit", group_code=code),
                 back=url_for("admin.groups"))


@bp.route("/members/<int:member_id>/edit", methods=["GET", "POST"])
@guards.console("member.write")
def member_edit(member_id: int) -> Any:
    """Correct a member's name and private contact, and set their groups (own branch; the committee: all)."""
    row = member_for("member.write", member_id)
    form = _posted(MemberEditForm, groups=[(g_.code, g_.name) for g_ in context.org_actions().groups()],
                   data={"name": row.name, "contact": row.contact or "", "groups": [g_.code for g_ in row.groups]})

    def allow(member: Member) -> None:
        guards.allow("member.write", branch_code=member.branch.code)

    return _edit(form, lambda: context.org_actions().edit_member(
        member_id, name=form.name.data, contact=form.contact.data, groups=tuple(form.groups.data or ()),
        actor=guards.principal().actor(), allow=allow),
        title=_("修改党员信息"), action=url_for("admin.member_edit", member_id=member_id),
        back=url_for("admin.member", member_id=member_id))
