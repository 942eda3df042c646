"""``liang complaints purge`` removes shoppers' personal data past the retention period."""

from __future__ import annotations

import io

from sqlalchemy import func, select

from tests.functional.complaints_support import file_json, jpeg_with_gps
from verifier import context
from verifier.storage.models import AuditEvent, Complaint, ComplaintEvidence


def _close_all(app, *, days_ago: int, clock) -> None:
    from datetime import timedelta

    with app.app_context():
        context.begin_write()
        for complaint in context.session().execute(select(Complaint)).scalars():
            complaint.state, complaint.closed_at = "resolved", clock.now - timedelta(days=days_ago)
        context.session().commit()


def test_purge_removes_contact_order_number_and_evidence(client, issue_badge, app, run_cli, clock):
    badge_id = issue_badge()
    client.post(f"/api/v1/badges/{badge_id}/complaints", data={
        "category": "quality", "description": "旧投诉", "contact": "13800000000", "order_number": "TB-1",
        "evidence": (io.BytesIO(jpeg_with_gps()), "a.jpg")}, content_type="multipart/form-data")
    file_json(client, badge_id, description="仍在处理", contact="13900000000")
    with app.app_context():
        context.begin_write()
        old = context.session().execute(select(Complaint).where(Complaint.description == "旧投诉")).scalar_one()
        from datetime import timedelta

        old.state, old.closed_at = "resolved", clock.now - timedelta(days=400)
        context.session().commit()
    result = run_cli("complaints", "purge")
    assert result.exit_code == 0, result.stderr
    assert "purged personal data of 1 complaint(s)" in result.stdout and "removed 1 evidence image(s)" in result.stdout
    with app.app_context():
        rows = {c.description: c for c in context.session().execute(select(Complaint)).scalars()}
        assert rows["旧投诉"].contact is None and rows["旧投诉"].order_number is None
        assert rows["旧投诉"].personal_data_purged_at is not None
        assert rows["仍在处理"].contact == "13900000000"
        assert context.session().execute(select(func.count(ComplaintEvidence.id))).scalar_one() == 0
        event = context.session().execute(
            select(AuditEvent).where(AuditEvent.action == "complaint_purge")).scalar_one()
        assert event.after["complaints"] == 1 and event.after["evidence"] == 1
    again = run_cli("complaints", "purge")
    assert again.exit_code == 0 and "of 0 complaint(s)" in again.stdout


def test_purge_honours_days_option(client, issue_badge, app, run_cli, clock):
    file_json(client, issue_badge(), contact="13700000000")
    _close_all(app, days_ago=40, clock=clock)
    assert "of 0 complaint(s)" in run_cli("complaints", "purge").stdout
    assert "of 1 complaint(s)" in run_cli("complaints", "purge", "--days", "30").stdout


def test_purge_rejects_bad_days(run_cli):
    result = run_cli("complaints", "purge", "--days", "-3")
    assert result.exit_code == 2 and "liang:" in result.stderr
