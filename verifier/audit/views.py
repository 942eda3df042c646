"""The console's audit log page: who did what, in words, filtered; the raw record one click away."""

from __future__ import annotations

import logging
from zoneinfo import ZoneInfo

from flask import current_app, render_template, request

from verifier.accounts import guards
from verifier.accounts.policy import branch_scope
from verifier.audit.describe import ACTION_NAMES, action_name, describe
from verifier.audit.filters import FILTER_KEYS, BadFilter, parse_filters
from verifier.console.blueprint import PER_PAGE, audit_log, bp, page_arg

_logger = logging.getLogger(__name__)


# -- audit log ----------------------------------------------------------------------------------
@bp.get("/audit")
@guards.console("audit.read")
def audit() -> tuple[str, int]:
    """The audit log, newest first (branch administrators see their branch's events), filtered."""
    page = page_arg()
    scope = branch_scope(guards.principal())
    try:
        where, shown = parse_filters(request.args, ZoneInfo(current_app.config["TIMEZONE"]))
    except BadFilter as exc:
        shown = {key: (request.args.get(key) or "")[:200] for key in FILTER_KEYS}
        return render_template("admin/audit.html", events=[], page=1, per_page=PER_PAGE, shown=shown,
                               filter_error=str(exc), actions=ACTION_NAMES, links={},
                               words=_words), 400
    events = audit_log().recent(page=page, per_page=PER_PAGE, branch_code=scope, where=where)
    links = {key: value for key, value in shown.items() if value}
    if request.args.get("lang"):
        links["lang"] = request.args["lang"][:20]
    return render_template("admin/audit.html", events=events, page=page, per_page=PER_PAGE, shown=shown,
                           filter_error=None, actions=ACTION_NAMES, links=links, words=_words), 200


def _words(event: object) -> dict[str, str]:
    return {"sentence": describe(event), "action": action_name(getattr(event, "action", ""))}
