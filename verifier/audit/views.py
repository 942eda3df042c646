"""The console's audit log page."""

from __future__ import annotations

import logging

from flask import render_template

from verifier.accounts import guards
from verifier.accounts.policy import branch_scope
from verifier.console.blueprint import PER_PAGE, audit_log, bp, page_arg

_logger = logging.getLogger(__name__)


# -- audit log ----------------------------------------------------------------------------------
@bp.get("/audit")
@guards.console("audit.read")
def audit() -> str:
    """The audit log, newest first (branch administrators see their branch's events)."""
    page = page_arg()
    events = audit_log().recent(page=page, per_page=PER_PAGE, branch_code=branch_scope(guards.principal()))
    return render_template("admin/audit.html", events=events, page=page, per_page=PER_PAGE)
