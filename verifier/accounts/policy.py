"""Who may do what: the one place that decides (views and API call ``require``)."""

from __future__ import annotations

from dataclasses import dataclass

from verifier.web.errors import ApiError

#: Actions an administrator can take. Reads are ``*.read``; everything else writes.
READ_ACTIONS = frozenset({
    "badge.read", "member.read", "branch.read", "group.read", "complaint.read", "audit.read",
    "dashboard.read", "application.read", "import.read", "token.read", "user.read",
})
WRITE_ACTIONS = frozenset({
    "badge.issue", "badge.suspend", "badge.reinstate", "badge.revoke", "badge.renew",
    "member.write", "branch.write", "group.write", "complaint.write", "application.decide",
    "import.run", "user.write", "token.write", "key.write",
})
#: Actions only the committee may take, whatever the branch.
COMMITTEE_ONLY = frozenset({"branch.write", "group.write", "user.write", "key.write"})


@dataclass(frozen=True)
class Decision:
    """The outcome of a policy check."""

    allowed: bool
    status: int = 200  # 401 not authenticated, 403 refused
    reason: str = ""


def decide(principal: object | None, action: str, *, branch_code: str | None = None) -> Decision:
    """Return whether ``principal`` may take ``action`` on something in ``branch_code``.

    ``branch_code=None`` means the action is not tied to one branch (lists,
    dashboards): branch administrators are then allowed and the caller must
    scope the query to their branch with :func:`branch_scope`.
    """
    if action not in READ_ACTIONS and action not in WRITE_ACTIONS:
        # Fail closed: an action nobody declared is refused for everyone.
        return Decision(False, 403, f"unknown action {action}")
    if principal is None or not getattr(principal, "is_authenticated", False):
        return Decision(False, 401, "authentication required")
    role = getattr(principal, "role", None)
    if role == "committee":
        return Decision(True)
    if role == "auditor":
        return Decision(action in READ_ACTIONS, 403, "auditors can read but not change anything")
    if role == "branch":
        if action in COMMITTEE_ONLY:
            return Decision(False, 403, "only the committee may do this")
        own = getattr(principal, "branch_code", None)
        if own is None:
            return Decision(False, 403, "this account belongs to no branch")
        if branch_code is not None and branch_code != own:
            return Decision(False, 403, "this belongs to another branch")
        return Decision(True)
    return Decision(False, 403, "unknown role")


def require(principal: object | None, action: str, *, branch_code: str | None = None) -> None:
    """Raise a 401/403 ApiError unless the action is allowed."""
    decision = decide(principal, action, branch_code=branch_code)
    if not decision.allowed:
        code = "unauthorized" if decision.status == 401 else "forbidden"
        raise ApiError(decision.status, code, decision.reason)


def branch_scope(principal: object) -> str | None:
    """Return the branch a principal's lists are limited to (None: all branches)."""
    return getattr(principal, "branch_code", None) if getattr(principal, "role", None) == "branch" else None
