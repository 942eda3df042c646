"""Console pages for badges: list, issue, act on one, renew many, decide applications, import a CSV."""

from __future__ import annotations

import logging
from typing import Any

from flask import Response, current_app, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from sqlalchemy import select

from signer.errors import Conflict, IllegalTransition, InvalidInput
from signer.ids import format_badge_id
from signer.lifecycle import State, allowed_actions
from verifier import context
from verifier.accounts import guards
from verifier.accounts.policy import branch_scope
from verifier.badges.service import PLATFORMS, IssueRequest, status_json
from verifier.console.blueprint import (
    ACTIONS,
    PER_PAGE,
    audit_log,
    badge_for,
    bp,
    page_arg,
    require_confirmation,
    visible_branches,
)
from verifier.console.dashboard import STATES
from verifier.console.forms import field_message, kept, transition_message
from verifier.organisation import members
from verifier.storage.models import AuditEvent
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
    rows, total = context.badge_service().search(branch=branch_scope(guards.principal()) or wanted,
                                                 status=status, q=q, page=page, per_page=PER_PAGE)
    now = context.clock()()
    items = [(b, status_json(b, issuer=context.issuer(), now=now)) for b in rows]
    return render_template("admin/badges.html", items=items, total=total, page=page, per_page=PER_PAGE,
                           branches=visible_branches(), q=q or "", status=status or "", branch=wanted or "",
                           states=STATES)


_FORM_FIELDS = ("holder", "shop_name", "shop_url", "platform", "branch", "valid_days", "hosts", "member_ref",
                "confirm_foreign_hosts", "confirm")


def _member_choice(form: Any) -> tuple[int | None, bool]:
    """Return (chosen member id, whether "a new person" was chosen) from the form."""
    raw = (form.get("member") or "").strip()
    if raw == "new" or form.get("new_member") == "yes":
        return None, True
    if not raw:
        return None, False
    if not raw.isdigit() or len(raw) > 10:
        raise InvalidInput("member must be a member id", field="member")
    return int(raw), False


def _days(form: Any) -> int | None:
    days = form.get("valid_days", "").strip()
    if days and (not days.isdigit() or len(days) > 5):
        raise InvalidInput("valid_days must be a whole number", field="valid_days")
    return int(days) if days else None


def _confirmed(form: Any) -> None:
    if form.get("confirm") != "yes":
        raise InvalidInput("confirm the action", field="confirm")


def _new_form(values: dict[str, str], *, namesakes: list[Any] | None = None, errors: dict[str, str] | None = None,
              status: int = 200) -> Response:
    page = render_template("admin/badge_new.html", branches=visible_branches(), platforms=PLATFORMS,
                           values=values, namesakes=namesakes or [], errors=errors or {})
    return Response(page, status=status)


@bp.route("/badges/new", methods=["GET", "POST"])
@guards.console("badge.issue")
def badge_new() -> Any:
    """Issue a badge (form with a required confirmation).

    A name never selects a member: when members of that name exist in the branch and the form
    chose none of them (nor "a new person") and gave no known member number, the form comes back,
    values kept, listing the namesakes to choose from. A refused value brings the form back too
    (400, values kept, the message beside its field in the user's language).
    """
    if request.method == "GET":
        return _new_form({})
    form = request.form
    values = kept(form, _FORM_FIELDS)
    guards.allow("badge.issue", branch_code=form.get("branch", ""))
    try:
        _confirmed(form)
        days = _days(form)
        member, new_person = _member_choice(form)
        member_ref = form.get("member_ref", "").strip() or None
        context.begin_write()
        if member is None and not new_person and not (member_ref and members.by_ref(context.session(), member_ref)):
            found = members.namesakes(context.session(), form.get("branch", ""), form.get("holder", ""))
            if found:
                context.session().rollback()
                return _new_form(values, namesakes=found)
        badge = context.badge_service().issue(
            IssueRequest(form.get("holder", ""), form.get("shop_name", ""), form.get("shop_url", ""),
                         form.get("platform", ""), form.get("branch", ""), days,
                         tuple(form.get("hosts", "").split()) or None,
                         form.get("confirm_foreign_hosts") == "yes", member, member_ref),
            actor=guards.principal().actor())
    except InvalidInput as exc:
        context.session().rollback()
        field, message = field_message(exc)
        return _new_form(values, errors={field: message}, status=400)
    except Conflict:
        context.session().rollback()  # one badge per shop
        return _new_form(values, errors={"shop_url": _("这家店铺已有徽章，请为原徽章续期。")}, status=409)
    context.session().commit()
    flash(_("徽章已签发。"))
    return redirect(url_for("admin.badge", badge_id=format_badge_id(badge.id)))


