"""The administration console under ``/admin/`` (server-rendered, Simplified Chinese first).

Every view is wrapped by :func:`verifier.accounts.guards.console`, which signs the user in
and asks the policy; views tied to one branch's record ask again with its branch. The pages
live with their domain (accounts, badges, organisation, audit) and share one blueprint.
"""

from __future__ import annotations

import logging
from datetime import timedelta

from flask import Flask, render_template

from signer.lifecycle import LISTED_STATES
from verifier import context
from verifier.accounts import guards, users_admin
from verifier.accounts import views as accounts_views
from verifier.accounts.policy import branch_scope
from verifier.audit import views as audit_views
from verifier.badges import views as badges_views
from verifier.console import charts
from verifier.console.blueprint import bp
from verifier.organisation import views as organisation_views

_logger = logging.getLogger(__name__)

#: The domain packages whose console pages hang on the blueprint (imported for their routes).
PAGES = (accounts_views, badges_views, organisation_views, audit_views)


def register(app: Flask) -> None:
    """Mount the console and set the idle timeout."""
    app.permanent_session_lifetime = timedelta(minutes=int(app.config.get("ADMIN_IDLE_MINUTES", 30)))
    app.config["SESSION_REFRESH_EACH_REQUEST"] = True  # idle timeout: each request restarts the clock
    app.register_blueprint(bp)

    users_admin.register(app)  # accounts: disable, enable, reset password, revoke tokens


# -- dashboard ----------------------------------------------------------------------------------
@bp.get("/")
@guards.console("dashboard.read")
def dashboard() -> str:
    """Charts: badges by state and branch, adoption, complaints, verifications per day; renewals due."""
    scope = branch_scope(guards.principal())
    board = context.dashboard_service().build(branch=scope)
    names = dict(board.branches)
    state_bars, state_h = charts.stacked_rows([(names[c], board.by_state[c]) for c in names])
    adoption_bars, adoption_h = charts.ratio_rows([(names[c], *board.adoption[c]) for c in names])
    day_bars = charts.columns(board.per_day)
    expiring = context.badge_actions().expiring(days=30, branch=scope)
    return render_template("admin/dashboard.html", board=board, state_bars=state_bars, state_h=state_h,
                           adoption_bars=adoption_bars, adoption_h=adoption_h, day_bars=day_bars,
                           colours=charts.STATE_COLOURS, states=LISTED_STATES, expiring=expiring,
                           total_verifications=sum(n for _, n in board.per_day))
