"""Page numbers from query strings are clamped in the services (no OFFSET overflow, no 500)."""

from __future__ import annotations

import pytest

from verifier import context
from verifier.audit.service import AuditLog


@pytest.mark.parametrize("page", [10**23, 2**63, -(10**30), 0])
def test_huge_or_negative_pages_give_an_empty_or_first_page(app, issue_badge, page):
    issue_badge()
    with app.app_context():
        events = AuditLog(context.session(), clock=context.clock()).recent(page=page)
        badges, total = context.badge_service().search(page=page)
    assert total == 1
    if page <= 1:
        assert len(events) >= 1 and len(badges) == 1
    else:
        assert events == [] and badges == []
