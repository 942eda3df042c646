"""Complaint handling for administrators: console pages and the admin JSON API.

Who sees what (decided with :mod:`verifier.accounts.policy`):

* ``complaint.read`` (committee, auditors, the branch that handles it) opens the
  queue and the detail, scoped to the branch for branch administrators;
* personal data — the shopper's contact, order number and evidence — is shown
  only to those who may *handle* the complaint (``complaint.write`` on its
  branch: that branch and the committee). Auditors read complaints but not
  personal data: an audit needs the handling, not the shopper.
"""

from __future__ import annotations

import logging
from typing import Any

from flask import (
    Blueprint,
    Flask,
    Response,
    flash,
    jsonify,
    make_response,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _

from signer.errors import IllegalTransition, InvalidInput
from signer.lifecycle import public_status
from verifier import context
from verifier.accounts import guards
from verifier.accounts.policy import branch_scope, decide, require
from verifier.complaints.actions import Allow
from verifier.complaints.bursts import is_held
from verifier.complaints.forms import ComplaintForm
from verifier.complaints.present import admin_json
from verifier.complaints.service import CLOSED_STATES, MAX_PAGE, STATES, TRANSITIONS, ComplaintService
from verifier.complaints.views import category_names, state_names, tracking_url
from verifier.console.blueprint import require_confirmation
from verifier.console.forms import refuse
from verifier.errorwords import transition_message
from verifier.extensions import csrf
from verifier.storage.models import Complaint
from verifier.web.errors import ApiError
from verifier.web.requests import json_body

_logger = logging.getLogger(__name__)

console = Blueprint("complaints_admin", __name__, url_prefix="/admin/complaints")
api = Blueprint("complaints_api", __name__, url_prefix="/api/v1/admin/complaints")

_PER_PAGE = 50
#: Held complaints shown in their own section on the queue's first page.
_HELD_SHOWN = 10


def _service() -> ComplaintService:
    return context.complaint_service()


def _allow(principal: object) -> Allow:
    """Return the policy check for ``principal`` (messages for machines: this module serves both)."""

    def allow(action: str, *, branch_code: str | None) -> None:
        require(principal, action, branch_code=branch_code)

    return allow


def may_see_personal_data(principal: object, complaint: Complaint) -> bool:
    """Return whether ``principal`` may see the shopper's contact and evidence."""
    return decide(principal, "complaint.write", branch_code=complaint.branch.code).allowed


def _load(principal: object, number: str) -> Complaint:
    """Return the complaint if ``principal`` may read it; other branches get 403."""
    return context.complaint_actions().get(number, allow=_allow(principal))


def _page() -> int:
    raw = request.args.get("page", "1")
    if not raw.isascii() or not raw.isdigit() or not 1 <= int(raw) <= MAX_PAGE:
        raise ApiError(400, "invalid_request", f"page must be a whole number from 1 to {MAX_PAGE}")
    return int(raw)


def _queue_filters(principal: object) -> tuple[str | None, str | None]:
    status = request.args.get("status") or None
    if status is not None and status not in STATES and status != "open":
        raise ApiError(400, "invalid_request", f"status must be one of {', '.join(STATES)} or open")
    branch = request.args.get("branch") or None
    if branch is not None and "\x00" in branch:  # no branch code holds one; PostgreSQL cannot compare it
        raise ApiError(400, "invalid_request", "branch must not contain NUL characters")
    scope = branch_scope(principal)
    if branch is not None:
        require(principal, "complaint.read", branch_code=branch)
    return status, branch if branch is not None else scope


def _json(principal: object, complaint: Complaint) -> dict[str, Any]:
    return admin_json(complaint, age=_service().age(complaint), personal=may_see_personal_data(principal, complaint),
                      evidence_url=lambda ev: url_for("complaints_admin.evidence", number=complaint.tracking_number,
                                                      evidence_id=ev.id),
                      tracking_url=tracking_url(complaint))


def _change_state(principal: Any, number: str, data: Any) -> Complaint:
    return context.complaint_actions().change_state(number, status=data.get("status"), reply=data.get("reply"),
                                                    note=data.get("note"), actor=principal.actor(),
                                                    allow=_allow(principal))


def _suspend_badge(principal: Any, number: str) -> Complaint:
    """Suspend the complaint's badge while it is investigated; the audit links both ways."""
    return context.complaint_actions().suspend_badge(number, actor=principal.actor(), allow=_allow(principal))


# -- console ----------------------------------------------------------------------------------
def _page_response(html: str) -> Response:
    response = make_response(html)
    response.headers["Cache-Control"] = "no-store"
    return response


@console.get("")
@guards.console("complaint.read")
def queue() -> Response:
    """List complaints with filters and each one's age against the 10-working-day target."""
    principal = guards.principal()
    status, branch = _queue_filters(principal)
    page = _page()
    service = _service()
    only_held = request.args.get("held") == "1"
    actions = context.complaint_actions()
    items, total = actions.queue(branch_code=branch, status=status, page=page, per_page=_PER_PAGE,
                                 held=True if only_held else None)
    # Held complaints sort after the rest; the first page also shows the newest of them in a
    # section of their own, so a flood held for review is never out of the branch's sight.
    held_items: list[Complaint] = []
    held_total = 0
    if page == 1 and not only_held:
        held_items, held_total = actions.queue(branch_code=branch, status=status, page=1, per_page=_HELD_SHOWN,
                                               held=True)
    branches = [] if branch_scope(principal) else context.org_actions().branches()

    html = render_template("admin/complaints/queue.html", items=[(c, service.age(c)) for c in items], total=total,
                           page=page, per_page=_PER_PAGE, status=status or "", branch=branch or "",
                           branches=branches, states=state_names(), categories=category_names(),
                           scoped=branch_scope(principal) is not None, is_held=is_held,
                           held_items=[(c, service.age(c)) for c in held_items], held_total=held_total,
                           only_held=only_held)
    return _page_response(html)


@console.get("/<number>")
@guards.console("complaint.read")
def detail(number: str) -> Response:
    """Show one complaint; contact and evidence only to those who handle it."""
    return _detail_page(_load(guards.principal(), number))


def _detail_page(complaint: Complaint, form: Any = None, *, status: int = 200) -> Response:
    principal = guards.principal()

    next_states = sorted(TRANSITIONS[complaint.state] | {complaint.state}, key=STATES.index)
    if form is None:
        form = ComplaintForm(None, states=[(s, state_names().get(s, s)) for s in next_states],
                             data={"status": complaint.state}, closing=CLOSED_STATES)
    html = render_template(
        "admin/complaints/detail.html", complaint=complaint, age=_service().age(complaint),
        personal=may_see_personal_data(principal, complaint),
        can_write=decide(principal, "complaint.write", branch_code=complaint.branch.code).allowed,
        can_suspend=(decide(principal, "badge.suspend", branch_code=complaint.badge.branch.code).allowed
                     and complaint.badge.state == "active"),
        next_states=next_states, states=state_names(), categories=category_names(),
        tracking_url=tracking_url(complaint), held=is_held(complaint), form=form,
        badge_state=_badge_state(complaint),
    )
    response = _page_response(html)
    response.status_code = status
    return response


def _badge_state(complaint: Complaint) -> str:
    """Return the complained-of badge's state as the console names it (public state, else stored)."""

    badge = complaint.badge
    shown = public_status(badge.state, valid_from=badge.valid_from, valid_until=badge.valid_until,
                          now=context.clock()())
    return shown.value if shown is not None else str(badge.state)


@console.post("/<number>/status")
@guards.console("complaint.write")
def change_status(number: str) -> Response:
    """Change a complaint's state with a public reply and a private note (audited).

    A refused value comes back beside its field with the typed reply and note kept; a change the
    complaint's state does not allow (changed meanwhile) comes back with the reason above the form.
    """

    principal = guards.principal()
    complaint = _load(principal, number)
    states = sorted(TRANSITIONS[complaint.state] | {complaint.state}, key=STATES.index)
    form = ComplaintForm(request.form, states=[(s, state_names().get(s, s)) for s in states], closing=CLOSED_STATES)
    if not form.validate():
        return _detail_page(complaint, form, status=400)
    try:
        complaint = _change_state(principal, number, request.form)
    except InvalidInput as exc:  # the unit of work rolled back: nothing changed
        refuse(form, exc)
        return _detail_page(_load(principal, number), form, status=400)
    except IllegalTransition as exc:
        form.form_errors.append(transition_message(exc))
        return _detail_page(_load(principal, number), form, status=409)
    flash(_("已保存：投诉人在跟踪页面可以看到新的状态和答复。"))
    return redirect(url_for("complaints_admin.detail", number=complaint.tracking_number), code=303)  # type: ignore[return-value]


@console.post("/<number>/suspend-badge")
@guards.console("complaint.write")
def suspend_badge(number: str) -> Response:
    """Suspend the badge while the complaint is investigated (its confirmation box ticked)."""

    require_confirmation()
    principal = guards.principal()
    complaint = _suspend_badge(principal, number)
    return redirect(url_for("complaints_admin.detail", number=complaint.tracking_number), code=303)  # type: ignore[return-value]


@console.get("/<number>/evidence/<int:evidence_id>")
@guards.console("complaint.read")
def evidence(number: str, evidence_id: int) -> Response:
    """Serve an evidence image to the handling branch and the committee only."""
    principal = guards.principal()
    complaint = _load(principal, number)
    if not may_see_personal_data(principal, complaint):
        raise ApiError(403, "forbidden", "evidence is personal data: only the handling branch and the committee")
    item = context.complaint_actions().evidence(complaint, evidence_id)
    response = make_response(item.data)
    response.mimetype = item.content_type
    response.headers["Cache-Control"] = "private, no-store"
    response.headers["Content-Disposition"] = f'inline; filename="{complaint.tracking_number}-{item.id}.jpg"'
    return response


# -- admin JSON API (bearer tokens only: no cookie can drive it, hence no CSRF) ---------------
def _api_json(body: Any, status: int = 200) -> Response:
    response = jsonify(body)
    response.status_code = status
    response.headers["Cache-Control"] = "no-store"
    return response


@api.get("")
@guards.api("complaint.read")
def api_list() -> Response:
    """List complaints: ``?status=&branch=&page=`` → items, page, per_page, total."""
    principal = guards.principal()
    # The console's filter form sends ?status= for "all"; the API documents an enum, so an empty
    # status is refused here rather than read as "no filter".
    if request.args.get("status") == "":
        raise ApiError(400, "invalid_request", f"status must be one of {', '.join(STATES)} or open")
    status, branch = _queue_filters(principal)
    page = _page()
    items, total = context.complaint_actions().queue(branch_code=branch, status=status, page=page,
                                                     per_page=_PER_PAGE)
    return _api_json({"items": [_json(principal, c) for c in items], "page": page, "per_page": _PER_PAGE,
                      "total": total})


@api.get("/<number>")
@guards.api("complaint.read")
def api_detail(number: str) -> Response:
    """Return one complaint (personal data only for those who handle it)."""
    principal = guards.principal()
    return _api_json(_json(principal, _load(principal, number)))


@api.post("/<number>/status")
@guards.api("complaint.write")
def api_status(number: str) -> Response:
    """Change a complaint's state: ``{"status", "reply"?, "note"?}`` → the complaint."""

    principal = guards.principal()
    data = json_body()
    complaint = _change_state(principal, number, data)
    return _api_json(_json(principal, complaint))


@api.post("/<number>/suspend-badge")
@guards.api("complaint.write")
def api_suspend_badge(number: str) -> Response:
    """Suspend the complaint's badge while it is investigated → the complaint."""
    principal = guards.principal()
    complaint = _suspend_badge(principal, number)
    return _api_json(_json(principal, complaint))


def register(app: Flask) -> None:
    """Mount the console pages and the admin API."""
    csrf.exempt(api)
    app.register_blueprint(console)
    app.register_blueprint(api)


# The document's paths for this module's routes (web/openapi.py reads OPENAPI_PATHS off each registered module).
from verifier.complaints.admin_openapi import OPENAPI_PATHS, OPENAPI_SCHEMAS  # noqa: E402, F401
