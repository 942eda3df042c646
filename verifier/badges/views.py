"""Console pages for badges: list, issue, act on one, renew many, decide applications, import a CSV."""

from __future__ import annotations

import logging
from typing import Any

from flask import Response, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _

from signer.errors import Conflict, IllegalTransition, InvalidInput
from signer.ids import format_badge_id
from signer.lifecycle import LISTED_STATES, State, allowed_actions
from verifier import context
from verifier.accounts import guards
from verifier.accounts.policy import branch_scope
from verifier.audit.describe import action_name, actor_words, what
from verifier.badges.forms import ActionForm, IssueForm, RejectForm, RenewManyForm
from verifier.badges.platforms import PLATFORM_NAMES
from verifier.badges.service import IssueRequest
from verifier.console.blueprint import (
    ACTIONS,
    PER_PAGE,
    badge_for,
    bp,
    page_arg,
    reason_names,
    require_confirmation,
    visible_branches,
)
from verifier.console.forms import Confirm, days_of, refuse, refuse_with
from verifier.errorwords import conflict_message, row_message, transition_message
from verifier.verification.record import status_json
from verifier.web.errors import ApiError

_logger = logging.getLogger(__name__)


# -- badges -------------------------------------------------------------------------------------
@bp.get("/badges")
@guards.console("badge.read")
def badges() -> str:
    """Badge list with search (q), filters (branch, status) and pagination."""
    page = page_arg()
    wanted = request.args.get("branch") or None
    if wanted:
        guards.allow("badge.read", branch_code=wanted)
    status = request.args.get("status") or None
    q = (request.args.get("q") or "").strip()[:100] or None
    rows, total = context.badge_actions().search(branch=branch_scope(guards.principal()) or wanted,
                                                 status=status, q=q, page=page, per_page=PER_PAGE)
    now = context.clock()()
    items = [(b, status_json(b, issuer=context.issuer(), now=now)) for b in rows]
    return render_template("admin/badges.html", items=items, total=total, page=page, per_page=PER_PAGE,
                           branches=visible_branches(), q=q or "", status=status or "", branch=wanted or "",
                           states=LISTED_STATES)


def _issue_form() -> IssueForm:
    return IssueForm(request.form if request.method == "POST" else None, platform_names=PLATFORM_NAMES,
                     branches=[(b.code, f"{b.code} {b.name}") for b in visible_branches()])


def _new_page(form: IssueForm, *, namesakes: list[Any] | None = None, status: int = 200) -> Response:
    return Response(render_template("admin/badge_new.html", form=form, namesakes=namesakes or []), status=status)


@bp.route("/badges/new", methods=["GET", "POST"])
@guards.console("badge.issue")
def badge_new() -> Any:
    """Issue a badge (form with a required confirmation).

    A refused value brings the form back inside the console (400, every typed value kept, the
    message beside its field in the user's language). When members of the holder's name exist in
    the branch and the form chose none of them (nor "a new person"), the form comes back listing them.
    """
    form = _issue_form()
    if request.method == "GET":
        return _new_page(form)
    guards.allow("badge.issue", branch_code=form.branch.data or "")
    if not form.validate():
        return _new_page(form, status=400)
    chosen = (form.member.data or "").strip()
    req = IssueRequest(form.holder.data or "", form.shop_name.data or "", form.shop_url.data or "",
                       form.platform.data or "", form.branch.data or "", days_of(form.valid_days),
                       tuple((form.hosts.data or "").split()) or None, form.confirm_foreign_hosts.data is True,
                       int(chosen) if chosen.isdigit() else None, (form.member_ref.data or "").strip() or None)
    try:
        outcome = context.badge_actions().issue_or_namesakes(
            req, actor=guards.principal().actor(), allow=guards.allow,
            new_person=chosen == "new" or request.form.get("new_member") == "yes")
    except InvalidInput as exc:
        refuse(form, exc)
        return _new_page(form, status=400)
    except Conflict as exc:  # one badge per shop
        refuse_with(form, "shop_url", conflict_message(exc.reason, exc.params))
        return _new_page(form, status=409)
    if isinstance(outcome, list):
        return _new_page(form, namesakes=outcome)
    flash(_("徽章已签发。"))
    return redirect(url_for("admin.badge", badge_id=format_badge_id(outcome.id)))


@bp.get("/badges/<badge_id>")
@guards.console("badge.read")
def badge(badge_id: str) -> str:
    """A badge with its history (audit events) and the actions its state allows."""
    row = badge_for("badge.read", badge_id)
    history = [{"at": e.at, "action": action_name(e.action), "who": actor_words(e), "client": e.client,
                "what": what(e)} for e in context.badge_actions().history(format_badge_id(row.id))]
    allowed = [a.value for a in allowed_actions(row.state) if a.value in ACTIONS]
    return render_template("admin/badge.html", badge=row, body=status_json(row, issuer=context.issuer(),
                                                                           now=context.clock()()),
                           history=history, actions=allowed)


def _back_to(row: Any, message: str) -> ResponseReturnValue:
    flash(message, "error")
    return redirect(url_for("admin.badge", badge_id=format_badge_id(row.id)), code=303)