@bp.get("/badges/<badge_id>")
@guards.console("badge.read")
def badge(badge_id: str) -> str:
    """A badge with its history (audit events) and the actions its state allows."""
    row = badge_for("badge.read", badge_id)
    shown = format_badge_id(row.id)
    history = context.session().execute(
        select(AuditEvent).where(AuditEvent.target == shown).order_by(AuditEvent.seq.desc()).limit(200)
    ).scalars().all()
    allowed = [a.value for a in allowed_actions(row.state) if a.value in ACTIONS]
    return render_template("admin/badge.html", badge=row, body=status_json(row, issuer=context.issuer(),
                                                                           now=context.clock()()),
                           history=history, actions=allowed)


@bp.route("/badges/<badge_id>/act/<action>", methods=["GET", "POST"])
@guards.console("badge.read")
def badge_action(badge_id: str, action: str) -> Any:
    """Confirm (GET) and take (POST) one lifecycle action on a badge."""
    if action not in ACTIONS:
        raise ApiError(404, "not_found", _("没有这个操作。"))
    policy_action = f"badge.{action}"
    row = badge_for(policy_action, badge_id)
    if request.method == "GET":
        return render_template("admin/confirm.html", badge=row, action=action, values={}, errors={})
    service, actor, form = context.badge_service(), guards.principal().actor(), request.form
    values = kept(form, ("note", "reason", "valid_days", "confirm"))
    note = form.get("note") or None
    try:
        _confirmed(form)
        if action == "suspend":
            service.suspend(row.id, actor=actor, note=note)
        elif action == "reinstate":
            service.reinstate(row.id, actor=actor, note=note)
        elif action == "renew":
            service.renew(row.id, actor=actor, valid_days=_days(form))
        else:
            service.revoke(row.id, actor=actor, reason=form.get("reason", ""), note=note)
    except InvalidInput as exc:
        context.session().rollback()
        field, message = field_message(exc)
        page = render_template("admin/confirm.html", badge=row, action=action, values=values,
                               errors={field: message})
        return Response(page, status=400)
    except IllegalTransition as exc:
        # The badge changed state meanwhile (or the action does not apply): back to its page, saying why.
        context.session().rollback()
        flash(transition_message(exc), "error")
        return redirect(url_for("admin.badge", badge_id=format_badge_id(row.id)), code=303)
    except Conflict as exc:
        context.session().rollback()
        flash(_("这条记录刚被别人修改，您的操作没有执行。请刷新后再试。"), "error")
        _logger.info("console action refused: %s", exc.message)
        return redirect(url_for("admin.badge", badge_id=format_badge_id(row.id)), code=303)
    context.session().commit()
    flash(_("操作已完成。"))
    return redirect(url_for("admin.badge", badge_id=format_badge_id(row.id)))


# -- applications -------------------------------------------------------------------------------
@bp.get("/applications")
@guards.console("application.read")
def applications() -> str:
    """Pending applications in the user's branch (the committee sees every branch)."""
    rows, total = context.badge_service().search(branch=branch_scope(guards.principal()),
                                                 status=State.PENDING.value, page=page_arg(), per_page=PER_PAGE)
    return render_template("admin/applications.html", rows=rows, total=total)


