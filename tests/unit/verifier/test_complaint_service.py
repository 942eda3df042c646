"""The complaint service on its own: validation, merging, transitions, working days, purge."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import select

from signer.errors import IllegalTransition, InvalidImage, InvalidInput
from tests.conftest import COMMITTEE
from verifier import context
from verifier.audit.service import AuditLog
from verifier.complaints.service import (
    TRANSITIONS,
    ComplaintForm,
    ComplaintNotFound,
    ComplaintService,
    normalise_text,
    validate,
    working_days_between,
)
from verifier.storage.models import Badge, Complaint


@pytest.fixture
def badge_id(issue_badge):
    return issue_badge()


@pytest.fixture
def service_ctx(app, badge_id):
    # The badge is issued (and committed) first: SQLite allows one writer at a time.
    with app.app_context():
        sess = context.session()
        context.begin_write()
        yield ComplaintService(sess, clock=context.clock(), audit=AuditLog(sess, clock=context.clock()),
                               client_key=b"k" * 32)
        sess.rollback()


@pytest.fixture
def badge(service_ctx, badge_id):
    from signer.ids import parse_badge_id

    return context.session().get(Badge, parse_badge_id(badge_id))


def _form(**kw):
    return ComplaintForm(**{"category": "quality", "description": "坏了", **kw})


@pytest.mark.parametrize("start,end,expected", [
    (date(2026, 11, 25), date(2026, 11, 25), 0),   # same day
    (date(2026, 11, 25), date(2026, 11, 26), 1),   # Wed → Thu
    (date(2026, 11, 27), date(2026, 11, 30), 1),   # Fri → Mon: the weekend does not count
    (date(2026, 11, 28), date(2026, 11, 29), 0),   # Sat → Sun
    (date(2026, 11, 25), date(2026, 12, 9), 10),   # two weeks
    (date(2026, 11, 25), date(2026, 12, 10), 11),
    (date(2026, 12, 9), date(2026, 11, 25), 0),    # reversed
])
def test_working_days(start, end, expected):
    assert working_days_between(start, end) == expected


def test_working_days_match_a_day_by_day_count():
    from datetime import timedelta

    start = date(2026, 1, 1)
    for span in range(0, 40):
        end = start + timedelta(days=span)
        naive = sum(1 for d in range(1, span + 1) if (start + timedelta(days=d)).weekday() < 5)
        assert working_days_between(start, end) == naive, span


def test_normalise_folds_case_width_and_spaces():
    assert normalise_text("  Ｈｅｌｌｏ\n\tWORLD ") == normalise_text("hello world")


@pytest.mark.parametrize("form,field,match", [
    (_form(category="nope"), "category", "category must be one of"),
    (_form(description=None), "description", "description is required"),
    (_form(description=["x"]), "description", "must be text"),
    (_form(description=""), "description", "description is required"),
    (_form(description="a\x00b"), "description", "NUL"),
    (_form(description="长" * 2001), "description", "longer than 2000"),
    (_form(contact=["x"]), "contact", "must be text"),
    (_form(evidence=(b"1", b"2", b"3", b"4")), "evidence", "at most 3"),
])
def test_validation_names_the_field(form, field, match):
    with pytest.raises(InvalidInput, match=match) as info:
        validate(form)
    assert info.value.field == field


def test_blank_optional_fields_become_none():
    cleaned = validate(_form(contact="   ", order_number=""))
    assert cleaned.contact is None and cleaned.order_number is None


def test_file_routes_to_the_issuing_branch(service_ctx, badge):
    filing = service_ctx.file(badge, _form(), client="1.2.3.4", actor=COMMITTEE)
    assert not filing.merged
    assert filing.complaint.branch_id == badge.branch_id and filing.complaint.state == "received"
    assert [e.kind for e in filing.complaint.events] == ["filed"]


def test_bad_image_refuses_the_whole_filing(service_ctx, badge):
    with pytest.raises(InvalidImage, match="not a PNG") as info:
        service_ctx.file(badge, _form(evidence=(b"plain text",)), client="1.2.3.4", actor=COMMITTEE)
    assert info.value.reason == "not_an_image"
    assert context.session().execute(select(Complaint)).first() is None


def test_oversize_evidence_is_refused_by_the_service_too(service_ctx, badge):
    with pytest.raises(InvalidInput, match="at most 5 MB") as info:
        service_ctx.file(badge, _form(evidence=(b"\xff" * (5 * 1024 * 1024 + 1),)), client=None, actor=COMMITTEE)
    assert info.value.field == "evidence"


def test_no_client_means_no_merging(service_ctx, badge):
    a = service_ctx.file(badge, _form(), client=None, actor=COMMITTEE)
    b = service_ctx.file(badge, _form(), client=None, actor=COMMITTEE)
    assert a.complaint.id != b.complaint.id and not b.merged


def test_merge_same_text_same_client(service_ctx, badge):
    a = service_ctx.file(badge, _form(description="Hair dryer broke"), client="1.2.3.4", actor=COMMITTEE)
    b = service_ctx.file(badge, _form(description="hair  DRYER broke"), client="1.2.3.4", actor=COMMITTEE)
    assert b.merged and b.complaint.id == a.complaint.id


@pytest.mark.parametrize("other", [{"contact": "13911112222"}, {"category": "refund"}, {"order_number": "TB-42"}])
def test_two_shoppers_behind_one_address_are_two_complaints(service_ctx, badge, other):
    # A campus or a carrier's NAT: same words, same address, but another contact, category or order.
    a = service_ctx.file(badge, _form(description="假货", contact="13900001111"), client="1.2.3.4", actor=COMMITTEE)
    b = service_ctx.file(badge, _form(description="假货", **{"contact": "13900001111", **other}),
                         client="1.2.3.4", actor=COMMITTEE)
    assert not b.merged and b.complaint.id != a.complaint.id
    for key, value in other.items():
        assert getattr(b.complaint, key) == value


def test_a_repeat_with_a_photo_is_a_new_complaint_that_keeps_the_photo(service_ctx, badge):
    from tests.functional.complaints_support import png_bytes

    a = service_ctx.file(badge, _form(description="假货"), client="1.2.3.4", actor=COMMITTEE)
    b = service_ctx.file(badge, _form(description="假货", evidence=(png_bytes(),)), client="1.2.3.4", actor=COMMITTEE)
    assert not b.merged and b.complaint.id != a.complaint.id
    assert len(b.complaint.evidence) == 1


def test_every_transition_in_the_table_works_and_others_are_refused(service_ctx, badge):
    from verifier.complaints.service import STATES

    for start in STATES:
        for target in STATES:
            complaint = service_ctx.file(badge, _form(description=f"{start}->{target}"), client=None,
                                         actor=COMMITTEE).complaint
            complaint.state = start
            if target in TRANSITIONS[start]:
                service_ctx.change_state(complaint, status=target, actor=COMMITTEE, reply="答复")
                assert complaint.state == target
            else:
                with pytest.raises(IllegalTransition, match="cannot go|already") as info:
                    service_ctx.change_state(complaint, status=target, actor=COMMITTEE)
                assert info.value.state == start and complaint.state == start


def test_same_state_with_a_reply_is_an_answer_not_a_transition(service_ctx, badge):
    complaint = service_ctx.file(badge, _form(), client=None, actor=COMMITTEE).complaint
    service_ctx.change_state(complaint, status="received", reply="已收到，正在核实。", actor=COMMITTEE)
    assert complaint.public_reply == "已收到，正在核实。" and complaint.events[-1].kind == "reply"


def test_closing_sets_closed_at_and_reopening_clears_it(service_ctx, badge, clock):
    complaint = service_ctx.file(badge, _form(), client=None, actor=COMMITTEE).complaint
    service_ctx.change_state(complaint, status="resolved", reply="已处理", actor=COMMITTEE)
    assert complaint.closed_at == clock.now
    service_ctx.change_state(complaint, status="in_progress", actor=COMMITTEE)
    assert complaint.closed_at is None


def test_unknown_tracking_number(service_ctx):
    with pytest.raises(ComplaintNotFound, match="no complaint TS-20261125-ZZZZZ") as info:
        service_ctx.by_tracking_number("ts-20261125-zzzzz")
    assert info.value.tracking_number == "TS-20261125-ZZZZZ" and info.value.code == "not_found"


def test_purge_keeps_open_and_recent_complaints(service_ctx, badge, clock):
    old_closed = service_ctx.file(badge, _form(description="old", contact="c1", order_number="o1"),
                                  client="a", actor=COMMITTEE).complaint
    old_open = service_ctx.file(badge, _form(description="open", contact="c2"), client="a", actor=COMMITTEE).complaint
    service_ctx.change_state(old_closed, status="resolved", reply="已处理", actor=COMMITTEE)
    clock.advance(days=200)
    recent = service_ctx.file(badge, _form(description="recent", contact="c3"), client="a", actor=COMMITTEE).complaint
    service_ctx.change_state(recent, status="rejected", reply="不属于本会处理范围", actor=COMMITTEE)
    clock.advance(days=166)  # old_closed is 366 days closed, recent 166
    counts = service_ctx.purge(retention_days=365, actor=COMMITTEE)
    assert counts == {"complaints": 1, "evidence": 0}
    assert (old_closed.contact, old_closed.order_number, old_closed.personal_data_purged_at) == (None, None, clock.now)
    assert old_closed.description == "old"  # the complaint itself stays for the statistics
    assert old_open.contact == "c2" and recent.contact == "c3"
    with pytest.raises(IllegalTransition, match="cannot go"):
        service_ctx.change_state(old_closed, status="in_progress", actor=COMMITTEE)
    assert service_ctx.purge(retention_days=365, actor=COMMITTEE) == {"complaints": 0, "evidence": 0}


def test_purge_refuses_negative_retention(service_ctx):
    with pytest.raises(InvalidInput, match="must not be negative") as info:
        service_ctx.purge(retention_days=-1, actor=COMMITTEE)
    assert info.value.field == "retention_days"


@pytest.mark.parametrize("target", ["resolved", "rejected"])
def test_closing_needs_a_public_reply_the_shopper_reads(service_ctx, badge, target):
    complaint = service_ctx.file(badge, _form(description=f"close {target}"), client=None, actor=COMMITTEE).complaint
    service_ctx.change_state(complaint, status="in_progress", actor=COMMITTEE)
    for reply in (None, "", "   "):
        with pytest.raises(InvalidInput, match="public reply is required") as info:
            service_ctx.change_state(complaint, status=target, reply=reply, note="内部", actor=COMMITTEE)
        assert info.value.field == "reply" and info.value.kind == "reply_to_close"
        assert complaint.state == "in_progress"
    service_ctx.change_state(complaint, status=target, reply="已与店家核实处理。", actor=COMMITTEE)
    assert complaint.state == target and complaint.public_reply == "已与店家核实处理。"
