"""Look-ups of the console pages still being moved onto services (badges/views.py, organisation/views.py).

These open the writer transaction for the view that then commits: exactly what the rest of the
console no longer does. They are kept, unchanged, only so that those two modules work until
the console-forms change moves their transactions into services; then this module goes.
"""

from __future__ import annotations

from flask_babel import gettext as _

from verifier import context
from verifier.accounts import guards
from verifier.storage.models import Badge, Member
from verifier.web.errors import ApiError


def badge_for(action: str, raw_id: str) -> Badge:
    """Return a badge once the policy allows ``action`` on its branch."""
    if not action.endswith(".read"):
        context.begin_write()
    badge = context.badge_service().get(raw_id)
    guards.allow(action, branch_code=badge.branch.code)
    return badge


def member_for(action: str, member_id: int) -> Member:
    """Return a member once the policy allows ``action`` on their branch (404 if unknown)."""
    if not action.endswith(".read"):
        context.begin_write()
    member = context.session().get(Member, member_id)
    if member is None:
        raise ApiError(404, "not_found", _("没有找到这位党员。"))
    guards.allow(action, branch_code=member.branch.code)
    return member