@bp.post("/applications/<badge_id>/<decision>")
@guards.console("application.decide")
def application_decide(badge_id: str, decision: str) -> ResponseReturnValue:
    """Approve (the badge is signed) or reject (with a reason) an application."""
    if decision not in {"approve", "reject"}:
        raise ApiError(404, "not_found", _("没有这个操作。"))
    row = badge_for("application.decide", badge_id)
    require_confirmation()
    actor = guards.principal().actor()
    if decision == "approve":
        context.badge_service().approve(row.id, actor=actor)
    else:
        context.badge_service().reject(row.id, actor=actor, note=request.form.get("reason", ""))
    context.session().commit()
    flash(_("已批准，徽章已签发。") if decision == "approve" else _("已驳回。"))
    return redirect(url_for("admin.applications"))




@bp.post("/renewals")
@guards.console("badge.renew")
def renew_many() -> ResponseReturnValue:
    """Renew every selected badge in one action (all or none)."""
    require_confirmation()
    ids = request.form.getlist("badge")
    if not ids or len(ids) > 1000:
        raise ApiError(400, "invalid_request", _("请至少选择一枚徽章（一次最多 1000 枚）。"))
    context.begin_write()
    service = context.badge_service()
    badges = [service.get(raw) for raw in ids]
    for badge in badges:  # check them all first: one refusal and nothing is renewed
        guards.allow("badge.renew", branch_code=badge.branch.code)
    for badge in badges:
        service.renew(badge.id, actor=guards.principal().actor())
    context.session().commit()
    flash(_("已续期 %(n)d 枚徽章。", n=len(badges)))
    return redirect(url_for("admin.dashboard"))


# -- bulk import --------------------------------------------------------------------------------
def _importer() -> Any:
    from verifier.badges.bulk import BulkImporter

    return BulkImporter(context.session(), issuer=context.issuer(), keyring=context.keyring(),
                        clock=context.clock(), audit=audit_log(),
                        status_ttl=int(current_app.config["STATUS_LIST_TTL"]),
                        default_days=int(current_app.config["DEFAULT_VALID_DAYS"]))


@bp.route("/import", methods=["GET", "POST"])
@guards.console("import.read")
def import_page() -> Any:
    """Upload a CSV and preview it: every rejected row with its line number and reason."""
    from verifier.badges.bulk import parse_csv

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
    rows, parse_errors = parse_csv(text)
    report = _importer().run(rows, actor=guards.principal().actor(), dry_run=True,
                             branch_scope=branch_scope(guards.principal()), parse_errors=parse_errors)
    token = None
    if report.ok and rows:
        from verifier.badges import previews

        context.begin_write()  # kept in the database: the commit may reach another instance
        token = previews.keep(context.session(), text, user_id=guards.principal().user_id, now=context.clock()())
        context.session().commit()
    return render_template("admin/import.html", report=report, token=token)


@bp.post("/import/commit")
@guards.console("import.run")
def import_commit() -> ResponseReturnValue:
    """Import the previewed file: all rows or none, in one transaction."""
    from verifier.badges import previews
    from verifier.badges.bulk import parse_csv

    require_confirmation()
    context.begin_write()
    preview = previews.take(context.session(), request.form.get("token", ""),
                            user_id=guards.principal().user_id, now=context.clock()())
    if preview is None:  # expired, unknown, or another administrator's
        context.session().commit()  # the expired ones stay deleted
        raise ApiError(400, "invalid_request", _("预览已失效，请重新上传文件。"))
    rows, parse_errors = parse_csv(preview.csv_text)
    report = _importer().run(rows, actor=guards.principal().actor(), branch_scope=branch_scope(guards.principal()),
                             parse_errors=parse_errors)
    if not report.ok:
        context.session().rollback()
        return Response(render_template("admin/import.html", report=report, token=None), status=400)
    context.session().delete(preview)
    context.session().commit()
    flash(_("已导入 %(n)d 枚徽章。", n=len(report.issued)))
    return redirect(url_for("admin.badges"))