@bp.route("/badges/<badge_id>/act/<action>", methods=["GET", "POST"])
@guards.console("badge.read")
def badge_action(badge_id: str, action: str) -> Any:
    """Confirm (GET) and take (POST) one lifecycle action on a badge.

    An action the badge's state does not allow (it changed meanwhile, or never allowed it) goes
    back to the badge's page with a message in the user's language; nothing changes.
    """
    if action not in ACTIONS:
        raise ApiError(404, "not_found", _("没有这个操作。"))
    row = badge_for(f"badge.{action}", badge_id)
    form = ActionForm(request.form if request.method == "POST" else None, action=action,
                      reason_names=reason_names())
    if request.method == "GET":
        return render_template("admin/confirm.html", badge=row, action=action, form=form)
    if not form.validate():
        return Response(render_template("admin/confirm.html", badge=row, action=action, form=form), status=400)
    try:
        context.badge_actions().change(action, row.id, actor=guards.principal().actor(), allow=guards.allow,
                                       note=(form.note.data or "").strip() or None, reason=form.reason.data or "",
                                       valid_days=days_of(form.valid_days))
    except InvalidInput as exc:
        refuse(form, exc)
        return Response(render_template("admin/confirm.html", badge=row, action=action, form=form), status=400)
    except IllegalTransition as exc:
        return _back_to(row, transition_message(exc))
    except Conflict as exc:
        _logger.info("console action refused: %s", exc.message)
        return _back_to(row, conflict_message(exc.reason, exc.params))
    flash(_("操作已完成。"))
    return redirect(url_for("admin.badge", badge_id=format_badge_id(row.id)))


# -- applications -------------------------------------------------------------------------------
@bp.get("/applications")
@guards.console("application.read")
def applications() -> str:
    """Pending applications in the user's branch (the committee sees every branch)."""
    return _applications()


def _applications(forms: dict[str, RejectForm] | None = None) -> Any:
    rows, total = context.badge_actions().search(branch=branch_scope(guards.principal()),
                                                 status=State.PENDING.value, page=page_arg(), per_page=PER_PAGE)
    page = render_template("admin/applications.html", rows=rows, total=total, forms=forms or {},
                           blank=RejectForm(None))
    return Response(page, status=400) if forms else page


@bp.post("/applications/<badge_id>/<decision>")
@guards.console("application.decide")
def application_decide(badge_id: str, decision: str) -> ResponseReturnValue:
    """Approve (the badge is signed) or reject (with a reason) an application."""
    if decision not in {"approve", "reject"}:
        raise ApiError(404, "not_found", _("没有这个操作。"))
    row = badge_for("application.decide", badge_id)
    form = RejectForm(request.form) if decision == "reject" else Confirm(request.form)
    if not form.validate():
        return _applications({format_badge_id(row.id): form})  # type: ignore[dict-item]
    try:
        context.badge_actions().decide(row.id, approve=decision == "approve", actor=guards.principal().actor(),
                                       allow=guards.allow, reason=getattr(form, "reason", None) and form.reason.data or "")
    except IllegalTransition as exc:  # decided meanwhile by someone else
        flash(transition_message(exc), "error")
        return redirect(url_for("admin.applications"), code=303)
    except Conflict as exc:
        flash(conflict_message(exc.reason, exc.params), "error")
        return redirect(url_for("admin.applications"), code=303)
    flash(_("已批准，徽章已签发。") if decision == "approve" else _("已驳回。"))
    return redirect(url_for("admin.applications"))


@bp.post("/renewals")
@guards.console("badge.renew")
def renew_many() -> ResponseReturnValue:
    """Renew every selected badge in one action (all or none)."""
    form = RenewManyForm(request.form)
    if not form.validate():
        flash(" ".join(form.badge.errors + form.confirm.errors), "error")
        return redirect(url_for("admin.dashboard"), code=303)

    try:
        n = context.badge_actions().renew_many(form.badge.data, actor=guards.principal().actor(), allow=guards.allow)
    except IllegalTransition as exc:
        flash(transition_message(exc), "error")
        return redirect(url_for("admin.dashboard"), code=303)
    flash(_("已续期 %(n)d 枚徽章。", n=n))
    return redirect(url_for("admin.dashboard"))


# -- bulk import --------------------------------------------------------------------------------
@bp.route("/import", methods=["GET", "POST"])
@guards.console("import.read")
def import_page() -> Any:
    """Upload a CSV and preview it: every rejected row with its line number and every reason."""
    if request.method == "GET":
        return render_template("admin/import.html", report=None, token=None)
    guards.allow("import.run", branch_code=None)
    upload = request.files.get("file")
    if upload is None or not upload.filename:
        raise ApiError(400, "invalid_request", _("请选择一个 CSV 文件。"))
    try:
        text = upload.read().decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ApiError(400, "invalid_request", _("文件必须是 UTF-8 编码的 CSV。")) from exc
    who = guards.principal()
    report, token = context.badge_actions().preview(text, actor=who.actor(), user_id=who.user_id,
                                                    branch_scope=branch_scope(who))
    return render_template("admin/import.html", report=report, token=token, row_message=row_message)


@bp.post("/import/commit")
@guards.console("import.run")
def import_commit() -> ResponseReturnValue:
    """Import the previewed file: all rows or none, in one transaction."""
    require_confirmation()
    who = guards.principal()
    report = context.badge_actions().commit_import(request.form.get("token", ""), actor=who.actor(),
                                                   user_id=who.user_id, branch_scope=branch_scope(who))
    if report is None:  # expired, unknown, or another administrator's
        raise ApiError(400, "invalid_request", _("预览已失效，请重新上传文件。"))
    if not report.ok:
        return Response(render_template("admin/import.html", report=report, token=None, row_message=row_message),
                        status=400)
    flash(_("已导入 %(n)d 枚徽章。", n=len(report.issued)))
    return redirect(url_for("admin.badges"))
